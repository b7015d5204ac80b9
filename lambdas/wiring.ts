import { type Config, isInteractive } from './config.js';
import { AuthorizationFlow } from './core/authorization/authorization-flow.js';
import type { CookieKeySource, UpstreamLogin } from './core/authorization/ports.js';
import { ClientAuthenticator } from './core/clients/client-authentication.js';
import { ClientLifecycle } from './core/clients/client-lifecycle.js';
import type {
  ClientDirectory,
  ClientRepository,
  MetadataDocumentSource,
  RemoteKeySets,
} from './core/clients/ports.js';
import type { Clock } from './core/clock.js';
import { AssertionGrants } from './core/federation/assertion-grants.js';
import type { FederatedSubjects } from './core/federation/federated-tokens.js';
import { TrustedIssuerAdministration } from './core/federation/issuer-administration.js';
import type { TrustedIssuerStore } from './core/federation/ports.js';
import { StoredIssuerLookup } from './core/federation/stored-issuers.js';
import { TrustedIssuers } from './core/federation/trusted-issuers.js';
import { AdminService } from './core/operator/admin.js';
import type { ClientStatistics } from './core/operator/ports.js';
import type { RegistryArchive } from './core/operator/registry-archive.js';
import { RegistrationRateLimiter } from './core/registration/abuse-control.js';
import { ClientConfigurationService } from './core/registration/client-configuration.js';
import { InitialAccessTokens } from './core/registration/initial-access-tokens.js';
import type {
  BlockedSoftwareIds,
  InitialAccessTokenStore,
  RegistrationCounter,
  SoftwareClientCounts,
} from './core/registration/ports.js';
import { RegistrationService } from './core/registration/registration.js';
import { TrustedSoftwareStatements } from './core/registration/software-statements.js';
import { jwksMaxAgeSeconds } from './core/signing/keyring.js';
import type { Signer } from './core/signing/ports.js';
import { AccessTokenIssuer, AccessTokenVerifier } from './core/tokens/access-tokens.js';
import { ConnectedApps } from './core/tokens/connected-apps.js';
import type { GrantStore, TokenStore } from './core/tokens/ports.js';
import { DerivedNonces, TokenEndpointProofs } from './core/tokens/token-endpoint-proofs.js';
import { TokenService } from './core/tokens/token-service.js';
import { type RefreshReuseEvent, UserGrants } from './core/tokens/user-grants.js';
import type { Endpoint } from './functions.js';
import { browserState } from './http/browser-state.js';
import type { Route } from './http/router.js';
import { accountRoutes } from './http/routes/account.js';
import { adminRoutes } from './http/routes/admin.js';
import { authorizeRoutes } from './http/routes/authorize.js';
import { discoveryRoutes } from './http/routes/discovery.js';
import { jwksRoutes } from './http/routes/jwks.js';
import { clientConfigurationRoutes, registrationRoutes } from './http/routes/registration.js';
import { introspectionRoutes, revocationRoutes, tokenRoutes } from './http/routes/token.js';
import { logger } from './log.js';
import { parseTrustedIssuer } from './settings.js';

/** Everything the core may need from the outside world: injected, so AWS and local share it. */
export interface Dependencies {
  readonly config: Config;
  readonly repository: ClientRepository;
  /** The operator's listing over the same clients. */
  readonly directory: ClientDirectory;
  /** Counters kept from the change events (stats without a scan). */
  readonly statistics: ClientStatistics;
  readonly tokenStore: TokenStore;
  /** Authorization codes and refresh token families. */
  readonly grants: GrantStore;
  /** Initial access tokens (registration checks and counts them, the operator issues them). */
  readonly initialAccessTokens: InitialAccessTokenStore;
  readonly signer: Signer;
  readonly remoteKeySets: RemoteKeySets;
  /** The software_id kill switch (docs/registration.md). */
  readonly blockedSoftware: BlockedSoftwareIds;
  /** The registry's items for export and import (absent in the in-memory mode). */
  readonly archive?: RegistryArchive;
  readonly clock: Clock;
  /**
   * Client ID Metadata Documents, used when `config.clientIdMetadataDocuments` is on. Required
   * of the endpoints that resolve clients by URL, so no function can leave it out by mistake.
   */
  readonly metadataDocuments: MetadataDocumentSource;
  /** The secret keying the browser's sealed cookies. */
  readonly cookieKey: CookieKeySource;
  /** The upstream OpenID Provider users sign in at; absent = the development login (local). */
  readonly upstream?: UpstreamLogin;
  /** Abuse control: counters of anonymous registrations (used when a rate limit is set). */
  readonly registrationCounter: RegistrationCounter;
  /** Abuse control: active clients per software_id (used when a cap is set). */
  readonly softwareCounts: SoftwareClientCounts;
  /** Whether the operator's dashboard is served here (locally, with an admin token). */
  readonly dashboard?: boolean;
  /** Trusted issuers the operator adds and removes at runtime (the admin API). */
  readonly trustedIssuerStore: TrustedIssuerStore;
  /** Who got tokens for trusted issuers' assertions (the operator's listing). */
  readonly federatedSubjects?: FederatedSubjects;
}

