import { PATHS } from '../../core/endpoints.js';
import type { RegistrationService } from '../../core/registration.js';
import type { HttpRequest } from '../message.js';
import { bearerToken, readJsonObject } from '../request.js';
import { json, noContent } from '../responses.js';
import type { Route, RouteContext } from '../router.js';

/** RFC 7591 `POST /register`. */
export const registrationRoutes = (service: RegistrationService): Route[] => [
  {
    method: 'POST',
    path: PATHS.register,
    cors: true,
    handle: async ({ request, issuer }) => {
      const registered = await service.register(
        readJsonObject(request),
        issuer,
        origin(request),
        presentedBearer(request),
      );
      return { ...json(201, registered), clientId: registered.client_id };
    },
  },
];

/**
 * The bearer credential a registration presents: any Authorization header counts, so a
 * malformed one (or another scheme) is refused as a bad token, never taken for no credential.
 */
const presentedBearer = (request: HttpRequest) =>
  request.headers.authorization === undefined ? undefined : (bearerToken(request) ?? '');

const clientId = (context: RouteContext) => context.params.clientId as string;

const origin = (request: HttpRequest) =>
  request.sourceIp !== undefined ? { sourceIp: request.sourceIp } : {};

/** RFC 7592 client configuration endpoint, authorized by the registration access token. */
export const clientConfigurationRoutes = (service: RegistrationService): Route[] => [
  {
    method: 'GET',
    path: PATHS.clientConfiguration,
    cors: true,
    handle: async (context) => ({
      ...json(
        200,
        await service.read(clientId(context), bearerToken(context.request), context.issuer),
      ),
      clientId: clientId(context),
    }),
  },
  {
    method: 'PUT',
    path: PATHS.clientConfiguration,
    cors: true,
    handle: async (context) => {
      const { request, issuer } = context;
      const body = () => readJsonObject(request);
      return json(
        200,
        await service.update(
          clientId(context),
          bearerToken(request),
          body,
          issuer,
          origin(request),
        ),
      );
    },
  },
  {
    method: 'DELETE',
    path: PATHS.clientConfiguration,
    cors: true,
    handle: async (context) => {
      await service.remove(
        clientId(context),
        bearerToken(context.request),
        origin(context.request),
      );
      return noContent();
    },
  },
];
