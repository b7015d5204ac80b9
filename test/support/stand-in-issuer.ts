import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';
import { accessTokenHash, contentDigest } from '../../lambdas/core/tokens/dpop-proof.js';

/**
 * A stand-in authorization server on loopback for the resource-server kit's tests: RFC 8414
 * discovery, a JWKS and an introspection endpoint, and RFC 9068 access tokens it signs itself —
 * DPoP-bound ones too (`cnf.jkt`), which the project's token endpoint does not issue yet.
 */
export interface StandInIssuer {
  readonly issuer: string;
  /** An RFC 9068 access token: defaults overridden by `claims`, header by `header`. */
  token(claims?: JWTPayload, header?: Record<string, unknown>, key?: SigningKey): Promise<string>;
  /**
   * The keys in the JWKS; tokens are signed with the last. The first is an ES384 key, published
   * but not in resource servers' default algorithm allow-list.
   */
  readonly keys: SigningKey[];
  /** A new signing key served in the JWKS from now on; later tokens use it. */
  rotate(): Promise<void>;
  /** Tokens introspection reports inactive. */
  readonly revoked: Set<string>;
  /** How many times the JWKS was fetched. */
  jwksFetches(): number;
  close(): Promise<void>;
}

export interface SigningKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
  alg: string;
}

export async function signingKey(alg = 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const publicJwk = { ...(await exportJWK(publicKey)), kid: randomUUID(), alg, use: 'sig' };
  return { privateKey, publicJwk, alg };
}

export async function startStandInIssuer(
  defaults: { aud: string; scope?: string } = { aud: 'http://127.0.0.1/mcp' },
  port = 0,
): Promise<StandInIssuer> {
  const keys = [await signingKey('ES384'), await signingKey()];
  const revoked = new Set<string>();
  let fetches = 0;
  let issuer = '';
  const server = createServer((req, res) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/.well-known/oauth-authorization-server')
      return json(200, {
        issuer,
        jwks_uri: `${issuer}/jwks`,
        introspection_endpoint: `${issuer}/introspect`,
      });
    if (req.url === '/jwks') {
      fetches++;
      return json(200, { keys: keys.map((k) => k.publicJwk) });
    }
    if (req.url === '/introspect' && req.method === 'POST') {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        const token = new URLSearchParams(body).get('token') ?? '';
        json(200, { active: !revoked.has(token) });
      });
      return;
    }
    json(404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const now = () => Math.floor(Date.now() / 1000);
  return {
    issuer,
    keys,
    revoked,
    jwksFetches: () => fetches,
    async token(claims = {}, header = {}, key = keys.at(-1) as SigningKey) {
      return new SignJWT({
        iss: issuer,
        aud: defaults.aud,
        sub: 'user-1',
        client_id: 'client-1',
        scope: defaults.scope ?? 'mcp:tools',
        jti: randomUUID(),
        iat: now(),
        exp: now() + 300,
        ...claims,
      })
        .setProtectedHeader({ alg: key.alg, typ: 'at+jwt', kid: key.publicJwk.kid, ...header })
        .sign(key.privateKey);
    },
    async rotate() {
      keys.push(await signingKey());
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A client's DPoP key and the proofs it makes (RFC 9449 §4.2; MCP profile's content_digest). */
export async function dpopKey() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  const jkt = await calculateJwkThumbprint(jwk);
  return {
    jkt,
    proof(
      request: { method: string; url: string; token?: string; body?: string },
      claims: JWTPayload = {},
      header: Record<string, unknown> = {},
    ) {
      return new SignJWT({
        jti: randomUUID(),
        htm: request.method,
        htu: request.url,
        iat: Math.floor(Date.now() / 1000),
        ...(request.token && { ath: accessTokenHash(request.token) }),
        ...(request.body !== undefined && { content_digest: contentDigest(request.body) }),
        ...claims,
      })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk, ...header })
        .sign(privateKey);
    },
  };
}
