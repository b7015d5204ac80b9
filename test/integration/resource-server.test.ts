import { randomUUID } from 'node:crypto';
import { request, type Server } from 'node:http';
import {
  base64url,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  type JWTHeaderParameters,
  SignJWT,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startMcpExample } from '../../examples/mcp-server/server.js';
import {
  accessTokenHash,
  contentDigest,
  rotatingNonces,
} from '../../lambdas/core/tokens/dpop-proof.js';
import { createVerifier, ResourceError } from '../../resource-server/verifier.js';
import { freePort } from '../support/free-port.js';
import { WHOAMI_CALL as CALL, callMcp } from '../support/mcp-sdk-provider.js';
import { dpopKey, type StandInIssuer, startStandInIssuer } from '../support/stand-in-issuer.js';

/**
 * The resource-server kit protecting the example MCP server, against a stand-in issuer whose
 * tokens the test signs (DPoP-bound ones included): every way a request is refused, and the
 * challenge each refusal carries.
 */

const close = (server: Server | undefined) =>
  new Promise<void>((resolve) => {
    if (!server) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });

let issuer: StandInIssuer;
let server: Server;
let nonceServer: Server;
let resource: string;
let nonceResource: string;

beforeAll(async () => {
  const [port, noncePort] = [await freePort(), await freePort()];
  resource = `http://127.0.0.1:${port}/mcp`;
  nonceResource = `http://127.0.0.1:${noncePort}/mcp`;
  issuer = await startStandInIssuer({ aud: resource });
  server = await startMcpExample({
    port,
    issuer: issuer.issuer,
    resource,
    scopes: ['mcp:tools'],
    dpop: { contentDigest: true },
  });
  nonceServer = await startMcpExample({
    port: noncePort,
    issuer: issuer.issuer,
    resource: nonceResource,
    scopes: ['mcp:tools'],
    dpop: { contentDigest: true, nonce: rotatingNonces() },
  });
});
afterAll(async () => {
  await close(server);
  await close(nonceServer);
  await issuer?.close();
});

/** A JSON-RPC call to the MCP endpoint with the given credentials. */
const call = (headers: Record<string, string>, body = CALL, url = resource) =>
  callMcp(url, headers, body);

const challengeOf = (response: Response) => response.headers.get('www-authenticate') ?? '';

async function expectRefused(response: Response, status: number, error: string, scheme: string) {
  expect(response.status).toBe(status);
  expect(await response.json()).toEqual({ error, error_description: expect.any(String) });
  const challenge = challengeOf(response);
  expect(challenge).toContain(`${scheme} `);
  expect(challenge).toMatch(new RegExp(`${scheme} [\\s\\S]*error="${error}"`));
  expect(challenge).toContain(
    `resource_metadata="${resource.replace('/mcp', '/.well-known/oauth-protected-resource/mcp')}"`,
  );
}

async function whoami(response: Response) {
  expect(response.status).toBe(200);
  const { result } = (await response.json()) as { result: { content: { text: string }[] } };
  return JSON.parse(result.content[0]?.text ?? '{}');
}

describe('the metadata and the first challenge', () => {
  it('serves RFC 9728 metadata at the resource path under the well-known prefix', async () => {
    const response = await fetch(
      resource.replace('/mcp', '/.well-known/oauth-protected-resource/mcp'),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      resource,
      authorization_servers: [issuer.issuer],
      scopes_supported: ['mcp:tools'],
      bearer_methods_supported: ['header'],
      dpop_signing_alg_values_supported: expect.arrayContaining(['ES256', 'PS256']),
    });
  });

  it('a request without a token: 401, Bearer and DPoP challenges naming the metadata, no error', async () => {
    const response = await call({});
    expect(response.status).toBe(401);
    const challenge = challengeOf(response);
    expect(challenge).toMatch(
      /^Bearer resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource\/mcp", scope="mcp:tools", DPoP /,
    );
    expect(challenge).toContain('algs="ES256');
    expect(challenge).not.toContain('error=');
  });
});

