import { createHash } from 'node:crypto';
import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from 'jose';
import {
  checkDpopProof,
  DPOP_ALGORITHMS,
  DpopProofError,
  type DpopProofOptions,
  memoryReplayCache,
} from '../lambdas/core/tokens/dpop-proof.js';

/** Why a request was refused, as RFC 6750 §3 and RFC 9449 §7 name it. */
export type ResourceErrorCode =
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'temporarily_unavailable';

/** A refused request: its status, error code and what the challenge must say. */
export class ResourceError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 503,
    readonly error: ResourceErrorCode,
    message: string,
    readonly details: {
      /** The request presented no credentials: the challenge then carries no error code. */
      noCredentials?: boolean;
      /** The scheme the request used, so the error goes in that scheme's challenge. */
      scheme?: 'Bearer' | 'DPoP';
      /** The scopes the operation needs (insufficient_scope, and every 401). */
      scope?: readonly string[];
      /** The nonce to use (use_dpop_nonce). */
      dpopNonce?: string;
    } = {},
  ) {
    super(message);
    this.name = 'ResourceError';
  }
}

export interface VerifierOptions {
  /** The authorization server's issuer identifier, exactly as in its tokens' `iss`. */
  issuer: string;
  /** This server's canonical resource URL: the audience its tokens must name. */
  resource: string;
  /** JWS algorithms accepted for access tokens (default RS256, PS256, ES256). */
  algorithms?: readonly string[];
  /** Leeway for `exp`, `nbf` and `iat`, in seconds (default 5). */
  clockToleranceSeconds?: number;
  /** How long a fetched JWKS is trusted before it is fetched again (default 10 minutes). */
  jwksCacheSeconds?: number;
  /** DPoP settings; DPoP is always accepted, these tune it. */
  dpop?: DpopProofOptions & {
    /** Refuse Bearer: every token must be DPoP-bound (RFC 9728 `dpop_bound_access_tokens_required`). */
    required?: boolean;
    /** Check the MCP DPoP profile's `content_digest` against the request body. */
    contentDigest?: boolean;
  };
  /** Token introspection (RFC 7662), for operations that must see revocation at once. */
  introspection?: {
    clientId: string;
    clientSecret: string;
    /** How long an answer is reused, in seconds (default 5). */
    cacheSeconds?: number;
  };
}

/** The request as the verifier needs it, whatever the framework. */
export interface ResourceRequest {
  method: string;
  /** The URL the client addressed (scheme, host and path as the client saw them). */
  url: string;
  authorization?: string | undefined;
  dpop?: string | readonly string[] | undefined;
  /** The raw body: needed only for the MCP DPoP profile's digest. */
  body?: Uint8Array | string | undefined;
}

export interface VerifyOptions {
  /** Scopes the operation needs, all of them. */
  scopes?: readonly string[];
  /** Ask the authorization server whether the token is still active. */
  introspect?: boolean;
}

/** Who is calling: the verified token's claims. */
export interface AccessTokenIdentity {
  token: string;
  scheme: 'Bearer' | 'DPoP';
  sub: string;
  clientId: string;
  scopes: string[];
  expiresAt: number;
  /** The thumbprint of the key the token is bound to (DPoP). */
  jkt?: string;
  /** The proof's `content_digest`, when the body was not available to check it here. */
  contentDigest?: string;
  claims: JWTPayload;
}

export interface Verifier {
  readonly issuer: string;
  readonly resource: string;
  readonly options: VerifierOptions;
  /** Verifies a request's credentials; throws {@link ResourceError}. */
  verify(request: ResourceRequest, options?: VerifyOptions): Promise<AccessTokenIdentity>;
}

interface Metadata {
  issuer: string;
  jwks_uri: string;
  introspection_endpoint?: string;
}

/** RFC 8414 §3: the well-known suffix goes between the host and the issuer's path. */
const discoveryUrl = (issuer: string) => {
  const url = new URL(issuer);
  url.pathname = `/.well-known/oauth-authorization-server${url.pathname.replace(/\/$/, '')}`;
  return url;
};

