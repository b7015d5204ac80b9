import { PATHS } from '../../core/paths.js';
import type { RegistrationRateLimiter } from '../../core/registration/abuse-control.js';
import type {
  ClientConfigurationService,
  Versioned,
} from '../../core/registration/client-configuration.js';
import type { RegistrationService } from '../../core/registration/registration.js';
import { classify } from '../../core/registration/registration-policy.js';
import type { Writable } from '../../core/writable.js';
import type { HttpRequest, HttpResponse } from '../message.js';
import { bearerToken, readJsonObject } from '../request.js';
import { json, noContent } from '../responses.js';
import type { Route, RouteContext } from '../router.js';

/**
 * RFC 7591 `POST /register`. Abuse control (docs/registration.md): a request presenting no credential is
 * anonymous — counted against the rate limit (when one is set) before anything is written, and
 * held to the redirect policy.
 */
export const registrationRoutes = (
  service: RegistrationService,
  rateLimiter?: RegistrationRateLimiter,
): Route[] => {
  const register = async ({ request, issuer }: RouteContext) => {
    const body = readJsonObject(request);
    // Only a registration that presents nothing counts against the rate limit: one that
    // presents a credential is admitted or refused by it, never downgraded to anonymous.
    const presented = {
      bearer: presentedBearer(request),
      clientCertificate: request.clientCertificate !== undefined,
      softwareStatement: body.software_statement !== undefined && body.software_statement !== null,
    };
    if (rateLimiter !== undefined && classify(presented) === 'open') {
      await rateLimiter.admit(request.sourceIp);
    }
    const registered = await service.register(body, issuer, origin(request), presented);
    const response: Writable<HttpResponse> = json(201, registered);
    response.clientId = registered.client_id;
    return response;
  };
  return [{ method: 'POST', path: PATHS.register, cors: true, handle: register }];
};

/**
 * The bearer credential a registration presents: any Authorization header counts, so a
 * malformed one (or another scheme) is refused as a bad token, never taken for no credential.
 */
const presentedBearer = (request: HttpRequest) =>
  request.headers.authorization === undefined ? undefined : (bearerToken(request) ?? '');

const clientId = (context: RouteContext) => context.params.clientId as string;

/** The registration with its version as a strong ETag, for an update's If-Match. */
const versioned = ({ registration, version }: Versioned) => {
  const response = json(200, registration);
  response.headers.etag = `"${version}"`;
  return response;
};

/**
 * If-Match (RFC 9110 §13.1.1) as the versions it names: undefined when absent or `*` (any
 * current registration); weak or foreign tags name no version, so they never match.
 */
function ifMatch(request: HttpRequest): number[] | undefined {
  const header = request.headers['if-match'];
  if (header === undefined || header.trim() === '*') return undefined;
  return header
    .split(',')
    .map((tag) => /^"(\d{1,15})"$/.exec(tag.trim())?.[1])
    .filter((version): version is string => version !== undefined)
    .map(Number);
}

const origin = (request: HttpRequest) =>
  request.sourceIp !== undefined ? { sourceIp: request.sourceIp } : {};

/** RFC 7592 client configuration endpoint, authorized by the registration access token. */
export const clientConfigurationRoutes = (service: ClientConfigurationService): Route[] => {
  /** §2.1: the registration, with its version as the ETag. */
  const readRegistration = async (context: RouteContext) => {
    const read = await service.read(
      clientId(context),
      bearerToken(context.request),
      context.issuer,
    );
    return { ...versioned(read), clientId: clientId(context) };
  };

  /** §2.2: the body replaces the registered metadata (If-Match: only the version named). */
  const updateRegistration = async (context: RouteContext) => {
    const { request, issuer } = context;
    const body = () => readJsonObject(request);
    const updated = await service.update(
      clientId(context),
      bearerToken(request),
      body,
      issuer,
      origin(request),
      ifMatch(request),
    );
    return { ...versioned(updated), clientId: clientId(context) };
  };

  /** §2.3: the client and its registration access token stop working. */
  const deleteRegistration = async (context: RouteContext) => {
    await service.remove(clientId(context), bearerToken(context.request), origin(context.request));
    return noContent();
  };

  const path = PATHS.clientConfiguration;
  return [
    { method: 'GET', path, cors: true, handle: readRegistration },
    { method: 'PUT', path, cors: true, handle: updateRegistration },
    { method: 'DELETE', path, cors: true, handle: deleteRegistration },
  ];
};
