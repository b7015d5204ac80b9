import type { ClientLifecycle } from '../clients/client-lifecycle.js';
import { type ClientMetadata, softwareIdKey } from '../clients/client-metadata.js';
import type {
  ClientDirectory,
  ClientFilter,
  ClientRecord,
  RequestOrigin,
} from '../clients/ports.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { invalidRequest, notFound } from '../errors.js';
import type { BlockedSoftware, BlockedSoftwareIds } from '../registration/ports.js';
import { hashSecret, newSecret } from '../secrets.js';
import type { ClientHealth } from './client-health.js';
import {
  activeByMethod,
  activeCounter,
  lastDays,
  STATS_DAYS_KEPT,
  statsReport,
} from './client-statistics.js';
import type { ClientStatistics } from './ports.js';

/** What an operator sees of a client: never a secret, a hash or a token. */
export interface ClientSummary {
  client_id: string;
  client_name?: string;
  software_id?: string;
  software_version?: string;
  registration_method?: string;
  initial_access_token_id?: string;
  grant_types: string[];
  token_endpoint_auth_method: string;
  scope?: string;
  client_id_issued_at: number;
  last_used_at?: number;
  expires_at?: number;
  active_until?: number;
  client_secret_expires_at?: number;
  /** The last change the record knows of (registration, update, rotation): when, by whom. */
  last_change?: { at: number; actor?: string; source_ip?: string };
}

const summary = (r: ClientRecord, activeUntil: number | undefined): ClientSummary => ({
  client_id: r.clientId,
  ...(r.metadata.client_name !== undefined && { client_name: r.metadata.client_name }),
  ...(r.metadata.software_id !== undefined && { software_id: r.metadata.software_id }),
  ...(r.metadata.software_version !== undefined && {
    software_version: r.metadata.software_version,
  }),
  ...(r.registrationMethod !== undefined && { registration_method: r.registrationMethod }),
  ...(r.initialAccessTokenId !== undefined && {
    initial_access_token_id: r.initialAccessTokenId,
  }),
  grant_types: r.metadata.grant_types,
  token_endpoint_auth_method: r.metadata.token_endpoint_auth_method,
  ...(r.metadata.scope !== undefined && { scope: r.metadata.scope }),
  client_id_issued_at: r.clientIdIssuedAt,
  ...(r.lastUsedAt !== undefined && { last_used_at: r.lastUsedAt }),
  ...(r.expiresAt !== undefined && { expires_at: r.expiresAt }),
  ...(activeUntil !== undefined && { active_until: activeUntil }),
  ...(r.secretHash !== undefined && { client_secret_expires_at: r.clientSecretExpiresAt }),
  ...(r.lastChange !== undefined && {
    last_change: {
      at: r.lastChange.at,
      ...(r.lastChange.actor !== undefined && { actor: r.lastChange.actor }),
      ...(r.lastChange.sourceIp !== undefined && { source_ip: r.lastChange.sourceIp }),
    },
  }),
});

/** A registered key, described without its key material. */
export interface KeyDescription {
  kty: string;
  kid?: string;
  alg?: string;
  use?: string;
  crv?: string;
}

/**
 * One client as the operator inspects it: the summary and every registered metadata member
 * (none is a secret: secrets, hashes and registration access tokens are never in the metadata),
 * with where its authorization codes go up front. A `jwks` is described key by key unless the
 * whole set is asked for: it is long, and its presence and key ids are what an operator reads.
 */
export type ClientDetail = ClientSummary &
  Omit<ClientMetadata, 'jwks'> & {
    /** Where the codes go: each redirect URI's host (loopback without the port), or its scheme. */
    redirect_hosts?: string[];
    jwks_keys?: KeyDescription[];
    jwks?: ClientMetadata['jwks'];
    /** Refresh token reuse and repeated registrations (client-health.ts). */
    health: ClientHealth;
  };

/** The host a redirect URI sends codes to: loopback ones match any port; native apps' scheme. */
function redirectHost(uri: string): string {
  const url = URL.parse(uri);
  if (url === null) return uri;
  if (url.protocol === 'https:') return url.host;
  if (url.protocol === 'http:') return url.hostname;
  return url.protocol;
}

