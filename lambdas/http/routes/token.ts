import { PATHS } from '../../core/paths.js';
import type { Served, TokenService } from '../../core/tokens/token-service.js';
import type { HttpRequest } from '../message.js';
import { readForm } from '../request.js';
import { json, NO_STORE } from '../responses.js';
import type { Route, RouteContext } from '../router.js';

const credentials = (request: HttpRequest) => ({
  authorization: request.headers.authorization,
  params: readForm(request),
  ...(request.clientCertificate && { certificate: request.clientCertificate }),
});

const served = ({ clientId, response }: Served<unknown>) => ({ ...json(200, response), clientId });

/** `POST /token` (RFC 6749 §4.4, RFC 9068 tokens). */
export const tokenRoutes = (service: TokenService): Route[] => {
  const issueToken = async ({ request, issuer }: RouteContext) => {
    const { dpop } = request.headers;
    const response = served(
      await service.token({ ...credentials(request), ...(dpop !== undefined && { dpop }) }, issuer),
    );
    // RFC 9449 §8.2: the next nonce rides on the success, so the client needs no second try.
    const nonce = dpop === undefined ? undefined : await service.currentDpopNonce();
    return nonce === undefined
      ? response
      : { ...response, headers: { ...response.headers, 'dpop-nonce': nonce } };
  };
  return [{ method: 'POST', path: PATHS.token, cors: true, handle: issueToken }];
};

/** `POST /introspect` (RFC 7662). */
export const introspectionRoutes = (service: TokenService): Route[] => {
  const introspect = async ({ request, issuer }: RouteContext) =>
    served(await service.introspect(credentials(request), issuer));
  return [{ method: 'POST', path: PATHS.introspect, handle: introspect }];
};

/** `POST /revoke` (RFC 7009): 200 with an empty body, whatever the token was. */
export const revocationRoutes = (service: TokenService): Route[] => {
  const revoke = async ({ request, issuer }: RouteContext) => {
    const { clientId } = await service.revoke(credentials(request), issuer);
    return { status: 200, headers: { ...NO_STORE }, clientId };
  };
  return [{ method: 'POST', path: PATHS.revoke, handle: revoke }];
};
