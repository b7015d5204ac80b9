import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  base64url,
  type CryptoKey,
  calculateJwkThumbprint,
  errors,
  importJWK,
  type JWK,
  type JWTHeaderParameters,
  type JWTPayload,
  jwtVerify,
} from 'jose';

/**
 * The checker for DPoP proofs (RFC 9449 §4.3), on its own: a resource server calls it with the
 * access token's hash, an authorization server's token endpoint without one. It knows nothing of
 * HTTP frameworks or of access tokens beyond their hash.
 */

/** Asymmetric JWS algorithms only: a proof signed with a shared secret proves nothing. */
export const DPOP_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'EdDSA',
  'Ed25519',
] as const;

/** Why a proof was refused: `use_dpop_nonce` carries the nonce the client must use next. */
export class DpopProofError extends Error {
  constructor(
    readonly error: 'invalid_dpop_proof' | 'use_dpop_nonce',
    message: string,
    readonly nonce?: string,
  ) {
    super(message);
    this.name = 'DpopProofError';
  }
}

/**
 * Remembers proof identifiers until their proofs expire. `use` answers false when the key was
 * already used. The in-memory one suits one process; several instances (Lambda) need a shared
 * store, e.g. a DynamoDB conditional put on the key with a TTL.
 */
export interface ReplayCache {
  use(key: string, expiresAtSeconds: number): boolean | Promise<boolean>;
}

/** Server-provided nonces (RFC 9449 §8/§9): the one to hand out now, and which are accepted. */
export interface NonceSource {
  current(): string;
  accepts(nonce: string): boolean;
}

export interface DpopProofOptions {
  /** The JWS algorithms accepted for proofs; a subset of {@link DPOP_ALGORITHMS}. */
  algorithms?: readonly string[];
  /** How far from now a proof's `iat` may be, either way (the MCP profile: five minutes). */
  maxAgeSeconds?: number;
  /** Where `jti`s are remembered; proofs are refused when replayed. */
  replay?: ReplayCache;
  /** When set, every proof must carry a nonce it accepts. */
  nonce?: NonceSource;
  /** The current time in seconds (default: the system clock). */
  now?: () => number;
}

export interface ProofRequest {
  method: string;
  /** The request's URL as the client addressed it (query and fragment are ignored). */
  url: string;
  /** The access token presented with the proof: its hash must be the proof's `ath`. */
  accessToken?: string;
  /**
   * The request body, when the proof must carry its digest (the MCP DPoP profile's
   * `content_digest`, RFC 9530 syntax, SHA-256). Left out: no digest is required.
   */
  body?: Uint8Array | string;
}

export interface CheckedProof {
  /** The RFC 7638 thumbprint of the proof's key: compare it with the token's `cnf.jkt`. */
  jkt: string;
  jwk: JWK;
  claims: JWTPayload;
}

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

/** `ath`: base64url SHA-256 of the access token (RFC 9449 §4.2). */
export const accessTokenHash = (token: string) => base64url.encode(sha256(token));

/** `content_digest` of the MCP DPoP profile: `sha-256=:<base64 SHA-256 of the body>:`. */
export const contentDigest = (body: Uint8Array | string) =>
  `sha-256=:${sha256(body).toString('base64')}:`;

/** The target URI as RFC 9449 compares it: normalised, without query and fragment. */
function targetUri(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    parsed.search = '';
    parsed.hash = '';
    return parsed.href;
  } catch {
    return undefined;
  }
}

const equalStrings = (a: string, b: string) => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

const refuse = (message: string) => new DpopProofError('invalid_dpop_proof', message);

/** A client signs every proof with one key: each is imported (and thumbprinted) once. */
const MAX_CACHED_KEYS = 1000;
const embeddedKeys = new Map<string, Promise<{ key: CryptoKey; jkt: string }>>();

/** The header's `jwk`, imported once per process; a private key or a secret is refused. */
function embeddedKey({ jwk, alg }: JWTHeaderParameters) {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw new errors.JWSInvalid('"jwk" (JSON Web Key) Header Parameter must be a JSON object');
  }
  const id = `${alg}:${JSON.stringify(jwk)}`;
  let imported = embeddedKeys.get(id);
  if (imported === undefined) {
    if (embeddedKeys.size >= MAX_CACHED_KEYS) embeddedKeys.clear();
    imported = (async () => {
      const key = await importJWK({ ...jwk, ext: true }, alg);
      if (key instanceof Uint8Array || key.type !== 'public') {
        throw new errors.JWSInvalid('"jwk" (JSON Web Key) Header Parameter must be a public key');
      }
      return { key, jkt: await calculateJwkThumbprint(jwk, 'sha256') };
    })();
    embeddedKeys.set(id, imported);
    imported.catch(() => embeddedKeys.delete(id));
  }
  return imported;
}

