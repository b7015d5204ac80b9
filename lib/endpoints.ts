import { PATHS } from '../lambdas/core/endpoints.js';
import type { Endpoint } from '../lambdas/wiring.js';

/** API Gateway's path syntax: `{name}` where the router writes `:name`. */
const apiPath = (path: string) => path.replace(/:([A-Za-z]+)/g, '{$1}');

/**
 * Which paths reach which function. Each path is routed with ANY: the function's router
 * answers its methods, CORS preflights and 405 with Allow, exactly as the local server does.
 */
export const ENDPOINT_PATHS: Record<Endpoint, string[]> = {
  discovery: [PATHS.authorizationServerMetadata, PATHS.openidConfiguration],
  jwks: [PATHS.jwks],
  register: [apiPath(PATHS.register)],
  'client-configuration': [apiPath(PATHS.clientConfiguration)],
  token: [PATHS.token],
  introspect: [PATHS.introspect],
  revoke: [PATHS.revoke],
  // The browser's side: the authorization request, the upstream's return, the consent form.
  authorize: [PATHS.authorize, PATHS.callback, PATHS.consent],
  // The operator's API: every path below /admin, behind IAM authorization.
  admin: ['/admin/{proxy+}'],
};

/** Endpoints whose routes require IAM (SigV4) authorization at API Gateway. */
export const IAM_ENDPOINTS: ReadonlySet<Endpoint> = new Set(['admin']);

/** Everything else (unknown paths, RFC 8414 path-inserted metadata) goes to this function. */
export const DEFAULT_ROUTE_ENDPOINT: Endpoint = 'discovery';
