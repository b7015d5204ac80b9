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
  /** The initial access token that registered the client (its id), if one did. */
  readonly initialAccessTokenId?: string;
  /**
   * The software_id whose active-client count holds this client (a cap was set when it
   * registered); the place is given back under this id when the client leaves.
   */
  readonly countedSoftwareId?: string;
  /** What that token imposed, kept so that an RFC 7592 update cannot widen it. */
  readonly registrationConstraints?: RegistrationConstraints;
  /**
   * The metadata members the software statement set (registered by statement): an RFC 7592
   * update must keep their values.
   */
  readonly statementMembers?: readonly string[];
  /** The `iss` of the software statement that registered the client: who vouched for it. */
  readonly statementIssuer?: string;
  /**
   * The fingerprint of the metadata it registered with (client-health.ts): identical
   * registrations share it, which tells a re-registration loop.
   */
  readonly metadataFingerprint?: string;
  /** The software_id in the form the kill switch compares (softwareIdKey), when there is one. */
  readonly softwareKey?: string;
  /** Who made the last change, for audit events: the caller's address and when. */
  readonly lastChange?: ChangeOrigin;
  /** After an operator's forced rotation: the old secret's hash, accepted until the instant below. */
  readonly previousSecretHash?: string;
  readonly previousSecretValidUntil?: number;
  /** Set just before the item is deleted: who deleted it. A client with it is gone. */
  readonly deletion?: Deletion;
}

/** An initial access token's constraints as they bind its client for life. */
export interface RegistrationConstraints {
  readonly scope?: string;
  readonly softwareId?: string;
  /** The latest expires_at the token allowed (absolute). */
  readonly expiresAtCap?: number;
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
  /**
   * Replaces the record if its stored version is still `record.version - 1`, it was not used
   * since it was read (its `lastUsedAt` is still `record.lastUsedAt`) and no deletion has marked
   * it; else throws a 409. A use does not bump the version: without the second condition, a
   * token issued meanwhile would lose its "last used" (ClientLifecycle.replace retries).
   */
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
  /** Matched in normalised form (softwareIdKey), or exactly on clients stored without one. */
  readonly softwareId?: string;
  readonly clientNamePrefix?: string;
  readonly registrationMethod?: string;
  readonly initialAccessTokenId?: string;
  readonly createdAfter?: number;
  readonly createdBefore?: number;
  readonly lastUsedAfter?: number;
  readonly lastUsedBefore?: number;
  /** The dashboard's search: client_name starts with it, or software_id or client_id is it. */
  readonly search?: string;
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
  /**
   * Up to `limit` stored clients whose item expires (its TTL) in [from, to], soonest first: read
   * from the expiry index, never by a scan.
   */
  expiring(from: number, to: number, limit: number): Promise<ClientRecord[]>;
}

/** Key resolvers for clients' `jwks_uri` (fetched over https only, guarded, bounded, cached). */
export interface RemoteKeySets {
  resolver(uri: string): JWTVerifyGetKey;
}

/**
 * A Client ID Metadata Document client (an https URL as client_id): the document, fetched
 * through the guarded fetcher and validated, as a record that is never stored (public, `none`,
 * `registrationMethod: 'metadata_document'`), or why it cannot be used.
 */
export type MetadataDocumentResult =
  | { readonly client: ClientRecord }
  | { readonly problem: string };

export interface MetadataDocumentSource {
  resolve(url: string): Promise<MetadataDocumentResult>;
}

/**
 * A client certificate the TLS layer verified (API Gateway's mutual TLS against the truststore;
 * locally the server's `DCR_TLS_CLIENT_CA`). Never taken from a header a client could send.
 */
export interface ClientCertificate {
  /** RFC 8705 §3.1: base64url SHA-256 of the certificate's DER, the `cnf` thumbprint. */
  readonly x5tS256: string;
  /** The subject DN in RFC 4514 string form (most specific first: `CN=…,O=…`). */
  readonly subjectDn: string;
  readonly sanDns: readonly string[];
  readonly sanUri: readonly string[];
  readonly sanIp: readonly string[];
  readonly sanEmail: readonly string[];
}
