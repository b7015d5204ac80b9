import { randomUUID } from 'node:crypto';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  decodeJwt,
  exportJWK,
  generateKeyPair,
  type JWK,
  SignJWT,
} from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalApp } from '../../local/app.js';
import {
  type InteractiveServer,
  publicClientGrants,
  startInteractiveServer,
  tokenRequest,
} from '../support/interactive.js';
import { type Json, jsonPost, readJson, startTestServer } from '../support/server.js';

/**
 * DPoP at the token endpoint (RFC 9449 §4.3, §5), over real HTTP on both targets: proofs are
 * checked against the token endpoint's public URL, spent once, and bind the tokens (`cnf.jkt`,
 * `token_type: DPoP`); a public client's refresh tokens are bound to the key too.
 */
const REDIRECT = 'http://127.0.0.1:8766/callback';
const insecure = { [oauth.allowInsecureRequests]: true } as const;

let server: InteractiveServer;
let issuer: string;
let tokenEndpoint: string;

type KeyPair = { publicKey: CryptoKey; privateKey: CryptoKey };

const keyPair = (alg = 'ES256') => generateKeyPair(alg, { extractable: true }) as Promise<KeyPair>;

interface ProofOptions {
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  /** The key the proof is signed with, when it is not the one its header names. */
  signWith?: CryptoKey;
  alg?: string;
}

/** A DPoP proof for the token endpoint as a client makes it; `options` spoil it one way. */
async function proof(keys: KeyPair, options: ProofOptions = {}) {
  const jwk: JWK = await exportJWK(keys.publicKey);
  return new SignJWT({
    jti: randomUUID(),
    htm: 'POST',
    htu: tokenEndpoint,
    iat: Math.floor(Date.now() / 1000),
    ...options.claims,
  })
    .setProtectedHeader({ alg: options.alg ?? 'ES256', typ: 'dpop+jwt', jwk, ...options.header })
    .sign(options.signWith ?? keys.privateKey);
}

/** A proof no key could have signed, around a header key WebCrypto cannot import. */
function unsigned(alg: string, jwk: Record<string, string>) {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const claims = { jti: randomUUID(), htm: 'POST', htu: tokenEndpoint, iat: now() };
  return `${encode({ typ: 'dpop+jwt', alg, jwk })}.${encode(claims)}.${Buffer.alloc(64).toString('base64url')}`;
}

async function register(metadata: Json) {
  const response = await jsonPost(`${issuer}/register`, metadata);
  expect(response.status).toBe(201);
  return readJson(response);
}

const machine = (extra: Json = {}) =>
  register({
    grant_types: ['client_credentials'],
    token_endpoint_auth_method: 'client_secret_post',
    scope: 'read',
    ...extra,
  });

const clientCredentials = (registered: Json, headers: Record<string, string> = {}) =>
  tokenRequest(
    issuer,
    {
      grant_type: 'client_credentials',
      client_id: registered.client_id,
      client_secret: registered.client_secret,
    },
    headers,
  );

const expectRefused = async (response: Response, error = 'invalid_dpop_proof') => {
  expect(response.status).toBe(400);
  expect(await readJson(response)).toMatchObject({ error });
};

beforeAll(async () => {
  server = await startInteractiveServer({ DCR_ALLOWED_SCOPES: 'read' });
  issuer = server.app.issuer;
  tokenEndpoint = `${issuer}/token`;
});

afterAll(() => server.close());

describe('discovery', () => {
  it('advertises the asymmetric DPoP proof algorithms (RFC 9449 §5.1)', async () => {
    const metadata = await readJson(
      await fetch(`${issuer}/.well-known/oauth-authorization-server`),
    );
    expect(metadata.dpop_signing_alg_values_supported).toEqual(
      expect.arrayContaining(['ES256', 'RS256', 'PS256', 'EdDSA']),
    );
    expect(
      (metadata.dpop_signing_alg_values_supported as string[]).filter((a) => /^(HS|none)/.test(a)),
    ).toEqual([]);
  });
});

