import { type CryptoKey, importJWK, type JWK, type JWTPayload, jwtVerify } from 'jose';
import type { PublishedKey, Signer } from './ports.js';
import { newTokenId } from './secrets.js';

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
  /** RFC 8705 §3.1: the token is bound to this client certificate. */
  cnf?: Confirmation;
}

/** The certificate a token is bound to: its SHA-256 thumbprint (RFC 8705 §3.1). */
export interface Confirmation {
  readonly 'x5t#S256': string;
}

const b64 = (value: string) => Buffer.from(value, 'utf8').toString('base64url');

/**
 * Issues RFC 9068 JWT access tokens. The header is serialised once per key; per token only the
 * claims are encoded and the signing input signed.
 */
export class AccessTokenIssuer {
  private header?: Promise<{ encoded: string; kid: string }>;

  constructor(private readonly signer: Signer) {}

  /**
   * @param grantId the user grant the token belongs to: its `jti` is then `<grantId>.<random>`,
   *   so that revoking the grant makes the token inactive at introspection.
   */
  async issue(
    claims: Omit<AccessTokenClaims, 'jti'>,
    grantId?: string,
  ): Promise<{ token: string; jti: string }> {
    const header = await this.encodedHeader();
    const jti = grantId === undefined ? newTokenId() : `${grantId}.${newTokenId()}`;
    const payload = b64(JSON.stringify({ ...claims, jti }));
    const signingInput = `${header.encoded}.${payload}`;
    const signature = await this.signer.sign(Buffer.from(signingInput, 'ascii'));
    return { token: `${signingInput}.${signature.toString('base64url')}`, jti };
  }

  private encodedHeader() {
    this.header ??= this.signer.activeKey().then((key) => ({
      kid: key.kid,
      encoded: b64(JSON.stringify({ alg: key.alg, typ: 'at+jwt', kid: key.kid })),
    }));
    // A failed key lookup (KMS throttled) must not be remembered.
    this.header.catch(() => {
      this.header = undefined;
    });
    return this.header;
  }
}

/**
 * Verifies this server's own access tokens against its published keys (no KMS call): signature,
 * `typ: at+jwt`, issuer and expiry. Returns undefined for anything that does not verify.
 */
export class AccessTokenVerifier {
  private keys?: Promise<Map<string, { alg: string; key: CryptoKey | Uint8Array }>>;

  constructor(private readonly signer: Signer) {}

  async verify(token: string, issuer: string, now: number): Promise<AccessTokenClaims | undefined> {
    const keys = await this.importedKeys();
    try {
      const { payload } = await jwtVerify<AccessTokenClaims>(
        token,
        (header) => {
          const found = header.kid === undefined ? undefined : keys.get(header.kid);
          if (found === undefined || found.alg !== header.alg) throw new Error('unknown key');
          return found.key;
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

  private importedKeys() {
    this.keys ??= this.signer.publishedKeys().then(async (published: readonly PublishedKey[]) => {
      const entries = await Promise.all(
        published.map(
          async (k) => [k.kid, { alg: k.alg, key: await importJWK(k.jwk as JWK, k.alg) }] as const,
        ),
      );
      return new Map(entries);
    });
    this.keys.catch(() => {
      this.keys = undefined;
    });
    return this.keys;
  }
}