type RegistrationDeps = Pick<Dependencies, 'config' | 'repository' | 'clock'>;
/** Registration itself also verifies software statements, checks blocked software_ids and initial access tokens. */
type RegisterDeps = RegistrationDeps &
  Pick<
    Dependencies,
    | 'remoteKeySets'
    | 'blockedSoftware'
    | 'initialAccessTokens'
    | 'registrationCounter'
    | 'softwareCounts'
  >;
type AuthorizeDeps = Pick<
  Dependencies,
  'config' | 'repository' | 'clock' | 'grants' | 'cookieKey' | 'upstream' | 'metadataDocuments'
>;
type TokenDeps = Pick<
  Dependencies,
  | 'config'
  | 'repository'
  | 'tokenStore'
  | 'grants'
  | 'signer'
  | 'remoteKeySets'
  | 'clock'
  | 'metadataDocuments'
  | 'trustedIssuerStore'
> & {
  /** Refresh token reuse, counted in the client's health. */
  readonly statistics: Pick<ClientStatistics, 'add'>;
};

const lifecycle = (d: RegistrationDeps & Partial<Pick<Dependencies, 'metadataDocuments'>>) =>
  new ClientLifecycle(
    d.repository,
    d.clock,
    d.config,
    d.config.clientIdMetadataDocuments ? d.metadataDocuments : undefined,
  );

/** RFC 7592: a client's own registration, under the rules it registered by (the kill switch too). */
const clientConfigurationService = (d: RegistrationDeps & Pick<Dependencies, 'blockedSoftware'>) =>
  new ClientConfigurationService(lifecycle(d), d.config, d.blockedSoftware);

/** RFC 7591: software statements verified against the configured issuers; blocked software refused. */
const registrationService = (d: RegisterDeps) =>
  new RegistrationService(lifecycle(d), d.config, {
    ...(d.config.softwareStatementIssuers.size > 0 && {
      statements: new TrustedSoftwareStatements(d.config.softwareStatementIssuers, d.remoteKeySets),
    }),
    blocked: d.blockedSoftware,
    initialAccessTokens: new InitialAccessTokens(d.initialAccessTokens, d.config.region),
    softwareCounts: d.softwareCounts,
  });

/** Abuse control: the anonymous registration rate limit, when configured (docs/registration.md "Abuse control"). */
const registrationRateLimiter = (d: RegisterDeps) =>
  d.config.registrationRateLimit &&
  new RegistrationRateLimiter(
    d.registrationCounter,
    d.clock,
    d.config.registrationRateLimit,
    (error) =>
      logger.warn('registration rate limit unavailable; admitted (fail-open)', {
        error: error.description,
      }),
  );

/**
 * One cache of stored issuers per store and process: where the admin API runs beside the token
 * path (the local server), the operator's changes reach it at once.
 */
const lookups = new WeakMap<TrustedIssuerStore, StoredIssuerLookup>();
const storedIssuerLookup = (d: Pick<Dependencies, 'config' | 'clock' | 'trustedIssuerStore'>) => {
  let lookup = lookups.get(d.trustedIssuerStore);
  if (lookup === undefined) {
    lookup = new StoredIssuerLookup(
      d.trustedIssuerStore,
      d.clock,
      d.config.trustedIssuerCacheSeconds,
      (iss, definition) => {
        const parsed = parseTrustedIssuer(iss, definition, d.config);
        if ('issuer' in parsed) return parsed.issuer;
        logger.error('stored trusted issuer ignored', { issuer: iss, problem: parsed.problem });
        return undefined;
      },
    );
    lookups.set(d.trustedIssuerStore, lookup);
  }
  return lookup;
};

/** Workload identity and ID-JAGs: the configured trusted issuers, then the stored ones. */
const federation = (d: TokenDeps, issuer: AccessTokenIssuer) => {
  const trusted = new TrustedIssuers(
    d.config.trustedIssuers,
    d.remoteKeySets,
    storedIssuerLookup(d),
  );
  const grants = new AssertionGrants(trusted, d.tokenStore, issuer, d.clock, d.config);
  return { trusted, grants };
};

const tokenService = (d: TokenDeps) => {
  const clients = lifecycle(d);
  const issuer = new AccessTokenIssuer(d.signer);
  return new TokenService(
    new ClientAuthenticator(clients, d.tokenStore, d.remoteKeySets),
    issuer,
    new AccessTokenVerifier(d.signer),
    clients,
    d.tokenStore,
    d.config,
    new UserGrants(d.grants, issuer, clients, d.config, refreshReuse(d.statistics)),
    new TokenEndpointProofs(
      d.tokenStore,
      d.clock,
      d.config.dpopNonce ? new DerivedNonces(d.signer, d.clock) : undefined,
    ),
    federation(d, issuer),
  );
};

/**
 * A refresh token's reuse: absorbed within the grace window (routine for clients that refresh
 * concurrently), or ending its family (a stolen token, or a client that lost its successor).
 * Logged, and counted in the client's health (one counter write, on these paths only; a failed
 * count is logged, never the request's failure).
 */