describe('client_credentials with a DPoP proof', () => {
  it('oauth4webapi gets a DPoP token bound to its key; introspection shows the binding', async () => {
    const registered = await machine();
    const as = await oauth.processDiscoveryResponse(
      new URL(issuer),
      await oauth.discoveryRequest(new URL(issuer), { algorithm: 'oauth2', ...insecure }),
    );
    const client: oauth.Client = { client_id: registered.client_id };
    const keys = await keyPair();
    const DPoP = oauth.DPoP(client, keys);
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretPost(registered.client_secret),
      new URLSearchParams({ scope: 'read' }),
      { DPoP, ...insecure },
    );
    const tokens = await oauth.processClientCredentialsResponse(as, client, response);
    expect(tokens.token_type).toBe('dpop');
    const jkt = await calculateJwkThumbprint(await exportJWK(keys.publicKey));
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt });

    const introspection = await fetch(`${issuer}/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: tokens.access_token,
        client_id: registered.client_id,
        client_secret: registered.client_secret,
      }),
    });
    expect(await readJson(introspection)).toMatchObject({
      active: true,
      token_type: 'DPoP',
      cnf: { jkt },
    });
  });

  it('without a proof the token stays Bearer, without cnf', async () => {
    const body = await readJson(await clientCredentials(await machine()));
    expect(body.token_type).toBe('Bearer');
    expect(decodeJwt(body.access_token).cnf).toBeUndefined();
  });

  it('compares htu without query and fragment, after normalisation (RFC 9449 §4.3)', async () => {
    const registered = await machine();
    const keys = await keyPair();
    const url = new URL(tokenEndpoint);
    for (const htu of [
      `${tokenEndpoint}?a=b#c`,
      `${url.protocol.toUpperCase()}//${url.host.toUpperCase()}${url.pathname}`,
    ]) {
      const response = await clientCredentials(registered, {
        dpop: await proof(keys, { claims: { htu } }),
      });
      expect(response.status).toBe(200);
      expect((await readJson(response)).token_type).toBe('DPoP');
    }
  });

  const spoiled: [string, (keys: KeyPair) => Promise<string>][] = [
    ['a typ other than dpop+jwt', (k) => proof(k, { header: { typ: 'JWT' } })],
    [
      'a symmetric algorithm',
      () =>
        new SignJWT({ jti: randomUUID(), htm: 'POST', htu: tokenEndpoint, iat: now() })
          .setProtectedHeader({
            alg: 'HS256',
            typ: 'dpop+jwt',
            jwk: { kty: 'oct', k: Buffer.alloc(32, 7).toString('base64url') } as JWK,
          })
          .sign(new Uint8Array(32).fill(7)),
    ],
    [
      'a private key in the header',
      async (k) => proof(k, { header: { jwk: await exportJWK(k.privateKey) } }),
    ],
    ['no key in the header', (k) => proof(k, { header: { jwk: undefined } })],
    [
      'a signature by another key',
      async (k) => proof(k, { signWith: (await keyPair()).privateKey }),
    ],
    ['htm GET', (k) => proof(k, { claims: { htm: 'GET' } })],
    ['htu of another endpoint', (k) => proof(k, { claims: { htu: `${issuer}/introspect` } })],
    [
      'htu naming the host that reached the server rather than the issuer',
      (k) => proof(k, { claims: { htu: tokenEndpoint.replace('127.0.0.1', 'localhost') } }),
    ],
    ['htu of another server', (k) => proof(k, { claims: { htu: 'https://evil.example/token' } })],
    ['iat 6 minutes old', (k) => proof(k, { claims: { iat: now() - 360 } })],
    ['iat 6 minutes ahead', (k) => proof(k, { claims: { iat: now() + 360 } })],
    ['no jti', (k) => proof(k, { claims: { jti: undefined } })],
    ['not a JWT', async () => 'not-a-proof'],
    [
      'a malformed EC key',
      async () => unsigned('ES256', { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }),
    ],
    [
      'an RSA key under 2048 bits',
      async () => unsigned('RS256', { kty: 'RSA', n: 'AQAB', e: 'AQAB' }),
    ],
    ['two proofs', async (k) => `${await proof(k)}, ${await proof(k)}`],
  ];

  it.each(spoiled)('refuses a proof with %s: 400 invalid_dpop_proof, no token', async (_, make) => {
    const registered = await machine();
    await expectRefused(await clientCredentials(registered, { dpop: await make(await keyPair()) }));
  });

  it('refuses a proof presented a second time (jti single use)', async () => {
    const registered = await machine();
    const once = await proof(await keyPair());
    expect((await clientCredentials(registered, { dpop: once })).status).toBe(200);
    await expectRefused(await clientCredentials(registered, { dpop: once }));
    // Not even another client can spend it again.
    await expectRefused(await clientCredentials(await machine(), { dpop: once }));
  });

  it('a client registered with dpop_bound_access_tokens must send a proof', async () => {
    const registered = await machine({ dpop_bound_access_tokens: true });
    expect(registered.dpop_bound_access_tokens).toBe(true);
    await expectRefused(await clientCredentials(registered));
    const bound = await clientCredentials(registered, { dpop: await proof(await keyPair()) });
    expect((await readJson(bound)).token_type).toBe('DPoP');
  });
});

const now = () => Math.floor(Date.now() / 1000);

