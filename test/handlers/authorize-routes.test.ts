import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { GuardedRemoteKeySets } from '../../lambdas/adapters/fetch/remote-key-sets.js';
import { MemoryBlockedSoftwareIds } from '../../lambdas/adapters/memory/memory-blocked-software.js';
import { MemoryClientRepository } from '../../lambdas/adapters/memory/memory-client-repository.js';
import { MemoryGrantStore } from '../../lambdas/adapters/memory/memory-grant-store.js';
import { MemoryInitialAccessTokens } from '../../lambdas/adapters/memory/memory-initial-access-tokens.js';
import { MemoryRegistrationCounter } from '../../lambdas/adapters/memory/memory-registration-counter.js';
import { MemorySoftwareClientCounts } from '../../lambdas/adapters/memory/memory-software-client-counts.js';
import { loadConfig } from '../../lambdas/config.js';
import type { UpstreamLogin, UpstreamOutcome } from '../../lambdas/core/authorization/ports.js';
import { hashSecret } from '../../lambdas/core/secrets.js';
import type { AuthorizationCodeRecord } from '../../lambdas/core/tokens/ports.js';
import type { HttpRequest, HttpResponse } from '../../lambdas/http/message.js';
import { createRouter, type Router } from '../../lambdas/http/router.js';
import { routesFor } from '../../lambdas/wiring.js';
import { FakeClock } from '../support/fakes.js';

/**
 * The authorize routes behind the router, as a Lambda runs them (no development login): an
 * upstream OpenID Provider faked, codes kept in a map, cookies carried by hand.
 */
const ISSUER = 'https://auth.example.com';
const REDIRECT = 'http://127.0.0.1:8765/callback';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

/** The memory grant store, recording the codes the flow stores. */
class RecordingGrants extends MemoryGrantStore {
  readonly stored: AuthorizationCodeRecord[] = [];
  override async putCode(code: AuthorizationCodeRecord) {
    this.stored.push(code);
    return super.putCode(code);
  }
}

/** An upstream that records what it was asked and answers what the test says. */
class FakeUpstream implements UpstreamLogin {
  begun: Parameters<UpstreamLogin['begin']>[0][] = [];
  finished: Parameters<UpstreamLogin['finish']>[] = [];
  answer: UpstreamOutcome = { identity: { sub: 'upstream|42', authTime: 1_800_000_000 } };
  failBegin = false;
  async begin(input: Parameters<UpstreamLogin['begin']>[0]) {
    if (this.failBegin) throw new Error('ECONNREFUSED');
    this.begun.push(input);
    return {
      location: `https://login.example.org/auth?state=${input.state}`,
      pending: { nonce: 'nonce-1', codeVerifier: 'verifier-1' },
    };
  }
  async finish(...args: Parameters<UpstreamLogin['finish']>) {
    this.finished.push(args);
    return this.answer;
  }
}

let router: Router;
let grants: RecordingGrants;
let upstream: FakeUpstream;
let clientId: string;
let jar: Map<string, string>;
let clock: FakeClock;

const cookieHeader = () => [...jar].map(([n, v]) => `${n}=${v}`).join('; ');

async function send(
  method: string,
  target: string,
  init: { headers?: Record<string, string>; body?: string } = {},
): Promise<HttpResponse> {
  const url = new URL(target, ISSUER);
  const request: HttpRequest = {
    method,
    path: url.pathname,
    query: url.search.slice(1),
    headers: { cookie: cookieHeader(), ...init.headers },
    ...(init.body !== undefined && { body: Buffer.from(init.body) }),
  };
  const response = await router(request, ISSUER);
  for (const line of response.cookies ?? []) {
    const [pair = ''] = line.split(';');
    const at = pair.indexOf('=');
    if (line.includes('Max-Age=0')) jar.delete(pair.slice(0, at));
    else jar.set(pair.slice(0, at), pair.slice(at + 1));
  }
  return response;
}

const authorizeQuery = (extra: Record<string, string> = {}) =>
  new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    state: 'client-state',
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
    scope: 'read',
    ...extra,
  }).toString();

beforeEach(async () => {
  const config = loadConfig({
    AWS_LAMBDA_FUNCTION_NAME: 'authorize',
    DCR_UPSTREAM_ISSUER: 'https://login.example.org',
    DCR_UPSTREAM_CLIENT_ID: 'dcr',
    DCR_ALLOWED_SCOPES: 'read',
  });
  const repository = new MemoryClientRepository();
  grants = new RecordingGrants();
  upstream = new FakeUpstream();
  jar = new Map();
  clock = new FakeClock(Math.floor(Date.now() / 1000));
  const key = randomBytes(32);
  router = createRouter(
    routesFor(['register', 'authorize'], {
      config,
      repository,
      clock,
      grants,
      initialAccessTokens: new MemoryInitialAccessTokens(),
      cookieKey: { key: async () => key },
      upstream,
      metadataDocuments: { resolve: async () => ({ problem: 'not served in this test' }) },
      remoteKeySets: new GuardedRemoteKeySets(),
      blockedSoftware: new MemoryBlockedSoftwareIds(),
      registrationCounter: new MemoryRegistrationCounter(clock),
      softwareCounts: new MemorySoftwareClientCounts(),
    }),
  );
  const registered = await send('POST', '/register', {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'Agent',
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'none',
      scope: 'read',
    }),
  });
  clientId = JSON.parse(registered.body ?? '{}').client_id;
});