const refreshReuse =
  (statistics: Pick<ClientStatistics, 'add'>) => async (event: RefreshReuseEvent) => {
    logger[event.type === 'refresh.reuse_absorbed' ? 'info' : 'warn'](event.type, { audit: event });
    // The counter is named after the event: reuse_absorbed, family_revoked_by_reuse.
    const deltas = { [event.type.slice('refresh.'.length)]: 1 };
    await statistics
      .add([{ item: `client#${event.client_id}`, deltas, at: event.occurred_at }])
      .catch((error: Error) => logger.error('client health not counted', { error }));
  };

/**
 * The authorization endpoint and the users' connected-apps page, when someone can sign users
 * in: the upstream if there is one, else the development login (whose own routes only the local
 * app adds). A user's revocation is an audit line in the log, as a refresh token's reuse is.
 */
export const authorizeEndpoint = (d: AuthorizeDeps) => {
  if (d.upstream === undefined && d.config.devLogin === undefined) return [];
  const browser = browserState(d.cookieKey, d.clock, d.config);
  return [
    ...authorizeRoutes(
      new AuthorizationFlow(lifecycle(d), d.grants, d.config),
      browser,
      d.upstream,
      d.config.serviceLogo,
    ),
    ...accountRoutes(
      new ConnectedApps(d.grants, d.clock, d.config, (event) =>
        logger.info(event.type, { audit: event }),
      ),
      browser,
      d.upstream,
      d.clock,
      d.config.defaultAudience,
    ),
  ];
};

/*
 * Each deployed function's routes, from exactly the dependencies it needs: one export each, so
 * that a function's bundle (its handler imports its own) carries no other endpoint's code.
 */
export const discoveryEndpoint = (d: Pick<Dependencies, 'config' | 'dashboard'>) =>
  discoveryRoutes({
    ...d.config,
    interactive: isInteractive(d.config),
    trustedIssuerKinds: [...d.config.trustedIssuers.values()].map((i) => i.kind),
    dashboard: d.dashboard === true,
  });
export const jwksEndpoint = (d: Pick<Dependencies, 'signer' | 'config'>) =>
  jwksRoutes(
    d.signer,
    d.config.signingMode === 'wrapped' ? jwksMaxAgeSeconds(d.config) : undefined,
  );
export const registerEndpoint = (d: RegisterDeps) =>
  registrationRoutes(registrationService(d), registrationRateLimiter(d));
export const clientConfigurationEndpoint = (
  d: RegistrationDeps & Pick<Dependencies, 'blockedSoftware'>,
) => clientConfigurationRoutes(clientConfigurationService(d));
export const tokenEndpoint = (d: TokenDeps) => tokenRoutes(tokenService(d));
export const introspectEndpoint = (d: TokenDeps) => introspectionRoutes(tokenService(d));
export const revokeEndpoint = (d: TokenDeps) => revocationRoutes(tokenService(d));
export const adminEndpoint = (
  d: RegistrationDeps &
    Pick<
      Dependencies,
      | 'directory'
      | 'statistics'
      | 'blockedSoftware'
      | 'initialAccessTokens'
      | 'archive'
      | 'trustedIssuerStore'
      | 'federatedSubjects'
    >,
) =>
  adminRoutes(
    new AdminService(lifecycle(d), d.directory, d.statistics, d.blockedSoftware),
    d.config.adminToken,
    new InitialAccessTokens(d.initialAccessTokens, d.config.region),
    d.archive && { store: d.archive, clock: d.clock },
    new TrustedIssuerAdministration(
      d.trustedIssuerStore,
      d.config.trustedIssuers,
      (iss, definition) => parseTrustedIssuer(iss, definition, d.config),
      d.clock,
      (iss) => storedIssuerLookup(d).forget(iss),
    ),
    d.federatedSubjects,
  );

/** Every endpoint's routes by name (the local app serves them all). */
const ENDPOINT_ROUTES = {
  discovery: discoveryEndpoint,
  jwks: jwksEndpoint,
  register: registerEndpoint,
  'client-configuration': clientConfigurationEndpoint,
  token: tokenEndpoint,
  authorize: authorizeEndpoint,
  introspect: introspectEndpoint,
  revoke: revokeEndpoint,
  admin: adminEndpoint,
} satisfies Record<Endpoint, (deps: never) => Route[]>;

/** One endpoint's routes (its export above). */
export type EndpointRoutes<E extends Endpoint> = (typeof ENDPOINT_ROUTES)[E];

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (
  x: infer I,
) => void
  ? I
  : never;

/** The dependencies a set of endpoints needs together. */
export type DependenciesOf<E extends Endpoint> = UnionToIntersection<
  Parameters<(typeof ENDPOINT_ROUTES)[E]>[0]
>;

export function routesFor<E extends Endpoint>(endpoints: readonly E[], deps: DependenciesOf<E>) {
  return endpoints.flatMap((endpoint) =>
    (ENDPOINT_ROUTES[endpoint] as (d: DependenciesOf<E>) => Route[])(deps),
  );
}
