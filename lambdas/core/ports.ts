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
  /** The active key: fixed per process for KMS and local keys; wrapped keys rotate. Cheap. */
  activeKey(): Promise<PublishedKey>;
  /** Every key a verifier may meet: the active one first, then the others still published. */
  publishedKeys(): Promise<readonly PublishedKey[]>;
  /**
   * A JOSE-form signature (r||s for ECDSA) of the ASCII signing input, by the key `kid` (as
   * activeKey() named it: the header already says it) or, without one, the active key.
   */
  sign(signingInput: Buffer, kid?: string): Promise<Buffer>;
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

/** Who signed in: the token's `sub`, and when they authenticated. */
export interface UserIdentity {
  readonly sub: string;
  readonly authTime: number;
}

/** What the upstream round trip needs kept (sealed in the browser's transaction cookie). */
export interface UpstreamPending {
  readonly nonce: string;
  readonly codeVerifier: string;
}

export type UpstreamOutcome =
  | { readonly identity: UserIdentity }
  /** denied: the user or the provider said no; unavailable: try again; invalid: never redirect. */
  | { readonly failure: 'denied' | 'unavailable' | 'invalid'; readonly detail: string };

/** Sign-in delegated to an upstream OpenID Provider (openid-client in the adapter). */
export interface UpstreamLogin {
  /** Where to send the browser (state, nonce and PKCE included). */
  begin(input: {
    readonly state: string;
    readonly redirectUri: string;
    readonly forceLogin: boolean;
  }): Promise<{ readonly location: string; readonly pending: UpstreamPending }>;
  /** Completes the round trip from the callback URL (state, nonce, PKCE and `iss` verified). */
  finish(
    callbackUrl: URL,
    expected: UpstreamPending & { readonly state: string; readonly redirectUri: string },
  ): Promise<UpstreamOutcome>;
}

/**
 * An authorization code as stored: keyed by the code's hash (the code itself is shown once, in
 * the redirect), single use, short-lived, bound to everything the token request must repeat.
 */
export interface AuthorizationCodeRecord {
  readonly codeHash: string;
  readonly clientId: string;
  /** The redirect URI of the authorization request, normalised (the token request must match). */
  readonly redirectUri: string;
  /** PKCE S256 challenge. */
  readonly codeChallenge: string;
  /** RFC 8707 resources granted; empty = the default audience. */
  readonly resources: readonly string[];
  readonly scope?: string;
  readonly sub: string;
  readonly authTime: number;
  /** The grant (refresh token family) its tokens belong to: reuse of the code revokes it. */
  readonly grantId: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
  /**
   * Multi-region: the region that made it (the server's DCR_REGION); it is used there only
   * (docs/deployment.md "Multi-region"). Absent: not pinned.
   */
  readonly homeRegion?: string;
}

export type CodeRedemption =
  /** Redeemed now: the code is spent. */
  | { readonly outcome: 'redeemed'; readonly code: AuthorizationCodeRecord }
  /** Spent before, and presented again by the same client: its grant must be revoked. */
  | { readonly outcome: 'reused'; readonly code: AuthorizationCodeRecord }
  /** Unknown, expired, or not bound to what was presented: nothing happens. */
  | { readonly outcome: 'refused' }
  /** Bound as presented, but a resource asked for was not granted (RFC 8707): nothing happens. */
  | { readonly outcome: 'not-granted'; readonly resource: string };

/** What a code redemption must present: the binding of the authorization request. */
export interface CodeBinding {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  /** The resources the token request names (RFC 8707): each must be among the code's. */
  readonly resources: readonly string[];
  /** Multi-region: the redeeming server's region; a code made in another is refused. */
  readonly region?: string;
}

/**
 * A grant: what a user allowed a client, and its refresh token family. Only the current refresh
 * token's hash is valid; the previous ones are remembered so that their reuse (a stolen token
 * replayed after rotation) revokes the whole family (RFC 9700 §4.14.2).
 */
export interface GrantRecord {
  readonly grantId: string;
  readonly clientId: string;
  readonly sub: string;
  readonly scope?: string;
  readonly resources: readonly string[];
  readonly authTime: number;
  readonly createdAt: number;
  /** The family ends here, whatever its use. */
  readonly absoluteExpiresAt: number;
  /** The last rotation (or creation): idle expiry counts from it. */
  readonly lastUsedAt: number;
  readonly generation: number;
  readonly currentHash: string;
  readonly previousHashes: readonly string[];
  /**
   * The current refresh token sealed under a key only its parent's holder can derive, kept while
   * a reuse grace window is configured (docs/tokens.md "Concurrent refreshes").
   */
  readonly sealedSuccessor?: string;
  readonly revokedAt?: number;
  /**
   * Multi-region: the region that made it (the server's DCR_REGION); it is used there only
   * (docs/deployment.md "Multi-region"). Absent: not pinned.
   */
  readonly homeRegion?: string;
}

