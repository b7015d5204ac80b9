import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  AuditedClientRepository,
  type AuditSink,
  jsonLines,
} from '../lambdas/adapters/audited-client-repository.js';
import { AuditedTokenStore } from '../lambdas/adapters/audited-token-store.js';
import { AuditedTrustedIssuers } from '../lambdas/adapters/audited-trusted-issuers.js';
import { CoalescingClientStatistics } from '../lambdas/adapters/coalescing-client-statistics.js';
import { CountedGrantStore } from '../lambdas/adapters/counted-grant-store.js';
import { DynamoDbClientStatistics } from '../lambdas/adapters/dynamodb/dynamodb-client-statistics.js';
import { DynamoDbExpirySweeper } from '../lambdas/adapters/dynamodb/dynamodb-expiry-sweeper.js';
import { DynamoDbFederatedSubjects } from '../lambdas/adapters/dynamodb/dynamodb-federated-subjects.js';
import { FetchedMetadataDocuments } from '../lambdas/adapters/fetch/metadata-documents.js';
import { GuardedRemoteKeySets } from '../lambdas/adapters/fetch/remote-key-sets.js';
import { MemoryBlockedSoftwareIds } from '../lambdas/adapters/memory/memory-blocked-software.js';
import { MemoryClientRepository } from '../lambdas/adapters/memory/memory-client-repository.js';
import { MemoryClientStatistics } from '../lambdas/adapters/memory/memory-client-statistics.js';
import { MemoryFederatedSubjects } from '../lambdas/adapters/memory/memory-federated-subjects.js';
import { MemoryGrantStore } from '../lambdas/adapters/memory/memory-grant-store.js';
import { MemoryInitialAccessTokens } from '../lambdas/adapters/memory/memory-initial-access-tokens.js';
import { MemoryRegistrationCounter } from '../lambdas/adapters/memory/memory-registration-counter.js';
import { MemorySoftwareClientCounts } from '../lambdas/adapters/memory/memory-software-client-counts.js';
import { MemoryTokenStore } from '../lambdas/adapters/memory/memory-token-store.js';
import { MemoryTrustedIssuers } from '../lambdas/adapters/memory/memory-trusted-issuers.js';
import { upstreamLogin } from '../lambdas/adapters/oidc/upstream-oidc.js';
import { LocalSigner } from '../lambdas/adapters/signing/local-signer.js';
import { documentClient, dynamoDbStores } from '../lambdas/aws/dynamodb.js';
import type { Config } from '../lambdas/config.js';
import type { UpstreamLogin } from '../lambdas/core/authorization/ports.js';
import { ClientLifecycle } from '../lambdas/core/clients/client-lifecycle.js';
import type { ClientDirectory, ClientRepository } from '../lambdas/core/clients/ports.js';
import type { Clock } from '../lambdas/core/clock.js';
import { systemClock } from '../lambdas/core/clock.js';
import type { FederatedSubjects } from '../lambdas/core/federation/federated-tokens.js';
import type { TrustedIssuerStore } from '../lambdas/core/federation/ports.js';
import { AdminService } from '../lambdas/core/operator/admin.js';
import type { ClientStatistics } from '../lambdas/core/operator/ports.js';
import type { RegistryArchive } from '../lambdas/core/operator/registry-archive.js';
import type {
  BlockedSoftwareIds,
  InitialAccessTokenStore,
  RegistrationCounter,
  SoftwareClientCounts,
} from '../lambdas/core/registration/ports.js';
import type { GrantStore, TokenStore } from '../lambdas/core/tokens/ports.js';
import { ENDPOINTS } from '../lambdas/functions.js';
import { browserState } from '../lambdas/http/browser-state.js';
import { createRouter, type Route, type Router } from '../lambdas/http/router.js';
import { logger } from '../lambdas/log.js';
import { SETTINGS, type Setting, type SettingName } from '../lambdas/settings.js';
import { type Dependencies, routesFor } from '../lambdas/wiring.js';
import { dashboardRoutes, inProcessAdmin } from './dashboard/routes.js';
import { devLoginRoutes } from './dev-login.js';
import {
  type EmbeddedStore,
  type EmbeddedStoreOptions,
  startEmbeddedStore,
} from './embedded-store.js';
import { LocalCookieKey } from './local-cookie-key.js';
import { startLocalServer } from './server.js';

