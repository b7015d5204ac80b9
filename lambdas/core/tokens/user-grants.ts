import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { isCodeVerifier, s256 } from '../authorization/pkce.js';
import type { ClientLifecycle } from '../clients/client-lifecycle.js';
import { type GrantType, parseRedirectUri } from '../clients/client-metadata.js';
import type { ClientRecord } from '../clients/ports.js';
import {
  invalidGrant,
  invalidRequest,
  invalidScope,
  invalidTarget,
  unauthorizedClient,
} from '../errors.js';
import { homeRegionOf, pinnedElsewhere } from '../regions.js';
import { requestedScopes, SCOPE_SYNTAX } from '../scopes.js';
import {
  hashMatches,
  hashSecret,
  newSecret,
  randomBytesFromPool,
  secretMatches,
} from '../secrets.js';
import type { AccessTokenIssuer, Confirmation } from './access-tokens.js';
import { familyExpiry, type GrantRecord, type GrantStore, isLive } from './ports.js';

export interface UserGrantSettings {
  readonly accessTokenLifetimeSeconds: number;
  readonly refreshTokenLifetimeSeconds: number;
  readonly refreshTokenIdleLifetimeSeconds: number;
  /** `aud` when a grant names no resource; unset = the issuer. */
  readonly defaultAudience?: string;
  /** RFC 8707 resources this server serves (every granted resource is one). */
  readonly resources: ReadonlySet<string>;
  /** Multi-region: this server's region; families and codes are pinned to it. */
  readonly region?: string;
  /**
   * How long after a rotation the token it replaced still refreshes, answering with the same
   * successor (clients that refresh concurrently); 0 = any reuse revokes the family.
   */
  readonly refreshTokenReuseGraceSeconds: number;
}

/** What a refresh token's reuse did, for the operator's logs (never a token or a hash). */
export interface RefreshReuseEvent {
  readonly type: 'refresh.reuse_absorbed' | 'refresh.family_revoked_by_reuse';
  readonly client_id: string;
  readonly sub: string;
  /** The family's rotations so far. */
  readonly generation: number;
  readonly occurred_at: number;
}

/** What a token request binds its tokens to, and whether its client is public. */
export interface TokenBinding {
  readonly cnf?: Confirmation;
  /** RFC 9449 §5: a public client's refresh tokens are bound to its DPoP key. */
  readonly publicClient: boolean;
}

const jktOf = (cnf: Confirmation | undefined) =>
  cnf !== undefined && 'jkt' in cnf ? cnf.jkt : undefined;

export interface UserTokenResponse {
  access_token: string;
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  scope?: string;
  refresh_token?: string;
}

/** Old refresh token hashes remembered per family, to detect their reuse. */
const REMEMBERED_ROTATIONS = 20;

/** `<grantId>.<secret>`: the family (128 bits) and the token's own 256 bits. */
const REFRESH_TOKEN = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

/** One message for every refused code or refresh token: nothing tells which check failed. */
const refusedGrant = (
  description = 'the grant is invalid, expired, revoked or was issued to another client',
) => invalidGrant(description);

const notGranted = (resource: string) => invalidTarget(`resource ${resource} was not granted`);

/**
 * The successor's seal key comes from the parent's secret alone (HKDF-SHA-256, the family as
 * salt): the stored seal opens only for whoever presents the parent, and nothing at rest reveals
 * a usable token. Each key seals one successor, since a token is rotated at most once.
 */