/** A rotation: the next refresh token of a family. */
export interface Rotation {
  readonly currentHash: string;
  readonly previousHashes: readonly string[];
  readonly generation: number;
  readonly lastUsedAt: number;
  /** The new token sealed under the one it replaces; absent without a grace window. */
  readonly sealedSuccessor?: string;
  /** When the family expires after this rotation (absolute or idle, the earlier). */
  readonly expiresAt: number;
}

/**
 * Authorization codes and grants (refresh token families). Every write is one conditional
 * single-item operation (the embedded store has no transactions), so two concurrent
 * redemptions or rotations cannot both succeed.
 */
export interface GrantStore {
  /**
   * Marks an authorization transaction's consent as answered: true the first time, false ever
   * after (kept until `expiresAt`, the transaction's end), so a replayed form mints nothing.
   */
  consentOnce(transactionId: string, expiresAt: number): Promise<boolean>;
  putCode(code: AuthorizationCodeRecord): Promise<void>;
  /** Spends the code if it exists, is unspent, unexpired and bound to what is presented. */
  redeemCode(codeHash: string, binding: CodeBinding, now: number): Promise<CodeRedemption>;
  /** Stores a new grant (never overwrites); false if one exists (revoked meanwhile). */
  createGrant(grant: GrantRecord, expiresAt: number): Promise<boolean>;
  /** The grant, or a revocation tombstone (`revokedAt` set), or undefined. */
  getGrant(grantId: string): Promise<GrantRecord | RevokedGrant | undefined>;
  /** Rotates if the family's current hash is still `presentedHash` and it is not revoked. */
  rotateRefresh(grantId: string, presentedHash: string, next: Rotation): Promise<boolean>;
  /**
   * Revokes the family and every access token issued under it, keeping the record (a tombstone
   * when there was none) until `keepUntil`, when every such access token has expired.
   */
  revokeGrant(grantId: string, at: number, keepUntil: number): Promise<void>;
}

/** What is left of a grant revoked before it had refresh tokens: enough to refuse its tokens. */
export interface RevokedGrant {
  readonly grantId: string;
  readonly revokedAt: number;
}

/** The secret that keys browser cookies: a Secrets Manager secret in AWS, a file locally. */
export interface CookieKeySource {
  /** At least 32 bytes; read once per process (container) and cached by the caller. */
  key(): Promise<Uint8Array>;
}

/**
 * A statistics item: the active clients (all time), one UTC day's events (`day#2026-11-27`), or
 * one software_id's active clients (`software#<software_id>`, counter `active`).
 */
export type StatsItem = 'active' | `day#${string}` | `software#${string}`;

/** A software_id and its active clients, as the statistics count them. */
export interface SoftwareCount {
  readonly softwareId: string;
  readonly active: number;
}

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
  /**
   * The software_ids with the most active clients, most first (at most `limit`, counts above
   * zero): one read of the software counters' own partition, never a scan of the clients.
   */
  topSoftware(limit: number): Promise<SoftwareCount[]>;
  /** Sets every software_id's count to zero (a recount starts; its steps add them up again). */
  resetSoftware(): Promise<void>;
}

/**
 * An initial access token as stored (docs/architecture.md "Storage", `iat#<id>`): the token itself is
 * `<id>.<secret>`, shown once; only the SHA-256 of the whole token is kept.
 */
export interface InitialAccessTokenRecord {
  readonly id: string;
  readonly tokenHash: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Absent = unlimited uses until expiry. */
  readonly maxUses?: number;
  readonly uses: number;
  /** Space-separated scopes its clients may register; absent = the tier's. */
  readonly scope?: string;
  /** The software_id its clients get (a different one is refused). */
  readonly softwareId?: string;
  /** Cap on its clients' lifetime. */
  readonly clientLifetimeSeconds?: number;
  /** Cap on its clients alive at once; absent = no cap. */
  readonly maxActiveClients?: number;
  /** Its clients alive now: added to by each use, given back as they leave (absent = 0). */
  readonly activeClients?: number;
  readonly description?: string;
  /** Who created it (the admin actor). */
  readonly createdBy?: string;
  /**
   * Multi-region: the region that made it (the server's DCR_REGION); it is used there only
   * (docs/deployment.md "Multi-region"). Absent: not pinned.
   */
  readonly homeRegion?: string;
}

export interface InitialAccessTokenPage {
  readonly records: InitialAccessTokenRecord[];
  readonly cursor?: string;
}

/**
 * Initial access tokens. `use` is ONE conditional single-item update (no transaction): unspent
 * uses, unexpired, the same hash and a place under its active-client cap, counted atomically,
 * so N uses (or a cap of N) admit exactly N callers.
 */
