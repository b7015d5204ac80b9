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
  /** Integer seconds after which the client is gone for every purpose; absent = never. */
  readonly expiresAt?: number;
  /** Optimistic-concurrency counter: every replace must name the version it read. */
  readonly version: number;
}

export interface ClientRepository {
  /** Stores a new client; never overwrites an existing client_id. */
  create(record: ClientRecord): Promise<void>;
  /** The stored record, even if expired: callers enforce expiry (see findActiveClient). */
  get(clientId: string): Promise<ClientRecord | undefined>;
  /** Replaces the record if its stored version is still `record.version - 1`, else throws a 409. */
  replace(record: ClientRecord): Promise<void>;
  delete(clientId: string): Promise<void>;
}

export interface Clock {
  /** Integer seconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Math.floor(Date.now() / 1000) };