export interface LocalAppOptions {
  /** `embedded`: dynalite, on disk under dataDir (in memory without one); `memory`: a Map. */
  readonly store: 'embedded' | 'memory';
  readonly clock?: Clock;
  /** Where audit events go; default from DCR_AUDIT_LOG. */
  readonly auditSink?: AuditSink;
  /** Sign-in at an upstream OpenID Provider (else the development login, if configured). */
  readonly upstream?: UpstreamLogin;
  /** `memory` only: the grant store to use (the benchmark seeds codes and refresh families). */
  readonly grants?: GrantStore;
  /**
   * `embedded` only: called with the store's SDK client before the server starts, so tests can
   * add middleware to it (test/support/faults.ts injects throttles, timeouts and errors there).
   */
  readonly instrumentStore?: (client: DynamoDBClient) => void;
  /** `embedded` on disk only: sees the LevelDB database beneath the store before it opens. */
  readonly instrumentStorage?: EmbeddedStoreOptions['instrumentStorage'];
}

function auditSinkFor(config: Config): AuditSink | undefined {
  if (config.auditLog === 'off') return undefined;
  if (config.auditLog === 'stdout') return jsonLines();
  const file = config.auditLog;
  return jsonLines((line) => appendFileSync(file, line));
}

export interface LocalApp {
  readonly issuer: string;
  readonly port: number;
  /**
   * Stops serving (requests in flight are answered, for up to `graceMs`), then flushes the
   * statistics and closes the store, which releases the data folder.
   */
  close(graceMs?: number): Promise<void>;
}

export interface Stores {
  readonly repository: ClientRepository;
  readonly directory: ClientDirectory;
  readonly statistics: ClientStatistics;
  readonly tokenStore: TokenStore;
  readonly grants: GrantStore;
  readonly initialAccessTokens: InitialAccessTokenStore;
  readonly blockedSoftware: BlockedSoftwareIds;
  readonly archive?: RegistryArchive;
  readonly registrationCounter: RegistrationCounter;
  readonly softwareCounts: SoftwareClientCounts;
  readonly trustedIssuerStore: TrustedIssuerStore;
  /** Who got tokens for trusted issuers' assertions (the token store's change feed sums them). */
  readonly federatedSubjects: FederatedSubjects;
  readonly store?: EmbeddedStore;
  readonly stop?: () => Promise<void>;
}

/**
 * dynalite under the data folder, the DynamoDB adapters on it, audit events and counters from
 * the changes (counted whether or not audit events go anywhere), and the same sweep the
 * scheduled Lambda runs (the embedded store never expires items itself).
 */
async function embeddedStores(
  config: Config,
  clock: Clock,
  sink: AuditSink | undefined,
  options: LocalAppOptions,
): Promise<Stores> {
  const path = config.dataDir && join(config.dataDir, 'dynamodb');
  const store = await startEmbeddedStore(config.tableName, path, {
    syncWrites: config.localSyncWrites,
    ...(options.instrumentStorage && { instrumentStorage: options.instrumentStorage }),
  });
  options.instrumentStore?.(store.client);
  const dynamo = documentClient(store.client);
  const stores = dynamoDbStores(config, dynamo);
  const { repository, initialAccessTokens, softwareCounts } = stores;
  const statistics = new CoalescingClientStatistics(
    new DynamoDbClientStatistics(dynamo, config.tableName),
  );
  const audited = new AuditedClientRepository(repository, clock, {
    statistics,
    ...(sink && { sink }),
    caps: { initialAccessTokens, softwareCounts },
  });
  if (!store.previousStopClean) {
    await recountStatistics(config, clock, repository, statistics);
    store.reconciled();
  }
  const federatedSubjects = new DynamoDbFederatedSubjects(dynamo, config.tableName);
  const sweeper = new DynamoDbExpirySweeper(dynamo, config.tableName, clock, audited.expired);
  const interval =
    config.cleanupIntervalSeconds > 0
      ? setInterval(() => {
          sweeper
            .sweep()
            .then((result) => {
              logger.info('cleanup finished', { ...result });
              return store.compact();
            })
            .catch((error: Error) => logger.error('cleanup failed', { error }));
        }, config.cleanupIntervalSeconds * 1000).unref()
      : undefined;
  return {
    ...stores,
    repository: audited,
    directory: repository,
    tokenStore: new AuditedTokenStore(stores.tokenStore, {
      subjects: federatedSubjects,
      ...(sink && { sink }),
    }),
    federatedSubjects,
    ...auditedIssuers(stores.trustedIssuerStore, clock, sink, stores.archive),
    grants: new CountedGrantStore(stores.grants, statistics),
    statistics,
    store,
    stop: async () => {
      clearInterval(interval);
      await statistics.flush();
    },
  };
}

