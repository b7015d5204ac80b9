import type { Config } from './config.js';
import { AccessTokenIssuer, AccessTokenVerifier } from './core/access-tokens.js';
import { ClientAuthenticator } from './core/client-authentication.js';
import type { ClientRepository, Clock, RemoteKeySets, Signer, TokenStore } from './core/ports.js';
import { RegistrationService } from './core/registration.js';
import { TokenService } from './core/token-service.js';
import type { Route } from './http/router.js';
import { discoveryRoutes } from './http/routes/discovery.js';
import { jwksRoutes } from './http/routes/jwks.js';
import { clientConfigurationRoutes, registrationRoutes } from './http/routes/registration.js';
import { introspectionRoutes, revocationRoutes, tokenRoutes } from './http/routes/token.js';

/** What the core needs from the outside world: injected, so AWS and local share every route. */
export interface Dependencies {
  readonly config: Config;
  readonly repository: ClientRepository;
  readonly tokenStore: TokenStore;
  readonly signer: Signer;
  readonly remoteKeySets: RemoteKeySets;
  readonly clock: Clock;
}

/** One entry per deployed Lambda function; the local server serves them all. */
export const ENDPOINTS = [
  'discovery',
  'jwks',
  'register',
  'client-configuration',
  'token',
  'introspect',
  'revoke',
] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

/** Endpoints that sign or verify tokens, and so need the signing key. */
export const SIGNING_ENDPOINTS: ReadonlySet<Endpoint> = new Set([
  'jwks',
  'token',
  'introspect',
  'revoke',
]);

export function routesFor(endpoints: readonly Endpoint[], deps: Dependencies): Route[] {
  const { config, repository, clock } = deps;
  const registration = () => new RegistrationService(repository, clock, config);
  const tokens = () =>
    new TokenService(
      new ClientAuthenticator(repository, clock, deps.tokenStore, deps.remoteKeySets),
      new AccessTokenIssuer(deps.signer),
      new AccessTokenVerifier(deps.signer),
      repository,
      deps.tokenStore,
      clock,
      config,
    );
  const byEndpoint: Record<Endpoint, () => Route[]> = {
    discovery: () => discoveryRoutes(config),
    jwks: () => jwksRoutes(deps.signer),
    register: () => registrationRoutes(registration()),
    'client-configuration': () => clientConfigurationRoutes(registration()),
    token: () => tokenRoutes(tokens()),
    introspect: () => introspectionRoutes(tokens()),
    revoke: () => revocationRoutes(tokens()),
  };
  return endpoints.flatMap((endpoint) => byEndpoint[endpoint]());
}
