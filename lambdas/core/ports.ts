import type { JWTVerifyGetKey } from 'jose';
import type { ClientMetadata } from './client-metadata.js';

/** What the store keeps of a registered client. Secrets appear only as hashes. */
export interface ClientRecord {
  readonly clientId: string;
  /** The registered metadata, normalised (defaults applied), exactly as shown to the client. */
  readonly metadata: ClientMetadata;
  readonly clientIdIssuedAt: number;
  /** SHA-256 of the client secret (base64url); absent for public clients. */
  readonly secretHash?: string;
  /** 0 = the secret never expires; only meaningful with secretHash. */
  readonly clientSecretExpiresAt: number;
  readonly registrationTokenHash: string;
  /** The absolute expiry granted (the client's expires_at, capped); absent = none. */
  readonly expiresAt?: number;
  /** The last successful use (token issued), written at most once per interval. */
  readonly lastUsedAt?: number;
  /**
   * When the client stops existing, all rules considered (see ClientLifecycle): the item's TTL.
   * Readers recompute it rather than trust it.
   */
  readonly activeUntil?: number;
  /** Optimistic-concurrency counter: every replace must name the version it read. */
  readonly version: number;
  /** How the client came to be registered (`open`: no initial access token or statement). */
  readonly registrationMethod?: string;
  /** Who made the last change, for audit events: the caller's address and when. */
  readonly lastChange?: ChangeOrigin;
  /** After an operator's forced rotation: the old secret's hash, accepted until the instant below. */
  readonly previousSecretHash?: string;
  readonly previousSecretValidUntil?: number;
  /** Set just before the item is deleted: who deleted it. A client with it is gone. */
  readonly deletion?: Deletion;
}

/** Where a request came from, for the audit trail. */
export interface RequestOrigin {
  readonly sourceIp?: string;
  /**
   * Who acted, on the operator's (admin) requests: the IAM principal's ARN in AWS, `admin-token`
   * for the bearer of the local admin token. Absent when a client acts on itself.
   */
  readonly actor?: string;
}

/** Where a change came from, and when. */
export interface ChangeOrigin extends RequestOrigin {
  readonly at: number;
}

/** Who deleted a client, recorded on the item just before it goes (audit events read it). */
export interface Deletion extends ChangeOrigin {
  readonly by: 'client' | 'operator';
}

export interface ClientRepository {
  /** Stores a new client; never overwrites an existing client_id. */
  create(record: ClientRecord): Promise<void>;
  /** The stored record, even if expired: callers enforce expiry (ClientLifecycle.findActive). */
  get(clientId: string): Promise<ClientRecord | undefined>;
  /** Replaces the record if its stored version is still `record.version - 1`, else throws a 409. */
  replace(record: ClientRecord): Promise<void>;
  /** Deletes the client, recording who did (the stream's old image carries it). */
  delete(clientId: string, deletion: Deletion): Promise<void>;
  /**
   * Records a use: sets lastUsedAt and activeUntil, only if the client still exists and was not
   * marked used after `notUsedSince` (so concurrent uses write once). Never bumps the version.
   */
  touch(
    clientId: string,
    lastUsedAt: number,
    activeUntil: number | undefined,
    notUsedSince: number,
  ): Promise<void>;
}

/** What an operator may search clients by (all given criteria must hold). */
export interface ClientFilter {
  readonly softwareId?: string;
  readonly clientNamePrefix?: string;
  readonly registrationMethod?: string;
  readonly createdAfter?: number;
  readonly createdBefore?: number;
  readonly lastUsedAfter?: number;
  readonly lastUsedBefore?: number;
}

export interface ClientPage {
  readonly records: ClientRecord[];
  /** Opaque; absent on the last page. */
  readonly cursor?: string;
}

/** The operator's view of the registry: a paginated walk over clients matching a filter. */
export interface ClientDirectory {
  /** Reads up to `scanLimit` items from `cursor` on and returns those that match. */
  page(filter: ClientFilter, cursor: string | undefined, scanLimit: number): Promise<ClientPage>;
}

export interface Clock {
  /** Integer seconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Math.floor(Date.now() / 1000) };

/** A public signing key as published in the JWKS. */
export interface PublishedKey {
  readonly kid: string;
  readonly alg: 'RS256' | 'ES256';
  /** The public JWK with kid, alg and use. */
  readonly jwk: Readonly<Record<string, unknown>>;
}

/**
 * Signs JWS signing inputs with the active key (KMS in AWS, a local key otherwise). The private
 * key never leaves the adapter.
 */
export interface Signer {
  /** The active key; resolved once per process. */
  activeKey(): Promise<PublishedKey>;
  /** Every key a verifier may meet: the active one first, then previous ones still published. */
  publishedKeys(): Promise<readonly PublishedKey[]>;
  /** A JOSE-form signature (r||s for ECDSA) of the ASCII signing input, by the active key. */
  sign(signingInput: Buffer): Promise<Buffer>;
}

/** Short-lived token state: revoked access tokens and used client assertion ids. */
export interface TokenStore {
  /** Records a revoked access token until the instant it would have expired anyway. */
  revoke(jti: string, expiresAt: number): Promise<void>;
  isRevoked(jti: string): Promise<boolean>;
  /** Records a client assertion's jti; false if it was already used (a replay). */
  useAssertionId(clientId: string, jti: string, expiresAt: number): Promise<boolean>;
}

/** Key resolvers for clients' `jwks_uri` (fetched over https only, guarded, bounded, cached). */
export interface RemoteKeySets {
  resolver(uri: string): JWTVerifyGetKey;
}

/** A statistics item: the active clients (all time), or one UTC day's events (`day#2026-11-27`). */
export type StatsItem = 'active' | `day#${string}`;

/** One atomic change of one statistics item: each named counter moves by its delta. */
export interface CounterUpdate {
  readonly item: StatsItem;
  /** Counter name (`<counter>#<registration method>`) → delta. */
  readonly deltas: Readonly<Record<string, number>>;
  /** The earliest change counted in it (integer seconds). */
  readonly at: number;
}

/** What the statistics items hold, read in a bounded number of item reads (never a scan). */
export interface StatsSnapshot {
  /** The active item's counters (`active#<method>`). */
  readonly active: Readonly<Record<string, number>>;
  /** When counting began: the first counter update this table saw. */
  readonly countingSince?: number;
  /** When the active counters were last recounted from the clients themselves. */
  readonly recountedAt?: number;
  /** Each requested day (ISO date) that has an item → its counters (`<event>#<method>`). */
  readonly days: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** Counters kept from the change events (ClientStatistics rules in client-statistics.ts). */
export interface ClientStatistics {
  /** Applies the updates: each one atomic on its item, no transaction across items. */
  add(updates: readonly CounterUpdate[]): Promise<void>;
  /** The active item and the items of the given days (ISO dates). */
  read(days: readonly string[]): Promise<StatsSnapshot>;
  /** Sets the active counters to these values (a recount), recording when. */
  setActive(counters: Readonly<Record<string, number>>, at: number): Promise<void>;
}