const describeKey = (key: Record<string, unknown>): KeyDescription =>
  Object.fromEntries(
    ['kty', 'kid', 'alg', 'use', 'crv'].flatMap((member) =>
      typeof key[member] === 'string' ? [[member, key[member]]] : [],
    ),
  ) as unknown as KeyDescription;

function detail(
  r: ClientRecord,
  activeUntil: number | undefined,
  fullJwks: boolean,
  health: ClientHealth,
): ClientDetail {
  const { jwks, ...metadata } = r.metadata;
  const redirectUris = metadata.redirect_uris ?? [];
  const { client_id, client_name, ...rest } = summary(r, activeUntil);
  return {
    client_id,
    ...(client_name !== undefined && { client_name }),
    ...(redirectUris.length > 0 && {
      redirect_hosts: [...new Set(redirectUris.map(redirectHost))],
      redirect_uris: redirectUris,
    }),
    ...rest,
    ...metadata,
    ...(jwks !== undefined &&
      (fullJwks ? { jwks } : { jwks_keys: jwks.keys.map((key) => describeKey(key)) })),
    health,
  };
}

/** Items read per page of a listing; one bulk step reads at most this many pages. */
const SCAN_PAGE = 500;
const BULK_PAGES = 10;

/** A recount's position: the directory's cursor and the counters so far. */
interface RecountPosition {
  readonly page: string;
  readonly counters: Record<string, number>;
}

/** The cursor comes back from the caller: only active counters with whole counts pass. */
function recountPosition(cursor: string): RecountPosition {
  const position = decodeCursor<Partial<RecountPosition>>(cursor);
  const { page, counters } = position;
  const valid =
    typeof page === 'string' &&
    typeof counters === 'object' &&
    counters !== null &&
    Object.entries(counters).every(
      ([name, n]) => /^active#[\w.-]{1,64}$/.test(name) && Number.isSafeInteger(n) && n >= 0,
    );
  if (!valid) throw invalidRequest('cursor is malformed');
  return { page, counters };
}

/**
 * The operator's registry: list and search, inspect, delete one or many (with a dry run), force a
 * secret rotation with a grace period, and statistics. Expired clients are never shown: they are
 * gone for every purpose.
 */
export class AdminService {
  constructor(
    private readonly lifecycle: ClientLifecycle,
    private readonly directory: ClientDirectory,
    private readonly statistics: ClientStatistics,
    private readonly blockedSoftware?: BlockedSoftwareIds,
  ) {}

  /**
   * The kill switch: the software_id can no longer register (by statement or by body). With
   * deleteClients, its clients are deleted too, one bounded step per call (bulkDelete's): the
   * answer carries next_cursor until the registry has been walked; call bulk-delete to go on.
   */
  async blockSoftware(
    softwareId: string,
    deleteClients: boolean,
    cursor: string | undefined,
    origin: RequestOrigin,
  ) {
    const block = () =>
      this.blockedStore().block(softwareIdKey(softwareId), {
        at: this.lifecycle.clock.now(),
        ...origin,
      });
    const deletion = () => this.bulkDelete({ softwareId }, false, cursor, origin);
    // Blocking first stops new registrations while the clients go. A continuation (cursor)
    // finds the software blocked by the call that gave it, so its deletion goes first: a
    // malformed cursor is refused before anything is written.
    let clients: Awaited<ReturnType<typeof deletion>> | undefined;
    if (deleteClients && cursor !== undefined) clients = await deletion();
    await block();
    if (deleteClients && cursor === undefined) clients = await deletion();
    return { software_id: softwareId, blocked: true, ...(clients && { clients }) };
  }

  async unblockSoftware(softwareId: string): Promise<void> {
    if (!(await this.blockedStore().unblock(softwareIdKey(softwareId)))) {
      throw notFound('this software_id is not blocked');
    }
  }

  /**
   * The blocked software_ids, with when, by whom and from where each was blocked: a page of at
   * least `limit` (up to 10 store pages read to fill it); follow `next_cursor` for more.
   */
  async listBlocked(cursor: string | undefined, limit: number) {
    const position = cursor === undefined ? undefined : decodeCursor<{ c?: unknown }>(cursor).c;
    if (cursor !== undefined && typeof position !== 'string') {
      throw invalidRequest('cursor is malformed');
    }
    const blocked: BlockedSoftware[] = [];
    let next = position as string | undefined;
    for (let pages = 0; pages < BULK_PAGES && blocked.length < limit; pages++) {
      const page = await this.blockedStore().page(next, SCAN_PAGE);
      blocked.push(...page.records);
      next = page.cursor;
      if (next === undefined) break;
    }
    return {
      blocked_software_ids: blocked.map((b) => ({
        software_id: b.softwareId,
        blocked_at: b.at,
        ...(b.actor !== undefined && { blocked_by: b.actor }),
        ...(b.sourceIp !== undefined && { source_ip: b.sourceIp }),
      })),
      ...(next !== undefined && { next_cursor: encodeCursor({ c: next }) }),
    };
  }