const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

const invalidToken = (message: string, scheme?: 'Bearer' | 'DPoP') =>
  new ResourceError(401, 'invalid_token', message, scheme ? { scheme } : {});

const scopesOf = (claims: JWTPayload) =>
  typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];

/** A verifier of this issuer's RFC 9068 access tokens, Bearer or DPoP-bound. */
export function createVerifier(options: VerifierOptions): Verifier {
  const tolerance = options.clockToleranceSeconds ?? 5;
  const replay = options.dpop?.replay ?? memoryReplayCache();
  let metadata:
    | Promise<{ document: Metadata; jwks: ReturnType<typeof createRemoteJWKSet> }>
    | undefined;
  const introspected = new Map<string, { active: boolean; until: number }>();

  const discover = () => {
    if (metadata) return metadata;
    const loading = (async () => {
      const response = await fetch(discoveryUrl(options.issuer), {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(5000),
      });
      if (!response.ok) throw new Error(`discovery answered ${response.status}`);
      const document = (await response.json()) as Metadata;
      if (document.issuer !== options.issuer || typeof document.jwks_uri !== 'string')
        throw new Error('discovery does not describe this issuer');
      const jwks = createRemoteJWKSet(new URL(document.jwks_uri), {
        cacheMaxAge: (options.jwksCacheSeconds ?? 600) * 1000,
        // An unknown kid refetches (key rotation), at most every 30 s.
        cooldownDuration: 30_000,
      });
      return { document, jwks };
    })();
    // A failed discovery is retried by the next request rather than remembered.
    metadata = loading;
    loading.catch(() => {
      metadata = undefined;
    });
    return loading;
  };

  async function isActive(token: string, endpoint: string | undefined): Promise<boolean> {
    const settings = options.introspection;
    if (!settings) return true;
    if (!endpoint) throw new Error('the issuer publishes no introspection endpoint');
    const key = createHash('sha256').update(token).digest('base64url');
    const now = Date.now();
    const cached = introspected.get(key);
    if (cached && cached.until > now) return cached.active;
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(
          `${encodeURIComponent(settings.clientId)}:${encodeURIComponent(settings.clientSecret)}`,
        ).toString('base64')}`,
      },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
      signal: AbortSignal.timeout(5000),
    });
    if (!response.ok) throw new Error(`introspection answered ${response.status}`);
    const active = ((await response.json()) as { active?: unknown }).active === true;
    for (const [k, v] of introspected) if (v.until <= now) introspected.delete(k);
    introspected.set(key, { active, until: now + (settings.cacheSeconds ?? 5) * 1000 });
    return active;
  }

  async function verify(
    request: ResourceRequest,
    verifyOptions: VerifyOptions = {},
  ): Promise<AccessTokenIdentity> {
    const scope = verifyOptions.scopes ?? [];
    try {
      return await verifyOrThrow(request, verifyOptions);
    } catch (error) {
      if (error instanceof ResourceError) {
        if (error.status === 401 && error.details.scope === undefined && scope.length)
          Object.assign(error.details, { scope });
        throw error;
      }
      throw new ResourceError(
        503,
        'temporarily_unavailable',
        'the authorization server cannot be reached to verify the token',
      );
    }
  }

  async function verifyOrThrow(
    request: ResourceRequest,
    { scopes = [], introspect = false }: VerifyOptions,
  ): Promise<AccessTokenIdentity> {
    const authorization = request.authorization?.trim();
    if (!authorization)
      throw new ResourceError(401, 'invalid_token', 'an access token is required', {
        noCredentials: true,
      });
    const match = /^(Bearer|DPoP) +(\S+)$/i.exec(authorization);
    const token = match?.[2];
    if (!match || !token || !TOKEN.test(token))
      throw new ResourceError(400, 'invalid_request', 'the Authorization header is malformed');
    const scheme = match[1]?.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
    if (scheme === 'Bearer' && options.dpop?.required)
      throw invalidToken('this resource accepts DPoP-bound access tokens only', 'DPoP');

    const { document, jwks } = await discover();
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, jwks, {
        issuer: options.issuer,
        audience: options.resource,
        typ: 'at+jwt',
        algorithms: [...(options.algorithms ?? ['RS256', 'PS256', 'ES256'])],
        clockTolerance: tolerance,
        requiredClaims: ['exp', 'iat', 'sub', 'client_id', 'jti'],
      }));
    } catch (error) {
      if (!(error instanceof errors.JOSEError) || error instanceof errors.JWKSTimeout) throw error;
      if (error instanceof errors.JWTExpired)
        throw invalidToken('the access token expired', scheme);
      throw invalidToken(`the access token is invalid (${error.code})`, scheme);
    }
    if (typeof claims.client_id !== 'string' || typeof claims.sub !== 'string')
      throw invalidToken('the access token is invalid', scheme);

    const cnf = claims.cnf as Record<string, unknown> | undefined;
    const boundKey = typeof cnf?.jkt === 'string' ? cnf.jkt : undefined;
    // A confirmation this server cannot check (e.g. a certificate) makes the token unusable here.
    if (cnf !== undefined && boundKey === undefined)
      throw invalidToken('the access token is bound to a key this resource cannot check', scheme);
    if (boundKey && scheme === 'Bearer')
      throw invalidToken('a DPoP-bound access token must be sent with the DPoP scheme', 'DPoP');
    if (!boundKey && scheme === 'DPoP')
      throw invalidToken('the access token is not DPoP-bound', 'DPoP');

    let proofDigest: string | undefined;
    if (boundKey) {
      const proofs = typeof request.dpop === 'string' ? [request.dpop] : (request.dpop ?? []);
      // One proof, one header: a list would let a client pick which one counts.
      const proof = proofs.length === 1 ? proofs[0] : undefined;
      if (!proof || proof.includes(','))
        throw new ResourceError(401, 'invalid_dpop_proof', 'exactly one DPoP proof is required', {
          scheme: 'DPoP',
        });
      const digestRequired = options.dpop?.contentDigest === true;
      const bodyKnown = request.body !== undefined;
      try {
        const checked = await checkDpopProof(
          proof,
          {
            method: request.method,
            url: request.url,
            accessToken: token,
            ...(digestRequired && bodyKnown && { body: request.body }),
          },
          { ...options.dpop, replay },
        );
        if (checked.jkt !== boundKey)
          throw new DpopProofError('invalid_dpop_proof', 'the DPoP proof key is not the bound key');
        if (digestRequired && !bodyKnown) {
          // The body is checked later, where it is known (an API Gateway authorizer sees none).
          const digest = checked.claims.content_digest;
          if (typeof digest !== 'string')
            throw new DpopProofError('invalid_dpop_proof', 'the DPoP proof has no content_digest');
          proofDigest = digest;
        }
      } catch (error) {
        if (!(error instanceof DpopProofError)) throw error;
        throw new ResourceError(401, error.error, error.message, {
          scheme: 'DPoP',
          ...(error.nonce && { dpopNonce: error.nonce }),
        });
      }
    }

    if (introspect && !(await isActive(token, document.introspection_endpoint)))
      throw invalidToken('the access token is no longer active', scheme);

    const granted = scopesOf(claims);
    const missing = scopes.filter((s) => !granted.includes(s));
    if (missing.length)
      throw new ResourceError(403, 'insufficient_scope', 'the access token lacks a needed scope', {
        scheme,
        scope: scopes,
      });
    return {
      token,
      scheme,
      sub: claims.sub,
      clientId: claims.client_id,
      scopes: granted,
      expiresAt: claims.exp as number,
      ...(boundKey && { jkt: boundKey }),
      ...(proofDigest && { contentDigest: proofDigest }),
      claims,
    };
  }

  return { issuer: options.issuer, resource: options.resource, options, verify };
}

export { DPOP_ALGORITHMS };