/**
 * After a crash, a kill or a store failure, the statistics (kept off the request path) may have
 * missed changes: recounted from the clients themselves before the server serves, as the
 * operator's recount does.
 */
async function recountStatistics(
  config: Config,
  clock: Clock,
  directory: ClientRepository & ClientDirectory,
  statistics: ClientStatistics,
): Promise<void> {
  const admin = new AdminService(
    new ClientLifecycle(directory, clock, config),
    directory,
    statistics,
  );
  let step = await admin.recount(undefined);
  while (step.next_cursor !== undefined) step = await admin.recount(step.next_cursor);
  logger.info('statistics recounted: the previous stop was not clean', { counted: step.counted });
}

/** Everything in a Map, audited and counted as the embedded store is (the fuzz tests use it too). */
export function memoryStores(clock: Clock, sink?: AuditSink, grants?: GrantStore): Stores {
  const memory = new MemoryClientRepository();
  // Counted in batches off the request path, as the embedded store and the stream in AWS count.
  const statistics = new CoalescingClientStatistics(new MemoryClientStatistics());
  const initialAccessTokens = new MemoryInitialAccessTokens();
  const softwareCounts = new MemorySoftwareClientCounts();
  const federatedSubjects = new MemoryFederatedSubjects();
  return {
    repository: new AuditedClientRepository(memory, clock, {
      statistics,
      ...(sink && { sink }),
      caps: { initialAccessTokens, softwareCounts },
    }),
    directory: memory,
    statistics,
    tokenStore: new AuditedTokenStore(new MemoryTokenStore(clock), {
      subjects: federatedSubjects,
      ...(sink && { sink }),
    }),
    federatedSubjects,
    grants: new CountedGrantStore(grants ?? new MemoryGrantStore(), statistics),
    initialAccessTokens,
    blockedSoftware: new MemoryBlockedSoftwareIds(),
    registrationCounter: new MemoryRegistrationCounter(clock),
    softwareCounts,
    ...auditedIssuers(new MemoryTrustedIssuers(), clock, sink),
  };
}

/**
 * The operator's changes to stored trusted issuers (an import's too), audited as the stream
 * audits them in AWS.
 */
function auditedIssuers(
  store: TrustedIssuerStore,
  clock: Clock,
  sink: AuditSink | undefined,
  archive?: RegistryArchive,
): Pick<Stores, 'trustedIssuerStore' | 'archive'> {
  if (!sink) return { trustedIssuerStore: store, ...(archive && { archive }) };
  const audited = new AuditedTrustedIssuers(store, clock, sink);
  return { trustedIssuerStore: audited, ...(archive && { archive: audited.auditing(archive) }) };
}

/** What the local routes need besides the configuration and the stores. */
export type LocalParts = Pick<
  Dependencies,
  'signer' | 'remoteKeySets' | 'clock' | 'metadataDocuments' | 'cookieKey' | 'upstream'
>;

/** The running server, as the dashboard reaches the admin routes through it (in process). */
export interface LocalServerHandle {
  readonly router: () => Router;
  readonly issuer: () => string;
}

/**
 * Every endpoint's routes over the stores, the development login when no upstream signs users
 * in, and the operator dashboard: both exist only here (no Lambda handler imports them).
 */