describe('a public client’s code flow with DPoP', () => {
  let clientId: string;
  let grants: Awaited<ReturnType<typeof publicClientGrants>>;

  beforeAll(async () => {
    const registered = await register({
      client_name: 'DPoP agent',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    });
    clientId = registered.client_id;
    grants = await publicClientGrants(issuer, clientId, REDIRECT);
  });

  const redeem = async (keys: KeyPair) => {
    const response = await grants.redeem(await grants.signIn(), { dpop: await proof(keys) });
    expect(response.status).toBe(200);
    return readJson(response);
  };

  const refresh = async (refreshToken: string, keys?: KeyPair) =>
    grants.refresh(refreshToken, keys ? { dpop: await proof(keys) } : {});

  it('binds the access token and the refresh token family to the proof’s key', async () => {
    const keys = await keyPair();
    const jkt = await calculateJwkThumbprint(await exportJWK(keys.publicKey));
    const tokens = await redeem(keys);
    expect(tokens.token_type).toBe('DPoP');
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt });

    // Without the key, or with another, the refresh token is worth nothing.
    await expectRefused(await refresh(tokens.refresh_token), 'invalid_grant');
    await expectRefused(await refresh(tokens.refresh_token, await keyPair()), 'invalid_grant');

    const refreshed = await refresh(tokens.refresh_token, keys);
    expect(refreshed.status).toBe(200);
    const next = await readJson(refreshed);
    expect(next.token_type).toBe('DPoP');
    expect(decodeJwt(next.access_token).cnf).toEqual({ jkt });

    // The successor stays bound to the same key.
    await expectRefused(await refresh(next.refresh_token), 'invalid_grant');
    expect((await refresh(next.refresh_token, keys)).status).toBe(200);
  });

  it('dpop_jkt at /authorize binds the code: only a proof by that key redeems it (RFC 9449 §10)', async () => {
    const keys = await keyPair();
    const jkt = await calculateJwkThumbprint(await exportJWK(keys.publicKey));
    const signedIn = await grants.signIn({ dpop_jkt: jkt });
    const redeem = (headers: Record<string, string>) => grants.redeem(signedIn, headers);
    await expectRefused(await redeem({}), 'invalid_grant');
    await expectRefused(await redeem({ dpop: await proof(await keyPair()) }), 'invalid_grant');
    // Refused attempts left it unspent: its client redeems it with the key it named.
    const tokens = await redeem({ dpop: await proof(keys) });
    expect(tokens.status).toBe(200);
    expect(decodeJwt((await readJson(tokens)).access_token).cnf).toEqual({ jkt });
  });

  it('a reuse within the grace window gets the same successor with the key, nothing without', async () => {
    const keys = await keyPair();
    const tokens = await redeem(keys);
    const first = await readJson(await refresh(tokens.refresh_token, keys));
    // Another key in the window: refused, and the family lives on.
    await expectRefused(await refresh(tokens.refresh_token, await keyPair()), 'invalid_grant');
    const again = await readJson(await refresh(tokens.refresh_token, keys));
    expect(again.refresh_token).toBe(first.refresh_token);
    expect(again.token_type).toBe('DPoP');
  });
});

describe('server nonces (DCR_DPOP_NONCE=on)', () => {
  let nonceServer: LocalApp;
  let as: oauth.AuthorizationServer;

  beforeAll(async () => {
    nonceServer = await startTestServer({ DCR_DPOP_NONCE: 'on' });
    as = await oauth.processDiscoveryResponse(
      new URL(nonceServer.issuer),
      await oauth.discoveryRequest(new URL(nonceServer.issuer), {
        algorithm: 'oauth2',
        ...insecure,
      }),
    );
  });
  afterAll(() => nonceServer.close());

  const registerThere = async () =>
    readJson(
      await jsonPost(`${nonceServer.issuer}/register`, {
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_post',
      }),
    );
  const issue = (registered: Json, dpop: string) =>
    tokenRequest(
      nonceServer.issuer,
      {
        grant_type: 'client_credentials',
        client_id: registered.client_id,
        client_secret: registered.client_secret,
      },
      { dpop },
    );
  const proofThere = (keys: KeyPair, claims: Record<string, unknown> = {}) =>
    proof(keys, { claims: { htu: `${nonceServer.issuer}/token`, ...claims } });

  it('a proof without the current nonce: 400 use_dpop_nonce with a DPoP-Nonce header; with it: a token and the next nonce', async () => {
    const registered = await registerThere();
    const keys = await keyPair();
    const refused = await issue(registered, await proofThere(keys));
    await expectRefused(refused.clone(), 'use_dpop_nonce');
    const nonce = refused.headers.get('dpop-nonce');
    expect(nonce).toEqual(expect.any(String));
    await expectRefused(
      await issue(registered, await proofThere(keys, { nonce: 'made-up' })),
      'use_dpop_nonce',
    );
    const issued = await issue(registered, await proofThere(keys, { nonce }));
    expect(issued.status).toBe(200);
    expect((await readJson(issued)).token_type).toBe('DPoP');
    expect(issued.headers.get('dpop-nonce')).toBe(nonce);
  });

  it('oauth4webapi retries with the nonce it was given and gets a bound token', async () => {
    const registered = await registerThere();
    const client: oauth.Client = { client_id: registered.client_id };
    const DPoP = oauth.DPoP(client, await keyPair());
    const request = () =>
      oauth
        .clientCredentialsGrantRequest(
          as,
          client,
          oauth.ClientSecretPost(registered.client_secret),
          new URLSearchParams(),
          { DPoP, ...insecure },
        )
        .then((response) => oauth.processClientCredentialsResponse(as, client, response));
    const first = await request().catch((error: unknown) => error);
    expect(oauth.isDPoPNonceError(first)).toBe(true);
    expect((await request()).token_type).toBe('dpop');
  });
});