/** The browser's trip: authorize → upstream → callback → consent page. */
async function throughUpstream(extra: Record<string, string> = {}) {
  const started = await send('GET', `/authorize?${authorizeQuery(extra)}`);
  expect(started.status).toBe(303);
  const location = new URL(started.headers.location ?? '');
  const state = location.searchParams.get('state') ?? '';
  return { started, state };
}

describe('the authorize routes with an upstream OpenID Provider', () => {
  it('send the browser upstream with a transaction id as state and its callback URI', async () => {
    const { started, state } = await throughUpstream({ prompt: 'login' });
    expect(started.headers.location).toMatch(/^https:\/\/login\.example\.org\/auth\?state=/);
    expect(upstream.begun).toEqual([
      { state, redirectUri: `${ISSUER}/callback`, forceLogin: true },
    ]);
    // One sealed cookie per transaction, __Host- (https issuer, no path), HttpOnly, Lax, Secure.
    expect(started.cookies).toHaveLength(1);
    expect(started.cookies?.[0]).toMatch(
      new RegExp(
        `^__Host-dcr_tx_${state}=[^;]+; Max-Age=600; Path=/; HttpOnly; SameSite=Lax; Secure$`,
      ),
    );
    expect(started.cookies?.[0]).not.toContain('nonce-1');
    expect(started.cookies?.[0]).not.toContain('verifier-1');
  });

  it('finish at /callback with the pending checks, then consent, then a code bound to the user', async () => {
    const { state } = await throughUpstream();
    const callback = await send('GET', `/callback?code=upstream-code&state=${state}&iss=x`);
    expect(callback.status).toBe(303);
    expect(callback.headers.location).toBe(`${ISSUER}/consent?tx=${state}`);
    const [url, expected] = upstream.finished[0] ?? [];
    expect(url?.href).toBe(`${ISSUER}/callback?code=upstream-code&state=${state}&iss=x`);
    expect(expected).toEqual({
      nonce: 'nonce-1',
      codeVerifier: 'verifier-1',
      state,
      redirectUri: `${ISSUER}/callback`,
    });
    expect(jar.has('__Host-dcr_session')).toBe(true);

    const consent = await send('GET', `/consent?tx=${state}`);
    expect(consent.status).toBe(200);
    expect(consent.body).toContain('<code>upstream|42</code>');
    const csrf = consent.body?.match(/name="csrf" value="([^"]+)"/)?.[1] ?? '';
    const allowed = await send('POST', '/consent', {
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: ISSUER,
        'sec-fetch-site': 'same-origin',
      },
      body: new URLSearchParams({ tx: state, csrf, decision: 'allow' }).toString(),
    });
    expect(allowed.status).toBe(303);
    const redirect = new URL(allowed.headers.location ?? '');
    const code = redirect.searchParams.get('code') ?? '';
    expect(Object.fromEntries(redirect.searchParams)).toEqual({
      code,
      state: 'client-state',
      iss: ISSUER,
    });
    expect(grants.stored).toEqual([
      {
        codeHash: hashSecret(code),
        clientId,
        redirectUri: REDIRECT,
        codeChallenge: CHALLENGE,
        resources: [],
        scope: 'read',
        sub: 'upstream|42',
        authTime: 1_800_000_000,
        grantId: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
        issuedAt: expect.any(Number),
        expiresAt: expect.any(Number),
      },
    ]);
    expect(grants.stored[0]?.expiresAt).toBe((grants.stored[0]?.issuedAt ?? 0) + 60);
    // The transaction is over: its cookie is deleted, a replayed consent page is refused.
    expect([...jar.keys()]).toEqual(['__Host-dcr_session']);
    expect((await send('GET', `/consent?tx=${state}`)).status).toBe(400);
  });

  it('skip the upstream while the session lasts', async () => {
    const { state } = await throughUpstream();
    await send('GET', `/callback?code=c&state=${state}`);
    const again = await send('GET', `/authorize?${authorizeQuery()}`);
    expect(again.headers.location).toMatch(new RegExp(`^${ISSUER}/consent\\?tx=`));
    expect(upstream.begun).toHaveLength(1);
  });

  it.each([
    ['denied', 'access_denied'],
    ['unavailable', 'temporarily_unavailable'],
  ] as const)(
    'an upstream failure %s goes back to the client as %s, with iss',
    async (failure, error) => {
      upstream.answer = { failure, detail: 'upstream said no' };
      const { state } = await throughUpstream();
      const callback = await send('GET', `/callback?error=x&state=${state}`);
      expect(callback.status).toBe(303);
      const redirect = new URL(callback.headers.location ?? '');
      expect(redirect.origin + redirect.pathname).toBe(REDIRECT);
      expect(redirect.searchParams.get('error')).toBe(error);
      expect(redirect.searchParams.get('state')).toBe('client-state');
      expect(redirect.searchParams.get('iss')).toBe(ISSUER);
      expect(redirect.searchParams.get('error_description')).not.toContain('upstream said no');
      expect(jar.size).toBe(0);
    },
  );

  it('an invalid upstream answer (forged, replayed) is a 400 page, never a redirect', async () => {
    upstream.answer = { failure: 'invalid', detail: 'state mismatch' };
    const { state } = await throughUpstream();
    const callback = await send('GET', `/callback?code=c&state=${state}`);
    expect(callback.status).toBe(400);
    expect(callback.headers.location).toBeUndefined();
    expect(callback.headers['content-type']).toContain('text/html');
  });

  it('a callback for no transaction of this browser is a 400 page', async () => {
    const unknown = await send('GET', `/callback?code=c&state=${'A'.repeat(22)}`);
    expect(unknown.status).toBe(400);
    const missing = await send('GET', '/callback?code=c');
    expect(missing.status).toBe(400);
    expect(upstream.finished).toHaveLength(0);
  });

  it('an upstream that cannot be reached: temporarily_unavailable to the client', async () => {
    upstream.failBegin = true;
    const started = await send('GET', `/authorize?${authorizeQuery()}`);
    const redirect = new URL(started.headers.location ?? '');
    expect(redirect.searchParams.get('error')).toBe('temporarily_unavailable');
    expect(redirect.searchParams.get('iss')).toBe(ISSUER);
  });

  it('a session past its lifetime is not used: the user signs in again', async () => {
    const { state } = await throughUpstream();
    await send('GET', `/callback?code=c&state=${state}`);
    clock.advance(8 * 3600);
    const again = await send('GET', `/authorize?${authorizeQuery()}`);
    expect(again.headers.location).toMatch(/^https:\/\/login\.example\.org\//);
    expect(upstream.begun).toHaveLength(2);
  });

  it('a sign-in past ten minutes is gone, even if the browser still sends its cookie', async () => {
    const { state } = await throughUpstream();
    clock.advance(600);
    expect((await send('GET', `/callback?code=c&state=${state}`)).status).toBe(400);
    expect(upstream.finished).toHaveLength(0);
  });

  it('keeps at most four sign-ins in flight per browser', async () => {
    for (let i = 0; i < 6; i++) await send('GET', `/authorize?${authorizeQuery()}`);
    const transactions = [...jar.keys()].filter((name) => name.startsWith('__Host-dcr_tx_'));
    expect(transactions).toHaveLength(4);
  });

  it('has no development login in Lambda', async () => {
    expect((await send('GET', '/login?tx=x')).status).toBe(404);
  });
});

