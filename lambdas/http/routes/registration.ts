import { presentsCredential, type RegistrationRateLimiter } from '../../core/abuse-control.js';
import { PATHS } from '../../core/endpoints.js';
import type { RegistrationService } from '../../core/registration.js';
import type { HttpRequest } from '../message.js';
import { bearerToken, readJsonObject } from '../request.js';
import { json, noContent } from '../responses.js';
import type { Route, RouteContext } from '../router.js';

/**
 * RFC 7591 `POST /register`. Abuse control (issue 10): a request presenting no credential is
 * anonymous — counted against the rate limit (when one is set) before anything is written, and
 * held to the redirect policy.
 */
export const registrationRoutes = (
  service: RegistrationService,
  rateLimiter?: RegistrationRateLimiter,
): Route[] => [
  {
    method: 'POST',
    path: PATHS.register,
    cors: true,
    handle: async ({ request, issuer }) => {
      const body = readJsonObject(request);
      const anonymous = !presentsCredential(request.headers, body);
      if (anonymous) await rateLimiter?.admit(request.sourceIp);
      const registered = await service.register(body, issuer, origin(request), { anonymous });
      return { ...json(201, registered), clientId: registered.client_id };
    },
  },
];

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
