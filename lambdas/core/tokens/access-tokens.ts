import { type CryptoKey, importJWK, type JWK, type JWTPayload, jwtVerify } from 'jose';
import { newTokenId } from '../secrets.js';
import type { PublishedKey, Signer } from '../signing/ports.js';

/** RFC 9068 claims of an access token issued by this server. */
export interface AccessTokenClaims extends JWTPayload {
  iss: string;
  sub: string;
  aud: string | string[];
  client_id: string;
  jti: string;
  iat: number;
  exp: number;
  scope?: string;
  /** When the user authenticated (user grants only). */
  auth_time?: number;
  /** The key the token is bound to: a client certificate (RFC 8705) or a DPoP key (RFC 9449). */
  cnf?: Confirmation;
  /** RFC 8693 §4.1: who acts for the subject (token exchange), the earlier actors nested. */
  act?: Actor;
}

/** RFC 8693 §4.1: an actor, and the one it acted for in turn. */
export interface Actor {
  readonly sub: string;
  readonly act?: Actor;
}

/**
 * What a token is bound to: a client certificate's SHA-256 thumbprint (RFC 8705 §3.1), or the
 * RFC 7638 thumbprint of a DPoP proof's key (RFC 9449 §6.1).
 */
export type Confirmation = { readonly 'x5t#S256': string } | { readonly jkt: string };

/** RFC 9449 §5, §6.2: a DPoP-bound token's type is `DPoP`, every other one's `Bearer`. */
export const tokenTypeOf = (cnf: Confirmation | undefined) =>
  cnf !== undefined && 'jkt' in cnf ? ('DPoP' as const) : ('Bearer' as const);

/** What a grant decides of an access token; the issuer adds `iat`, `exp` and `jti`. */
export interface TokenGrant {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string | string[];
  readonly client_id: string;
  readonly auth_time?: number;
  readonly scope?: string | undefined;
  readonly act?: Actor;
  readonly cnf?: Confirmation | undefined;
}

/** When a token is issued and for how long; `notAfter` caps its expiry (token exchange). */
export interface Validity {
  readonly now: number;
  readonly lifetimeSeconds: number;
  readonly notAfter?: number;
  /** The user grant the token belongs to (see AccessTokenIssuer.issue). */
  readonly grantId?: string | undefined;
  /** The `jti`'s random part, when chosen before (an audit record written first names it). */
  readonly tokenId?: string;
}

/** The token endpoint's answer with an access token (RFC 6749 §5.1, RFC 9449 §5). */
export interface AccessTokenResponse {
  access_token: string;
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  scope?: string;
}

const b64 = (value: string) => Buffer.from(value, 'utf8').toString('base64url');

/** A user grant's tokens are `<grantId>.<random>`, so revoking the grant ends them at once. */
const jtiOf = (grantId: string | undefined, tokenId: string) =>
  grantId === undefined ? tokenId : `${grantId}.${tokenId}`;

/**
 * Issues RFC 9068 JWT access tokens. The header is serialised once per key; per token only the
 * claims are encoded and the signing input signed.
 */
export class AccessTokenIssuer {
  private header?: { readonly kid: string; readonly encoded: string };

  constructor(private readonly signer: Signer) {}

  /**
   * @param grantId the user grant the token belongs to: its `jti` is then `<grantId>.<random>`,
   *   so that revoking the grant makes the token inactive at introspection.
   * @param tokenId its random part, when chosen before (an audit record written first names it).
   */
  async issue(
    claims: Omit<AccessTokenClaims, 'jti'>,
    grantId?: string,
    tokenId: string = newTokenId(),
  ): Promise<{ token: string; jti: string }> {
    const jti = jtiOf(grantId, tokenId);
    return { token: await this.signed({ ...claims, jti }), jti };
  }

  /**
   * An access token for `grant`, as the token endpoint answers it, and its `jti`: every grant
   * type's tokens are made here, so their time claims and their answer are the same.
   */
  async respond(
    grant: TokenGrant,
    { now, lifetimeSeconds, notAfter, grantId, tokenId = newTokenId() }: Validity,
  ): Promise<{ response: AccessTokenResponse; jti: string }> {
    const exp =
      notAfter === undefined ? now + lifetimeSeconds : Math.min(now + lifetimeSeconds, notAfter);
    const jti = jtiOf(grantId, tokenId);
    // One copy of the grant, then the rest set in place, in the order the JSON keeps.
    const { scope, cnf, ...rest } = grant;
    const claims: Record<string, unknown> = rest;
    claims.iat = now;
    claims.exp = exp;
    if (scope !== undefined) claims.scope = scope;
    if (cnf !== undefined) claims.cnf = cnf;
    claims.jti = jti;
    const access_token = await this.signed(claims);
    const response: AccessTokenResponse =
      scope === undefined
        ? { access_token, token_type: tokenTypeOf(cnf), expires_in: exp - now }
        : { access_token, token_type: tokenTypeOf(cnf), expires_in: exp - now, scope };
    return { response, jti };
  }

  /** The JWS of `claims`: the header serialised once per key, the claims encoded and signed. */
  private async signed(claims: object): Promise<string> {
    const header = this.encodedHeader(await this.signer.activeKey());
    const signingInput = `${header.encoded}.${b64(JSON.stringify(claims))}`;
    // By the key the header names, even if another activated meanwhile.
    const signature = await this.signer.sign(Buffer.from(signingInput, 'ascii'), header.kid);
    return `${signingInput}.${signature.toString('base64url')}`;
  }

  /** Serialised once per key (wrapped keys rotate; the others never change). */
  private encodedHeader(key: PublishedKey) {
    if (this.header?.kid !== key.kid) {
      this.header = {
        kid: key.kid,
        encoded: b64(JSON.stringify({ alg: key.alg, typ: 'at+jwt', kid: key.kid })),
      };
    }
    return this.header;
  }
}

/**
 * Verifies this server's own access tokens against its published keys (no KMS call): signature,
 * `typ: at+jwt`, issuer and expiry. Returns undefined for anything that does not verify.
 */
export class AccessTokenVerifier {
  private readonly keys = new Map<string, Promise<CryptoKey | Uint8Array>>();

  constructor(private readonly signer: Signer) {}

  async verify(token: string, issuer: string, now: number): Promise<AccessTokenClaims | undefined> {
    // Only what is published now verifies (a rotated-out key no longer does).
    const published = await this.signer.publishedKeys();
    try {
      const { payload } = await jwtVerify<AccessTokenClaims>(
        token,
        (header) => {
          const found = published.find((k) => k.kid === header.kid);
          if (found === undefined || found.alg !== header.alg) throw new Error('unknown key');
          return this.imported(found);
        },
        {
          issuer,
          typ: 'at+jwt',
          algorithms: ['RS256', 'ES256'],
          currentDate: new Date(now * 1000),
          requiredClaims: ['sub', 'client_id', 'jti', 'exp', 'iat'],
          clockTolerance: 0,
        },
      );
      return typeof payload.client_id === 'string' && typeof payload.jti === 'string'
        ? payload
        : undefined;
    } catch {
      return undefined;
    }
  }

  /** Each key imported once per process. */
  private imported(key: PublishedKey) {
    let imported = this.keys.get(key.kid);
    if (imported === undefined) {
      imported = importJWK(key.jwk as JWK, key.alg);
      this.keys.set(key.kid, imported);
      imported.catch(() => this.keys.delete(key.kid));
    }
    return imported;
  }
}