const successorKey = (grantId: string, parentSecret: string) =>
  new Uint8Array(hkdfSync('sha256', parentSecret, grantId, 'refresh-successor-v1', 32));

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** AES-256-GCM, `base64url(iv ‖ ciphertext ‖ tag)`. */
function sealSuccessor(grantId: string, parentSecret: string, successor: string): string {
  const iv = randomBytesFromPool(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', successorKey(grantId, parentSecret), iv);
  const sealed = [iv, cipher.update(successor, 'utf8'), cipher.final(), cipher.getAuthTag()];
  return Buffer.concat(sealed).toString('base64url');
}

/** The successor, or undefined when `sealed` was not sealed under this parent. */
function openSuccessor(grantId: string, parentSecret: string, sealed: string) {
  const bytes = Buffer.from(sealed, 'base64url');
  if (bytes.length <= IV_BYTES + TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv(
      'aes-256-gcm',
      successorKey(grantId, parentSecret),
      bytes.subarray(0, IV_BYTES),
    );
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    const plain = [decipher.update(bytes.subarray(IV_BYTES, -TAG_BYTES)), decipher.final()];
    return Buffer.concat(plain).toString('utf8');
  } catch {
    return undefined;
  }
}

const reuseEvent = (
  type: RefreshReuseEvent['type'],
  grant: GrantRecord,
  now: number,
): RefreshReuseEvent => ({
  type,
  client_id: grant.clientId,
  sub: grant.sub,
  generation: grant.generation,
  occurred_at: now,
});

/** Revokes a family, keeping the revocation until every access token of it has expired. */
export const revokeFamily = (
  grants: GrantStore,
  grantId: string,
  now: number,
  settings: Pick<UserGrantSettings, 'accessTokenLifetimeSeconds'>,
) => grants.revokeGrant(grantId, now, now + settings.accessTokenLifetimeSeconds + 60);

/** The parts of a refresh token, if it has the shape of one. */
export const parseRefreshToken = (token: string) => {
  const match = REFRESH_TOKEN.exec(token);
  return match ? { grantId: match[1] as string, secret: match[2] as string } : undefined;
};

/** The grant an access token was issued under: user tokens' jti is `<grantId>.<random>`. */
export const grantIdOf = (jti: string): string | undefined => {
  const dot = jti.indexOf('.');
  return dot > 0 ? jti.slice(0, dot) : undefined;
};

/**
 * The grants a user makes: the authorization code exchange (RFC 6749 §4.1.3 with PKCE, RFC 7636)
 * and refresh tokens that rotate on every use, with reuse detection revoking the whole family
 * (RFC 9700 §4.14.2). Access tokens name the user as `sub` and carry the grant in their `jti`, so
 * a revoked grant makes them inactive at introspection at once.
 */
export class UserGrants {
  constructor(
    private readonly grants: GrantStore,
    private readonly tokens: AccessTokenIssuer,
    private readonly lifecycle: ClientLifecycle,
    private readonly settings: UserGrantSettings,
    /** Told of each reuse before the answer goes out (logged and counted per client). */
    private readonly onReuse: (event: RefreshReuseEvent) => Promise<void> | void = () => {},
  ) {}

  /** `grant_type=authorization_code`, for an authenticated client. */
  async exchangeCode(
    client: ClientRecord,
    params: URLSearchParams,
    issuer: string,
    { cnf: confirmation, publicClient }: TokenBinding,
  ): Promise<UserTokenResponse> {
    requireGrant(client, 'authorization_code');
    const code = params.get('code');
    const redirectUri = params.get('redirect_uri');
    const verifier = params.get('code_verifier');
    if (code === null) throw invalidRequest('code is required');
    if (redirectUri === null) throw invalidRequest('redirect_uri is required');
    if (verifier === null) throw invalidRequest('code_verifier is required (PKCE)');
    if (!isCodeVerifier(verifier)) {
      throw invalidRequest('code_verifier must be 43 to 128 unreserved characters (RFC 7636)');
    }
    let normalizedRedirect: string;
    try {
      normalizedRedirect = parseRedirectUri(redirectUri).normalized;
    } catch {
      throw refusedGrant();
    }
    // RFC 8707: the resources asked for are part of the binding, so that a request refused for
    // one leaves the code unspent; one this server does not serve is refused before any write
    // (and so the redemption's condition stays as small as the configured list).
    const resources = [...new Set(params.getAll('resource'))];
    const unserved = resources.find((r) => !this.settings.resources.has(r));
    if (unserved !== undefined) throw notGranted(unserved);
    const now = this.lifecycle.clock.now();
    const redemption = await this.grants.redeemCode(
      hashSecret(code),
      {
        clientId: client.clientId,
        redirectUri: normalizedRedirect,
        codeChallenge: s256(verifier),
        resources,
        ...(this.settings.region !== undefined && { region: this.settings.region }),
        ...(jktOf(confirmation) !== undefined && { jkt: jktOf(confirmation) }),
      },
      now,
    );
    if (redemption.outcome === 'reused') {
      // A code presented twice was intercepted or replayed: what it gave is revoked.
      await this.revokeFamily(redemption.code.grantId, now);
      throw refusedGrant('the authorization code was already used');
    }
    if (redemption.outcome === 'refused') throw refusedGrant();
    if (redemption.outcome === 'not-granted') throw notGranted(redemption.resource);
    const granted = redemption.code;
    const audience = this.audience(params.getAll('resource'), granted.resources, issuer);

    let refreshToken: string | undefined;
    if (client.metadata.grant_types.includes('refresh_token')) {
      const secret = newSecret();
      const grant: GrantRecord = {
        grantId: granted.grantId,
        clientId: client.clientId,
        sub: granted.sub,
        ...(granted.scope !== undefined && { scope: granted.scope }),
        resources: granted.resources,
        authTime: granted.authTime,
        createdAt: now,
        absoluteExpiresAt: now + this.settings.refreshTokenLifetimeSeconds,
        lastUsedAt: now,
        generation: 1,
        currentHash: hashSecret(secret),
        previousHashes: [],
        ...homeRegionOf(this.settings.region),
        ...(publicClient && jktOf(confirmation) !== undefined && { jkt: jktOf(confirmation) }),
      };
      // A reuse revoked it between our redemption and now: nothing may be issued.
      if (!(await this.grants.createGrant(grant, this.familyExpiry(grant)))) {
        throw refusedGrant();
      }
      refreshToken = `${grant.grantId}.${secret}`;
    }
    const response = await this.issueAccessToken(issuer, client, {
      sub: granted.sub,
      authTime: granted.authTime,
      grantId: granted.grantId,
      audience,
      ...(granted.scope !== undefined && { scope: granted.scope }),
      ...(confirmation && { confirmation }),
    });
    return { ...response, ...(refreshToken !== undefined && { refresh_token: refreshToken }) };
  }

  /** `grant_type=refresh_token`: a new access token and the family's next refresh token. */
  async refresh(
    client: ClientRecord,
    params: URLSearchParams,
    issuer: string,
    { cnf: confirmation }: TokenBinding,
  ): Promise<UserTokenResponse> {
    requireGrant(client, 'refresh_token');
    const presented = params.get('refresh_token');
    if (presented === null) throw invalidRequest('refresh_token is required');
    const parts = parseRefreshToken(presented);
    if (!parts) throw refusedGrant();
    const now = this.lifecycle.clock.now();
    const grant = await this.grants.getGrant(parts.grantId);
    if (!isLive(grant) || grant.clientId !== client.clientId || this.expired(grant, now)) {
      throw refusedGrant();
    }
    // Another region's family: rotated there only (no write here, not even a revocation), so
    // that replication lag cannot let one refresh token be rotated twice.
    if (pinnedElsewhere(grant, this.settings.region)) {
      throw refusedGrant(
        `the refresh token belongs to region ${grant.homeRegion}; use it there or authorize again`,
      );
    }
    // Before reuse detection: an old token replayed without the key cannot end the family.
    if (grant.jkt !== undefined && jktOf(confirmation) !== grant.jkt) {
      throw refusedGrant('the refresh token is bound to a DPoP key: prove possession of it');
    }
    const hash = hashSecret(parts.secret);
    const isCurrent = hashMatches(hash, grant.currentHash);
    const successor = isCurrent ? undefined : this.graceSuccessor(grant, parts.secret, hash, now);
    if (!isCurrent && successor === undefined) {
      // An older token of the family: it was stolen, or its holder was. End the family.
      if (grant.previousHashes.includes(hash)) await this.revokeForReuse(grant, now);
      throw refusedGrant();
    }
    const scope = this.narrowedScope(params.get('scope'), grant.scope);
    const audience = this.audience(params.getAll('resource'), grant.resources, issuer);
    const issue = async (refreshToken: string) => ({
      ...(await this.issueAccessToken(issuer, client, {
        sub: grant.sub,
        authTime: grant.authTime,
        grantId: grant.grantId,
        audience,
        ...(scope !== undefined && { scope }),
        ...(confirmation && { confirmation }),
      })),
      refresh_token: `${grant.grantId}.${refreshToken}`,
    });
    if (successor !== undefined) {
      await this.onReuse(reuseEvent('refresh.reuse_absorbed', grant, now));
      return issue(successor);
    }

    const secret = newSecret();
    const rotated = {
      currentHash: hashSecret(secret),
      previousHashes: [hash, ...grant.previousHashes].slice(0, REMEMBERED_ROTATIONS),
      generation: grant.generation + 1,
      lastUsedAt: now,
      ...(this.settings.refreshTokenReuseGraceSeconds > 0 && {
        sealedSuccessor: sealSuccessor(grant.grantId, parts.secret, secret),
      }),
    };
    const next = { ...rotated, expiresAt: this.familyExpiry({ ...grant, ...rotated }) };
    if (!(await this.grants.rotateRefresh(grant.grantId, grant.currentHash, next))) {
      // Another use of this token rotated the family first: within the grace window that was
      // the same client refreshing concurrently, and it gets the same successor.
      const latest = await this.grants.getGrant(grant.grantId);
      const winner = isLive(latest)
        ? this.graceSuccessor(latest, parts.secret, hash, now)
        : undefined;
      if (winner !== undefined) {
        await this.onReuse(reuseEvent('refresh.reuse_absorbed', grant, now));
        return issue(winner);
      }
      // Two uses of one token at once: one of them is not its holder.
      await this.revokeForReuse(grant, now);
      throw refusedGrant();
    }
    return issue(secret);
  }

  /**
   * The family's current token, if `presented` is the one it replaced, within the grace window
   * and before the successor itself was used (a later rotation replaced the seal, which opens
   * only for the token it replaced).
   */
  private graceSuccessor(
    grant: GrantRecord,
    presented: string,
    presentedHash: string,
    now: number,
  ) {
    const grace = this.settings.refreshTokenReuseGraceSeconds;
    if (grant.sealedSuccessor === undefined || now >= grant.lastUsedAt + grace) return undefined;
    if (grant.previousHashes[0] !== presentedHash) return undefined;
    const successor = openSuccessor(grant.grantId, presented, grant.sealedSuccessor);
    return successor !== undefined && secretMatches(successor, grant.currentHash)
      ? successor
      : undefined;
  }

  private async revokeForReuse(grant: GrantRecord, now: number) {
    await this.revokeFamily(grant.grantId, now);
    await this.onReuse(reuseEvent('refresh.family_revoked_by_reuse', grant, now));
  }

  /**
   * RFC 7662 for a refresh token: active while it is its family's current token, the family
   * lives and its client exists. Undefined when the token is not one of ours.
   */
  async introspectRefresh(token: string) {
    const parts = parseRefreshToken(token);
    if (!parts) return undefined;
    const now = this.lifecycle.clock.now();
    const grant = await this.grants.getGrant(parts.grantId);
    if (!isLive(grant) || this.expired(grant, now)) return undefined;
    if (!secretMatches(parts.secret, grant.currentHash)) return undefined;
    if (!(await this.lifecycle.resolve(grant.clientId))) return undefined;
    return {
      client_id: grant.clientId,
      sub: grant.sub,
      ...(grant.scope !== undefined && { scope: grant.scope }),
      ...(grant.resources.length > 0 && {
        aud: grant.resources.length === 1 ? grant.resources[0] : grant.resources,
      }),
      iat: grant.lastUsedAt,
      exp: this.familyExpiry(grant),
    };
  }

  /** RFC 7009 for a refresh token of this client: the whole family ends. */
  async revokeRefresh(token: string, client: ClientRecord): Promise<boolean> {
    const parts = parseRefreshToken(token);
    if (!parts) return false;
    const grant = await this.grants.getGrant(parts.grantId);
    if (!isLive(grant) || grant.clientId !== client.clientId) return false;
    const known =
      secretMatches(parts.secret, grant.currentHash) ||
      grant.previousHashes.includes(hashSecret(parts.secret));
    if (!known) return false;
    await this.revokeFamily(grant.grantId, this.lifecycle.clock.now());
    return true;
  }

  /** Whether the grant an access token was issued under has been revoked. */
  async isRevoked(grantId: string): Promise<boolean> {
    const grant = await this.grants.getGrant(grantId);
    return grant?.revokedAt !== undefined;
  }

  private expired(grant: GrantRecord, now: number): boolean {
    return this.familyExpiry(grant) <= now;
  }

  private familyExpiry(grant: Pick<GrantRecord, 'absoluteExpiresAt' | 'lastUsedAt'>) {
    return familyExpiry(grant, this.settings.refreshTokenIdleLifetimeSeconds);
  }

  private revokeFamily(grantId: string, now: number): Promise<void> {
    return revokeFamily(this.grants, grantId, now, this.settings);
  }

  /** RFC 8707: the resources asked for must be among those granted (narrowing is allowed). */
  private audience(requested: string[], granted: readonly string[], issuer: string) {
    const unique = [...new Set(requested)];
    const outside = unique.find((r) => !granted.includes(r));
    if (outside !== undefined) throw notGranted(outside);
    const audience = unique.length > 0 ? unique : granted;
    if (audience.length === 0) return this.settings.defaultAudience ?? issuer;
    return audience.length === 1 ? (audience[0] as string) : [...audience];
  }

  /** RFC 6749 §6: a refresh may ask for less than was granted, never more. */
  private narrowedScope(requested: string | null, granted: string | undefined) {
    if (requested === null) return granted;
    if (!SCOPE_SYNTAX.test(requested)) {
      throw invalidScope('scope is malformed');
    }
    const grantedScopes = new Set(granted?.split(' ') ?? []);
    const scopes = requestedScopes(requested);
    const outside = scopes.find((s) => !grantedScopes.has(s));
    if (outside !== undefined) {
      throw invalidScope(`scope ${outside} was not granted`);
    }
    return scopes.length > 0 ? scopes.join(' ') : undefined;
  }

  private async issueAccessToken(
    issuer: string,
    client: ClientRecord,
    grant: {
      sub: string;
      authTime: number;
      grantId: string;
      audience: string | string[];
      scope?: string;
      confirmation?: Confirmation;
    },
  ) {
    const { response } = await this.tokens.respond(
      {
        iss: issuer,
        sub: grant.sub,
        aud: grant.audience,
        client_id: client.clientId,
        auth_time: grant.authTime,
        scope: grant.scope,
        cnf: grant.confirmation,
      },
      {
        now: this.lifecycle.clock.now(),
        lifetimeSeconds: this.settings.accessTokenLifetimeSeconds,
        grantId: grant.grantId,
      },
    );
    // Best effort, as for every use: the token is issued either way.
    await this.lifecycle.markUsed(client).catch(() => undefined);
    return response;
  }
}

/** `unauthorized_client` unless the client registered the grant type it uses. */
export function requireGrant(client: ClientRecord, grant: GrantType) {
  if (!client.metadata.grant_types.includes(grant)) {
    throw unauthorizedClient(`the client is not registered for ${grant}`);
  }
}