export interface InitialAccessTokenStore {
  /** Stores a new token (never overwrites). */
  create(record: InitialAccessTokenRecord): Promise<void>;
  /** The token by id (a strongly consistent read), or undefined. */
  get(id: string): Promise<InitialAccessTokenRecord | undefined>;
  /**
   * Counts one use if the token still exists with this hash, is unexpired at `now` and has uses
   * left; returns the record after the use, or undefined when it could not be used.
   */
  use(id: string, tokenHash: string, now: number): Promise<InitialAccessTokenRecord | undefined>;
  /**
   * Gives back one active-client place (a client it registered left); never below zero, and
   * nothing when the token is gone.
   */
  release(id: string): Promise<void>;
  /** Deletes (revokes) the token; false if there was none. */
  delete(id: string): Promise<boolean>;
  /** A page of tokens (reads up to `scanLimit` items). */
  page(cursor: string | undefined, scanLimit: number): Promise<InitialAccessTokenPage>;
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

/** A software statement whose signature, issuer and claims were verified (RFC 7591 §2.3). */
export interface VerifiedStatement {
  readonly issuer: string;
  readonly softwareId: string;
  readonly claims: Readonly<Record<string, unknown>>;
}

/**
 * Verifies software statements; throws OAuthError `invalid_software_statement` or
 * `unapproved_software_statement`. Filled in by the statements work; unwired = none accepted.
 */
export interface SoftwareStatements {
  verify(statement: string, now: number): Promise<VerifiedStatement>;
}

/**
 * The software_id kill switch: software the operator has blocked cannot register, by statement
 * or by body. One item per blocked software_id (`blocked#<software_id>`).
 */
export interface BlockedSoftwareIds {
  isBlocked(softwareId: string): Promise<boolean>;
  /** Blocks (idempotent), recording who did and when. */
  block(softwareId: string, origin: ChangeOrigin): Promise<void>;
  /** Unblocks; false if it was not blocked. */
  unblock(softwareId: string): Promise<boolean>;
}

/**
 * The active clients of each software_id, kept only when a cap is set. `claim` is
 * one conditional atomic add (below the cap, or refused), so a cap of N admits exactly N.
 */
export interface SoftwareClientCounts {
  /**
   * Takes one place under `cap` for the software_id; false when it is full. The count is kept
   * at least until `keepUntil` (epoch seconds; absent = for ever): every client it counts is
   * gone by then.
   */
  claim(softwareId: string, cap: number, keepUntil?: number): Promise<boolean>;
  /** Gives one place back; never below zero. */
  release(softwareId: string): Promise<void>;
}

/**
 * Fixed-window counters of anonymous registrations (abuse control): one atomic add per call,
 * no read. The counter and its window live until `expiresAt` (epoch seconds), then vanish.
 */
export interface RegistrationCounter {
  /** Adds one hit to the counter `key` and returns its count after the add. */
  hit(key: string, expiresAt: number): Promise<number>;
}

/**
 * A signing key of the wrapped mode as the keyring lists it: public parts only (docs/architecture.md
 * "Storage", `keyring#signing`). Its private half is stored apart, wrapped by KMS.
 */
export interface KeyringEntry {
  readonly kid: string;
  readonly alg: PublishedKey['alg'];
  /** The public JWK as published (kid, alg, use included). */
  readonly jwk: Readonly<Record<string, unknown>>;
  readonly createdAt: number;
  /** It signs from this instant on, until the next key activates. */
  readonly activatesAt: number;
  /** Set when its successor is made: it leaves the JWKS then (its last tokens have expired). */
  readonly expiresAt?: number;
}

/** The keyring: one small item, read strongly consistent, replaced under its version. */
export interface Keyring {
  readonly version: number;
  readonly keys: readonly KeyringEntry[];
}

/** What a function that only publishes or verifies reads: the keyring, nothing private. */
export interface KeyringReader {
  readKeyring(): Promise<Keyring | undefined>;
}

/** The token function's reads: the keyring, and a key's wrapped private half. */
export interface SigningKeyReader extends KeyringReader {
  /** The KMS ciphertext of the key's private half (PKCS#8 DER once unwrapped). */
  readWrappedKey(kid: string): Promise<Uint8Array | undefined>;
}

/** The rotation function's store: one conditional single-item write each. */
export interface SigningKeyStore extends KeyringReader {
  putWrappedKey(kid: string, wrappedPrivateKey: Uint8Array, createdAt: number): Promise<void>;
  /** Replaces the keyring if it is still at `keyring.version - 1` (absent for version 1). */
  replaceKeyring(keyring: Keyring): Promise<boolean>;
  /** Lets the private half expire (TTL, cleanup) at `expiresAt`. */
  expireWrappedKey(kid: string, expiresAt: number): Promise<void>;
}

/** Unwraps a private key (KMS Decrypt); the plaintext never leaves the caller's memory. */
export interface PrivateKeyUnwrapper {
  unwrap(wrappedPrivateKey: Uint8Array): Promise<Uint8Array>;
}

/** Makes a key pair whose private half only KMS can unwrap (the rotation never sees it). */
export interface WrappedKeyGenerator {
  generate(
    alg: PublishedKey['alg'],
  ): Promise<{ readonly key: PublishedKey; readonly wrappedPrivateKey: Uint8Array }>;
}