  private blockedStore(): BlockedSoftwareIds {
    if (this.blockedSoftware === undefined) throw new Error('no blocked software store wired');
    return this.blockedSoftware;
  }

  private active(records: ClientRecord[]): ClientRecord[] {
    const now = this.lifecycle.clock.now();
    return records.filter((r) => {
      const until = this.lifecycle.activeUntil(r);
      return r.deletion === undefined && (until === undefined || until > now);
    });
  }

  /** One page of matching clients; follow `next_cursor` for more. */
  async list(filter: ClientFilter, cursor: string | undefined, limit: number) {
    const page = await this.directory.page(filter, cursor, Math.min(Math.max(limit, 1), SCAN_PAGE));
    return {
      clients: this.active(page.records).map((r) => summary(r, this.lifecycle.activeUntil(r))),
      ...(page.cursor !== undefined && { next_cursor: page.cursor }),
    };
  }

  /**
   * The active clients that expire within the next `withinSeconds`, soonest first (at most
   * `limit`): from the expiry index, never a scan (ClientDirectory.expiring).
   */
  async expiring(withinSeconds: number, limit: number) {
    const now = this.lifecycle.clock.now();
    const records = await this.directory.expiring(now, now + withinSeconds, limit);
    return {
      clients: this.active(records).map((r) => summary(r, this.lifecycle.activeUntil(r))),
    };
  }

  /** One client in full (see ClientDetail); `fullJwks` includes its registered key set. */
  async get(clientId: string, fullJwks = false): Promise<ClientDetail> {
    const record = await this.lifecycle.findActive(clientId);
    if (!record) throw notFound('no such client');
    const health = await this.statistics.clientHealth(
      record.clientId,
      record.metadataFingerprint,
      this.now(),
    );
    return detail(record, this.lifecycle.activeUntil(record), fullJwks, health);
  }

  async remove(clientId: string, origin: RequestOrigin): Promise<void> {
    const record = await this.lifecycle.findActive(clientId);
    if (!record) throw notFound('no such client');
    await this.deleteRecord(record, origin);
  }

  /**
   * Deletes (or, with dryRun, counts) the matching clients, a bounded step at a time: the answer
   * carries next_cursor until the whole registry has been walked.
   */
  /** The service's clock (integer seconds). */
  now(): number {
    return this.lifecycle.clock.now();
  }

  async bulkDelete(
    filter: ClientFilter,
    dryRun: boolean,
    cursor: string | undefined,
    origin: RequestOrigin,
  ) {
    if (Object.values(filter).every((v) => v === undefined)) {
      throw invalidRequest('bulk deletion needs at least one filter');
    }
    let matched = 0;
    let next = cursor;
    for (let pages = 0; pages < BULK_PAGES; pages++) {
      const page = await this.directory.page(filter, next, SCAN_PAGE);
      const records = this.active(page.records);
      matched += records.length;
      if (!dryRun) await Promise.all(records.map((r) => this.deleteRecord(r, origin)));
      next = page.cursor;
      if (next === undefined) break;
    }
    return {
      matched,
      ...(dryRun ? { dry_run: true } : { deleted: matched }),
      ...(next !== undefined && { next_cursor: next }),
    };
  }