export function localRoutes(
  config: Config,
  stores: Stores,
  parts: LocalParts,
  server: LocalServerHandle,
): Route[] {
  const routes = routesFor(ENDPOINTS, {
    config,
    repository: stores.repository,
    directory: stores.directory,
    statistics: stores.statistics,
    tokenStore: stores.tokenStore,
    grants: stores.grants,
    initialAccessTokens: stores.initialAccessTokens,
    blockedSoftware: stores.blockedSoftware,
    ...(stores.archive && { archive: stores.archive }),
    registrationCounter: stores.registrationCounter,
    softwareCounts: stores.softwareCounts,
    trustedIssuerStore: stores.trustedIssuerStore,
    federatedSubjects: stores.federatedSubjects,
    dashboard: config.adminToken !== undefined,
    ...parts,
  });
  if (config.devLogin && !parts.upstream) {
    const browser = browserState(parts.cookieKey, parts.clock, config);
    routes.push(...devLoginRoutes(browser, parts.clock, config.devLogin.users));
  }
  // The dashboard (also in `dcr-admin dashboard`): over the admin routes, in process, with the
  // admin token; closed while there is none.
  routes.push(
    ...dashboardRoutes({
      backend: inProcessAdmin(server.router, server.issuer, config.adminToken ?? ''),
      cookieKey: parts.cookieKey,
      clock: parts.clock,
      sessionLifetimeSeconds: config.sessionLifetimeSeconds,
      signInToken: config.adminToken,
      closedHint:
        'Start the server with DCR_ADMIN_TOKEN set (at least 32 characters), then sign in here with that token.',
    }),
  );
  return routes;
}

/** A file a setting names, read at start: a missing one is a configuration error naming it. */
function readSettingFile(name: SettingName, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : message;
    throw new Error(
      `invalid configuration: ${(SETTINGS[name] as Setting).env}: cannot read ${path} (${why})`,
    );
  }
}

/** The PEM files named by DCR_TLS_* (read once, at start, before anything else starts). */
function readTls(files: NonNullable<Config['tls']>) {
  return {
    cert: readSettingFile('tlsCert', files.cert),
    key: readSettingFile('tlsKey', files.key),
    ...(files.clientCa && { clientCa: readSettingFile('tlsClientCa', files.clientCa) }),
  };
}

/** The whole API on one machine: every Lambda's routes behind one node:http server. */
/**
 * Every local route over the stores, with this machine's signer, fetchers and cookie key (in the
 * data folder); `issuer`: the server's, once it listens.
 */
export function localRouter(
  config: Config,
  stores: Stores,
  clock: Clock,
  issuer: () => string,
  upstream?: UpstreamLogin,
): Router {
  const router: Router = createRouter(
    localRoutes(
      config,
      stores,
      {
        signer: LocalSigner.create(config.signingAlg, config.dataDir),
        remoteKeySets: new GuardedRemoteKeySets(config.trustedFetchOrigins),
        clock,
        metadataDocuments: new FetchedMetadataDocuments({
          clock,
          trustedOrigins: config.trustedFetchOrigins,
        }),
        cookieKey: LocalCookieKey.create(config.dataDir),
        ...(upstream && { upstream }),
      },
      { router: () => router, issuer },
    ),
  );
  return router;
}

export async function startLocalApp(config: Config, options: LocalAppOptions): Promise<LocalApp> {
  const tls = config.tls && readTls(config.tls);
  const clock = options.clock ?? systemClock;
  const sink = options.auditSink ?? auditSinkFor(config);
  const stores: Stores =
    options.store === 'embedded'
      ? await embeddedStores(config, clock, sink, options)
      : memoryStores(clock, sink, options.grants);
  // The upstream OpenID Provider, if configured (its client secret given as such locally).
  const upstream = options.upstream ?? (config.upstream && upstreamLogin(config.upstream, clock));
  let server: Awaited<ReturnType<typeof startLocalServer>> | undefined;
  const router = localRouter(config, stores, clock, () => server?.issuer ?? '', upstream);
  const running = await startLocalServer(router, {
    port: config.port,
    ...(config.issuer && { issuer: config.issuer }),
    ...(tls && { tls }),
  });
  server = running;
  return {
    issuer: running.issuer,
    port: running.port,
    close: async (graceMs) => {
      await running.close(graceMs);
      await stores.stop?.();
      await stores.store?.close();
    },
  };
}