describe('Bearer tokens', () => {
  it('a valid token reaches the tool, which sees the subject, client and scope', async () => {
    const token = await issuer.token();
    expect(await whoami(await call({ authorization: `Bearer ${token}` }))).toEqual({
      sub: 'user-1',
      client_id: 'client-1',
      scope: 'mcp:tools',
    });
  });

  const refusals: [string, () => Promise<string>][] = [
    ['a token of another type (typ JWT)', () => issuer.token({}, { typ: 'JWT' })],
    ['a token from another issuer', () => issuer.token({ iss: 'https://evil.example' })],
    ['a token for another resource', () => issuer.token({ aud: 'https://other.example/mcp' })],
    [
      'an expired token',
      () =>
        issuer.token({
          iat: Math.floor(Date.now() / 1000) - 600,
          exp: Math.floor(Date.now() / 1000) - 60,
        }),
    ],
    ['a token not valid yet', () => issuer.token({ nbf: Math.floor(Date.now() / 1000) + 120 })],
    [
      'a token with a forged signature',
      async () => {
        const [header, payload] = (await issuer.token()).split('.');
        const [, , signature] = (await issuer.token({ sub: 'someone-else' })).split('.');
        return `${header}.${payload}.${signature}`;
      },
    ],
    [
      'a token signed with a published key of an algorithm not allowed (ES384)',
      () => issuer.token({}, {}, issuer.keys[0]),
    ],
    ['a token without client_id', () => issuer.token({ client_id: undefined })],
    [
      'a token bound to a certificate this resource cannot check',
      () => issuer.token({ cnf: { 'x5t#S256': 'abc' } }),
    ],
  ];
  for (const [name, make] of refusals) {
    it(`${name}: 401 invalid_token`, async () => {
      await expectRefused(
        await call({ authorization: `Bearer ${await make()}` }),
        401,
        'invalid_token',
        'Bearer',
      );
    });
  }

  it('a token lacking the scope: 403 insufficient_scope naming the scope needed (step-up)', async () => {
    const response = await call({
      authorization: `Bearer ${await issuer.token({ scope: 'other' })}`,
    });
    await expectRefused(response, 403, 'insufficient_scope', 'Bearer');
    expect(challengeOf(response)).toContain('scope="mcp:tools"');
  });

  it('a malformed Authorization header: 400 invalid_request', async () => {
    const response = await call({ authorization: 'Bearer two tokens' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_request' });
  });
});

describe('DPoP-bound tokens (the MCP profile: the proof carries the body digest)', () => {
  const bound = async () => {
    const key = await dpopKey();
    return { key, token: await issuer.token({ cnf: { jkt: key.jkt } }) };
  };
  const dpopCall = (token: string, proof: string, body = CALL) =>
    call({ authorization: `DPoP ${token}`, dpop: proof }, body);

  it('a bound token with a good proof reaches the tool', async () => {
    const { key, token } = await bound();
    const proof = await key.proof({ method: 'POST', url: resource, token, body: CALL });
    expect(await whoami(await dpopCall(token, proof))).toMatchObject({ sub: 'user-1' });
  });

  it('a bound token sent as Bearer: 401 invalid_token', async () => {
    const { token } = await bound();
    await expectRefused(
      await call({ authorization: `Bearer ${token}` }),
      401,
      'invalid_token',
      'DPoP',
    );
  });

  it('a bound token without a proof: 401 invalid_dpop_proof', async () => {
    const { token } = await bound();
    await expectRefused(
      await call({ authorization: `DPoP ${token}` }),
      401,
      'invalid_dpop_proof',
      'DPoP',
    );
  });

  it('an unbound token with the DPoP scheme: 401 invalid_token', async () => {
    const token = await issuer.token();
    const key = await dpopKey();
    const proof = await key.proof({ method: 'POST', url: resource, token, body: CALL });
    await expectRefused(await dpopCall(token, proof), 401, 'invalid_token', 'DPoP');
  });

  it('a replayed proof: the first use passes, the second is 401 invalid_dpop_proof', async () => {
    const { key, token } = await bound();
    const proof = await key.proof({ method: 'POST', url: resource, token, body: CALL });
    expect((await dpopCall(token, proof)).status).toBe(200);
    await expectRefused(await dpopCall(token, proof), 401, 'invalid_dpop_proof', 'DPoP');
  });

  it('a proof made for another body: 401 invalid_dpop_proof', async () => {
    const { key, token } = await bound();
    const other = CALL.replace('whoami', 'other');
    const proof = await key.proof({ method: 'POST', url: resource, token, body: other });
    await expectRefused(await dpopCall(token, proof), 401, 'invalid_dpop_proof', 'DPoP');
  });

  const badProofs: [string, (k: Awaited<ReturnType<typeof bound>>) => Promise<string>][] = [
    [
      'a proof for another method',
      ({ key, token }) => key.proof({ method: 'GET', url: resource, token, body: CALL }),
    ],
    [
      'a proof for another URL',
      ({ key, token }) => key.proof({ method: 'POST', url: `${resource}/x`, token, body: CALL }),
    ],
    [
      'a proof for another token (ath)',
      ({ key }) => key.proof({ method: 'POST', url: resource, token: 'other', body: CALL }),
    ],
    ['a proof without ath', ({ key }) => key.proof({ method: 'POST', url: resource, body: CALL })],
    [
      'a proof without content_digest',
      ({ key, token }) => key.proof({ method: 'POST', url: resource, token }),
    ],
    [
      'a stale proof (iat six minutes ago)',
      ({ key, token }) =>
        key.proof(
          { method: 'POST', url: resource, token, body: CALL },
          { iat: Math.floor(Date.now() / 1000) - 360 },
        ),
    ],
    [
      'a proof from the future (iat in six minutes)',
      ({ key, token }) =>
        key.proof(
          { method: 'POST', url: resource, token, body: CALL },
          { iat: Math.floor(Date.now() / 1000) + 360 },
        ),
    ],
    [
      'a proof signed by another key than the bound one',
      async ({ token }) =>
        (await dpopKey()).proof({ method: 'POST', url: resource, token, body: CALL }),
    ],
    [
      'a proof of another type (typ JWT)',
      ({ key, token }) =>
        key.proof({ method: 'POST', url: resource, token, body: CALL }, {}, { typ: 'JWT' }),
    ],
  ];
  for (const [name, make] of badProofs) {
    it(`${name}: 401 invalid_dpop_proof`, async () => {
      const credentials = await bound();
      await expectRefused(
        await dpopCall(credentials.token, await make(credentials)),
        401,
        'invalid_dpop_proof',
        'DPoP',
      );
    });
  }

  it('a proof carrying its private key, or signed with a shared secret: 401 invalid_dpop_proof', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jkt = await calculateJwkThumbprint(await exportJWK(publicKey));
    const token = await issuer.token({ cnf: { jkt } });
    const claims = {
      jti: randomUUID(),
      htm: 'POST',
      htu: resource,
      iat: Math.floor(Date.now() / 1000),
      ath: accessTokenHash(token),
      content_digest: contentDigest(CALL),
    };
    const leaked = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(privateKey) })
      .sign(privateKey);
    await expectRefused(await dpopCall(token, leaked), 401, 'invalid_dpop_proof', 'DPoP');
    const secret = new Uint8Array(32).fill(7);
    // jose's types keep secret members out of a header; this test puts one there on purpose.
    const sharedSecretHeader = {
      alg: 'HS256',
      typ: 'dpop+jwt',
      jwk: { kty: 'oct', k: base64url.encode(secret) },
    } as JWTHeaderParameters;
    const shared = await new SignJWT({ ...claims, jti: randomUUID() })
      .setProtectedHeader(sharedSecretHeader)
      .sign(secret);
    await expectRefused(await dpopCall(token, shared), 401, 'invalid_dpop_proof', 'DPoP');
  });

  it('two DPoP headers, each a good proof: 401 invalid_dpop_proof', async () => {
    const { key, token } = await bound();
    const proofs = [
      await key.proof({ method: 'POST', url: resource, token, body: CALL }),
      await key.proof({ method: 'POST', url: resource, token, body: CALL }),
    ];
    // node:http sends an array as separate header lines (fetch would join them with a comma).
    const response = await new Promise<Response>((resolve, reject) => {
      const req = request(resource, {
        method: 'POST',
        headers: {
          authorization: `DPoP ${token}`,
          dpop: proofs,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
      });
      req.on('response', async (res) => {
        const chunks: Buffer[] = [];
        for await (const chunk of res) chunks.push(chunk as Buffer);
        const headers = new Headers(res.headers as Record<string, string>);
        resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 0, headers }));
      });
      req.on('error', reject);
      req.end(CALL);
    });
    await expectRefused(response, 401, 'invalid_dpop_proof', 'DPoP');
  });

  it('a resource that requires nonces: 401 use_dpop_nonce with DPoP-Nonce, then the retry passes', async () => {
    const key = await dpopKey();
    const token = await issuer.token({ aud: nonceResource, cnf: { jkt: key.jkt } });
    const first = await key.proof({ method: 'POST', url: nonceResource, token, body: CALL });
    const refused = await call(
      { authorization: `DPoP ${token}`, dpop: first },
      CALL,
      nonceResource,
    );
    expect(refused.status).toBe(401);
    expect(challengeOf(refused)).toContain('error="use_dpop_nonce"');
    const nonce = refused.headers.get('dpop-nonce') ?? '';
    expect(nonce).toMatch(/^[\w-]{43}$/);
    const wrong = await key.proof(
      { method: 'POST', url: nonceResource, token, body: CALL },
      { nonce: 'made-up' },
    );
    expect(
      (await call({ authorization: `DPoP ${token}`, dpop: wrong }, CALL, nonceResource)).status,
    ).toBe(401);
    const retry = await key.proof(
      { method: 'POST', url: nonceResource, token, body: CALL },
      { nonce },
    );
    expect(
      await whoami(
        await call({ authorization: `DPoP ${token}`, dpop: retry }, CALL, nonceResource),
      ),
    ).toMatchObject({ sub: 'user-1' });
  });
});