  /**
   * Replaces the client's secret; the old one keeps working for the grace period (0 = not at
   * all), so a fleet can pick up the new one without an outage. The new secret is shown once.
   */
  async rotateSecret(clientId: string, graceSeconds: number, origin: RequestOrigin) {
    const record = await this.lifecycle.findActive(clientId);
    if (!record) throw notFound('no such client');
    if (record.secretHash === undefined) {
      throw invalidRequest('the client authenticates without a client secret');
    }
    const now = this.lifecycle.clock.now();
    const secret = newSecret();
    const clientSecretExpiresAt = this.lifecycle.secretExpiry(now);
    // The old secret keeps working for the grace period, but never past its own expiry.
    const oldSecretEnd = record.clientSecretExpiresAt || Number.POSITIVE_INFINITY;
    const previousValidUntil = Math.min(now + graceSeconds, oldSecretEnd);
    const grace = previousValidUntil > now;
    const previousSecretHash = record.secretHash;
    // Built from the record as it is when written: a use recorded meanwhile is kept.
    await this.lifecycle.replace(record, (stored) => {
      const { previousSecretHash: _, previousSecretValidUntil: __, ...rest } = stored;
      return {
        record: {
          ...rest,
          secretHash: hashSecret(secret),
          clientSecretExpiresAt,
          ...(grace && { previousSecretHash, previousSecretValidUntil: previousValidUntil }),
          version: stored.version + 1,
          lastChange: { at: now, ...origin },
        },
      };
    });
    return {
      client_id: clientId,
      client_secret: secret,
      client_secret_expires_at: clientSecretExpiresAt,
      ...(grace && { previous_secret_valid_until: previousValidUntil }),
    };
  }

  /**
   * Active clients by registration method, and each of the last `days` UTC days' registrations,
   * updates, rotations, deletions and expiries: read from the counters the change events keep
   * (a bounded number of item reads, whatever the number of clients), never by a scan.
   */
  async stats(days: number) {
    const window = lastDays(
      this.lifecycle.clock.now(),
      Math.min(Math.max(days, 1), STATS_DAYS_KEPT),
    );
    return statsReport(await this.statistics.read(window), window);
  }

  /**
   * The software_ids with the most active clients (as the statistics count them: see `stats`),
   * from their counters' one partition, never a scan of the clients.
   */
  async topSoftware(limit: number) {
    const top = await this.statistics.topSoftware(Math.min(Math.max(limit, 1), 100));
    return {
      software_ids: top.map((c) => ({ software_id: c.softwareId, active_clients: c.active })),
    };
  }

  /**
   * Recounts the active clients from the clients themselves — for a registry that had clients
   * before the counters existed, or to correct a double count. A bounded step per call: the
   * counts so far travel in next_cursor; the last step replaces the active counters. Every
   * stored client counts, expired or not, as the counters do until its removal is counted.
   */
  async recount(cursor: string | undefined) {
    const position = cursor === undefined ? undefined : recountPosition(cursor);
    const counters = { ...position?.counters };
    // The software_ids' counts are too many to travel in the cursor: zeroed when the recount
    // starts, each step adds its clients to them.
    if (position === undefined) await this.statistics.resetSoftware();
    let next = position?.page;
    for (let pages = 0; pages < BULK_PAGES; pages++) {
      const page = await this.directory.page({}, next, SCAN_PAGE);
      const software: Record<string, number> = {};
      for (const record of page.records) {
        const name = activeCounter(record.registrationMethod);
        counters[name] = (counters[name] ?? 0) + 1;
        const softwareId = record.metadata.software_id;
        if (softwareId !== undefined) software[softwareId] = (software[softwareId] ?? 0) + 1;
      }
      const now = this.lifecycle.clock.now();
      await this.statistics.add(
        Object.entries(software).map(([id, active]) => ({
          item: `software#${id}` as const,
          deltas: { active },
          at: now,
        })),
      );
      next = page.cursor;
      if (next === undefined) break;
    }
    const counted = Object.values(counters).reduce((a, b) => a + b, 0);
    if (next !== undefined) {
      return { counted, next_cursor: encodeCursor({ page: next, counters }) };
    }
    // Methods the recount no longer finds go to zero.
    const { active } = await this.statistics.read([]);
    const zeroed = Object.fromEntries(Object.keys(active).map((name) => [name, 0]));
    const now = this.lifecycle.clock.now();
    await this.statistics.setActive({ ...zeroed, ...counters }, now);
    return {
      counted,
      active_clients_by_registration_method: activeByMethod(counters),
      recounted_at: now,
    };
  }

  private deleteRecord(record: ClientRecord, origin: RequestOrigin) {
    return this.lifecycle.repository.delete(record.clientId, {
      by: 'operator',
      at: this.lifecycle.clock.now(),
      ...origin,
    });
  }
}
