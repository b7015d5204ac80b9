import { PATHS } from '../lambdas/core/endpoints.js';
import type { Endpoint } from '../lambdas/wiring.js';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** API Gateway's path syntax: `{name}` where the router writes `:name`. */
const apiPath = (path: string) => path.replace(/:([A-Za-z]+)/g, '{$1}');

/**
 * Which API routes reach which function. OPTIONS goes to the function too, so CORS preflights
 * are answered by the same router code in AWS and locally.
 */
export const ENDPOINT_ROUTES: Record<Endpoint, { methods: Method[]; paths: string[] }> = {
  discovery: {
    methods: ['GET'],
    paths: [PATHS.authorizationServerMetadata, PATHS.openidConfiguration].map(apiPath),
  },
  jwks: { methods: ['GET'], paths: [PATHS.jwks] },
  register: { methods: ['POST'], paths: [apiPath(PATHS.register)] },
  'client-configuration': {
    methods: ['GET', 'PUT', 'DELETE'],
    paths: [apiPath(PATHS.clientConfiguration)],
  },
  token: { methods: ['POST'], paths: [PATHS.token] },
  introspect: { methods: ['POST'], paths: [PATHS.introspect] },
  revoke: { methods: ['POST'], paths: [PATHS.revoke] },
};