describe('the connected-apps page signs in at the upstream, as /authorize does', () => {
  it('goes upstream with its own transaction as state, and comes back to /account signed in', async () => {
    const started = await send('GET', '/account');
    expect(started.status).toBe(303);
    const location = new URL(started.headers.location as string);
    expect(location.origin).toBe('https://login.example.org');
    const state = location.searchParams.get('state') as string;
    expect(upstream.begun).toEqual([
      { state, redirectUri: `${ISSUER}/callback`, forceLogin: false },
    ]);
    expect(jar.has(`__Host-dcr_tx_${state}`)).toBe(true);

    const back = await send('GET', `/callback?state=${state}&code=upstream-code`);
    expect(back.status).toBe(303);
    expect(back.headers.location).toBe(`${ISSUER}/account`);
    // Signed in; the account sign-in is over.
    expect(jar.has('__Host-dcr_session')).toBe(true);
    expect(jar.has(`__Host-dcr_tx_${state}`)).toBe(false);
    const page = await send('GET', '/account');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<code>upstream|42</code>');
    expect(page.body).toContain('No application is connected to your account.');
  });

  it.each([
    ['denied', 403, 'access_denied'],
    ['unavailable', 503, 'temporarily_unavailable'],
  ] as const)(
    'an upstream answer %s is a %i page: there is no client to answer',
    async (failure, status, error) => {
      const started = await send('GET', '/account');
      const state = new URL(started.headers.location as string).searchParams.get('state');
      upstream.answer = { failure, detail: 'test' };
      const back = await send('GET', `/callback?state=${state}&error=x`);
      expect(back.status).toBe(status);
      expect(back.headers.location).toBeUndefined();
      expect(back.body).toContain('<title>Sign-in cannot continue</title>');
      expect(back.body).toContain(`<code>${error}</code>`);
      expect(jar.has('__Host-dcr_session')).toBe(false);
    },
  );

  it('an upstream that cannot be reached: a 503 page, and the next visit tries again', async () => {
    upstream.failBegin = true;
    const refused = await send('GET', '/account');
    expect(refused.status).toBe(503);
    expect(refused.body).toContain('the identity provider could not be reached');
    upstream.failBegin = false;
    expect((await send('GET', '/account')).status).toBe(303);
  });
});