describe('the verifier on its own', () => {
  it('introspects when asked: a revoked token is refused, within the cache time', async () => {
    const verifier = createVerifier({
      issuer: issuer.issuer,
      resource,
      introspection: { clientId: 'rs', clientSecret: 'rs-secret', cacheSeconds: 0 },
    });
    const token = await issuer.token();
    const request = { method: 'GET', url: resource, authorization: `Bearer ${token}` };
    await expect(verifier.verify(request, { introspect: true })).resolves.toMatchObject({
      sub: 'user-1',
    });
    issuer.revoked.add(token);
    // Without introspection the signature alone still passes; with it, the revocation shows.
    await expect(verifier.verify(request)).resolves.toMatchObject({ sub: 'user-1' });
    await expect(verifier.verify(request, { introspect: true })).rejects.toMatchObject({
      status: 401,
      error: 'invalid_token',
    });
  });

  it('a rotated signing key: an unknown kid fetches the JWKS again (once its cooldown passed)', async () => {
    const verifier = createVerifier({ issuer: issuer.issuer, resource });
    const verify = async () =>
      verifier.verify({
        method: 'GET',
        url: resource,
        authorization: `Bearer ${await issuer.token()}`,
      });
    await expect(verify()).resolves.toMatchObject({ sub: 'user-1' });
    const before = issuer.jwksFetches();
    await issuer.rotate();
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 31_000);
      await expect(verify()).resolves.toMatchObject({ sub: 'user-1' });
    } finally {
      vi.useRealTimers();
    }
    expect(issuer.jwksFetches()).toBe(before + 1);
  });

  it('an unreachable issuer: 503 temporarily_unavailable, then verified once it is up', async () => {
    const port = await freePort();
    const verifier = createVerifier({ issuer: `http://127.0.0.1:${port}`, resource });
    const request = async (token: string) =>
      verifier.verify({ method: 'GET', url: resource, authorization: `Bearer ${token}` });
    const error = await request(await issuer.token()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceError);
    expect(error).toMatchObject({ status: 503, error: 'temporarily_unavailable' });
    // A failed discovery is not remembered: the next request discovers again.
    const late = await startStandInIssuer({ aud: resource }, port);
    try {
      await expect(request(await late.token())).resolves.toMatchObject({ sub: 'user-1' });
    } finally {
      await late.close();
    }
  });

  it('DPoP-only resources refuse Bearer and answer a DPoP challenge only', async () => {
    const verifier = createVerifier({ issuer: issuer.issuer, resource, dpop: { required: true } });
    await expect(
      verifier.verify({
        method: 'GET',
        url: resource,
        authorization: `Bearer ${await issuer.token()}`,
      }),
    ).rejects.toMatchObject({ status: 401, error: 'invalid_token', details: { scheme: 'DPoP' } });
  });
});