/** Checks one DPoP proof against the request it came with; throws {@link DpopProofError}. */
export async function checkDpopProof(
  proof: string,
  request: ProofRequest,
  options: DpopProofOptions = {},
): Promise<CheckedProof> {
  const maxAge = options.maxAgeSeconds ?? 300;
  let verified: Awaited<ReturnType<typeof jwtVerify>>;
  try {
    // embeddedKey refuses a private key in the header; the allow-list refuses `none` and MACs.
    verified = await jwtVerify(proof, async (header) => (await embeddedKey(header)).key, {
      typ: 'dpop+jwt',
      algorithms: [...(options.algorithms ?? DPOP_ALGORITHMS)],
      requiredClaims: ['jti', 'htm', 'htu', 'iat'],
      // `iat` is checked below against the window; a proof has no other time claims to honour.
      ...(options.now && { currentDate: new Date(options.now() * 1000) }),
    });
  } catch (error) {
    // Everything here comes from the proof: a key WebCrypto cannot import (a malformed point, a
    // short RSA modulus) fails outside jose's own errors, and is as invalid as a bad signature.
    const reason = error instanceof errors.JOSEError ? error.code : 'unusable key';
    throw refuse(`the DPoP proof is invalid (${reason})`);
  }
  const { payload: claims, protectedHeader } = verified;
  const now = options.now?.() ?? Math.floor(Date.now() / 1000);
  const { jti, htm, htu, iat, ath } = claims as Record<string, unknown>;
  if (typeof jti !== 'string' || jti.length < 8 || jti.length > 256)
    throw refuse('the DPoP proof jti is invalid');
  if (typeof htm !== 'string' || htm !== request.method.toUpperCase())
    throw refuse('the DPoP proof htm does not match the request method');
  const expected = targetUri(request.url);
  if (typeof htu !== 'string' || expected === undefined || targetUri(htu) !== expected)
    throw refuse('the DPoP proof htu does not match the request URL');
  if (typeof iat !== 'number' || Math.abs(now - iat) > maxAge)
    throw refuse('the DPoP proof iat is outside the accepted window');
  if (request.accessToken !== undefined) {
    if (typeof ath !== 'string' || !equalStrings(ath, accessTokenHash(request.accessToken)))
      throw refuse('the DPoP proof ath does not match the access token');
  }
  if (request.body !== undefined) {
    const digest = claims.content_digest;
    if (typeof digest !== 'string') throw refuse('the DPoP proof has no content_digest');
    if (!equalStrings(digest, contentDigest(request.body)))
      throw refuse('the DPoP proof content_digest does not match the request body');
  }
  if (options.nonce) {
    const { nonce } = claims;
    if (typeof nonce !== 'string' || !options.nonce.accepts(nonce))
      throw new DpopProofError(
        'use_dpop_nonce',
        'the resource server requires a DPoP nonce',
        options.nonce.current(),
      );
  }
  const jwk = protectedHeader.jwk as JWK;
  const { jkt } = await embeddedKey(protectedHeader);
  // Last, once everything else holds: a refused proof does not burn its jti.
  if (options.replay && !(await options.replay.use(`${jkt}:${jti}`, iat + maxAge)))
    throw refuse('the DPoP proof was already used');
  return { jkt, jwk, claims };
}

/** A bounded in-memory {@link ReplayCache} for one process. */
export function memoryReplayCache(maxEntries = 100_000): ReplayCache {
  const seen = new Map<string, number>();
  return {
    use(key, expiresAt) {
      const now = Math.floor(Date.now() / 1000);
      const until = seen.get(key);
      if (until !== undefined && until >= now) return false;
      if (seen.size >= maxEntries) {
        for (const [k, exp] of seen) if (exp < now) seen.delete(k);
        // Still full of live entries: refusing new proofs is safer than forgetting used ones.
        if (seen.size >= maxEntries) return false;
      }
      seen.set(key, expiresAt);
      return true;
    },
  };
}

/**
 * Stateless nonces: an HMAC of the current time window, so every instance sharing `secret`
 * issues and accepts the same ones. A nonce is accepted in its window and the next.
 */
export function rotatingNonces(
  secret: Uint8Array = randomBytes(32),
  windowSeconds = 300,
  now: () => number = () => Date.now() / 1000,
): NonceSource {
  const at = (window: number) =>
    base64url.encode(createHmac('sha256', secret).update(String(window)).digest());
  const window = () => Math.floor(now() / windowSeconds);
  return {
    current: () => at(window()),
    accepts: (nonce) => [window(), window() - 1].some((w) => equalStrings(nonce, at(w))),
  };
}
