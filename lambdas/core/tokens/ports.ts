import type { AssertionTokenEvent, ExchangeTokenEvent } from '../federation/federated-tokens.js';

/** Short-lived token state: revoked access tokens, and used assertion and DPoP proof ids. */
export interface TokenStore {
  /** Records a revoked access token until the instant it would have expired anyway. */
  revoke(jti: string, expiresAt: number): Promise<void>;
  isRevoked(jti: string): Promise<boolean>;
  /** Records a client assertion's jti; false if it was already used (a replay). */
  useAssertionId(clientId: string, jti: string, expiresAt: number): Promise<boolean>;
  /**
   * Records a DPoP proof (`<jkt>:<jti>`) until its `iat` leaves the accepted window; false if it
   * was already used (a replayed proof), in this container or any other.
   */
  useDpopProof(proofId: string, expiresAt: number): Promise<boolean>;
  /**
   * Records a trusted issuer's assertion (its `iss` and `jti`) until it expires, with the audit
   * event of the token it is exchanged for (on the same write); false if it was already
   * exchanged (a replay), in this container or any other.
   */
  useIssuerAssertion(
    issuer: string,
    jti: string,
    expiresAt: number,
    event: AssertionTokenEvent,
  ): Promise<boolean>;
  /** Records a token exchange's audit event until the exchanged token expires. */
  recordExchange(event: ExchangeTokenEvent): Promise<void>;
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
  /**
   * RFC 9449 §10: the `dpop_jkt` of the authorization request: only a token request whose DPoP
   * proof is signed by that key redeems the code.
   */
  readonly dpopJkt?: string;
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
  /** The thumbprint of the token request's DPoP proof key: a code bound to a key needs it. */
  readonly jkt?: string;
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
  /**
   * RFC 9449 §5: a public client's family made with a DPoP proof is bound to that key (its
   * thumbprint): every refresh must prove possession of it.
   */
  readonly jkt?: string;
}

/**
 * An authorization filed under its user: the one index of a user's grants, which both the
 * consent page's step-up (their grants to one client) and their connected-apps page (all of
 * them) read. Written at consent, when the user allows a client that gets refresh tokens, before
 * its code exists: the grant itself appears at the code's exchange, and an entry whose grant
 * never came is skipped. What it keeps of the client is what the consent page showed.
 */
export interface UserGrantEntry {
  readonly sub: string;
  readonly grantId: string;
  readonly clientId: string;
  /** `client_name` as the client asserted it at consent: never verified. */
  readonly clientName?: string;
  /** The redirect URI of the authorization, normalised. */
  readonly redirectUri: string;
  readonly createdAt: number;
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
  /** Files an authorization under its user, kept until `expiresAt` (its family's latest end). */
  recordUserGrant(entry: UserGrantEntry, expiresAt: number): Promise<void>;
  /**
   * A user's authorizations, at most `limit`: those to `clientId` only when it is given (newest
   * first), else all of them (newest first within each client); whoever reads them judges, from
   * each grant, what is still live.
   */
  userGrants(sub: string, query: UserGrantQuery): Promise<UserGrantEntry[]>;
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

/** A grant that is neither revoked nor a tombstone (its expiry is judged apart). */
export const isLive = (grant: GrantRecord | RevokedGrant | undefined): grant is GrantRecord =>
  grant !== undefined && grant.revokedAt === undefined && 'currentHash' in grant;

/** A family ends at its absolute expiry, or when unused for the idle lifetime. */
export const familyExpiry = (
  grant: Pick<GrantRecord, 'absoluteExpiresAt' | 'lastUsedAt'>,
  idleLifetimeSeconds: number,
) => Math.min(grant.absoluteExpiresAt, grant.lastUsedAt + idleLifetimeSeconds);

export interface UserGrantQuery {
  readonly clientId?: string;
  readonly limit: number;
}

/** The user's index entries, each with what its grant is now (undefined: never exchanged). */
export const indexedGrants = async (grants: GrantStore, sub: string, query: UserGrantQuery) =>
  Promise.all(
    (await grants.userGrants(sub, query)).map(async (entry) => ({
      entry,
      grant: await grants.getGrant(entry.grantId),
    })),
  );

/** What is left of a grant revoked before it had refresh tokens: enough to refuse its tokens. */
export interface RevokedGrant {
  readonly grantId: string;
  readonly revokedAt: number;
}
