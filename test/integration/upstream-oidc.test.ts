import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamOidcLogin } from '../../lambdas/adapters/oidc/upstream-oidc.js';
import { systemClock } from '../../lambdas/core/clock.js';
import { OAuthError } from '../../lambdas/core/errors.js';
import {
  signInAtUpstream,
  startUpstream,
  UPSTREAM_CLIENT,
  type Upstream,
} from '../support/upstream.js';

// Our server's callback: nothing listens there; the upstream browser stops at the redirect.
const REDIRECT_URI = 'https://as.example.test/callback';

let upstream: Upstream;
let confidential: UpstreamOidcLogin;
let publicClient: UpstreamOidcLogin;

beforeAll(async () => {
  upstream = await startUpstream();
  upstream.configure([REDIRECT_URI]);
  confidential = new UpstreamOidcLogin({
    issuer: upstream.issuer,
    clientId: UPSTREAM_CLIENT.id,
    // As Secrets Manager hands it over: read lazily.
    clientSecret: async () => UPSTREAM_CLIENT.secret,
    scopes: ['openid', 'email'],
    clock: systemClock,
  });
  publicClient = new UpstreamOidcLogin({
    issuer: upstream.issuer,
    clientId: UPSTREAM_CLIENT.publicId,
    scopes: ['openid'],
    clock: systemClock,
  });
});
afterAll(() => upstream.close());

/** begin → the upstream's pages as `login` → the callback URL our server would receive. */
async function roundTrip(
  login: UpstreamOidcLogin,
  options: { user?: string; decision?: 'allow' | 'deny'; state?: string } = {},
) {
  const state = options.state ?? `tx-${Math.random().toString(36).slice(2)}`;
  const { location, pending } = await login.begin({
    state,
    redirectUri: REDIRECT_URI,
    forceLogin: false,
  });
  const callback = await signInAtUpstream(location, {
    login: options.user ?? 'alice',
    decision: options.decision ?? 'allow',
  });
  return { state, location: new URL(location), pending, callback };
}

describe('upstream login with openid-client against oidc-provider', () => {
  it('sends PKCE S256, a nonce, the state and the configured scopes', async () => {
    const { location, pending, state } = await roundTrip(confidential);
    expect(location.origin).toBe(upstream.issuer);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({
      client_id: UPSTREAM_CLIENT.id,
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      scope: 'openid email',
      state,
      nonce: pending.nonce,
      code_challenge_method: 'S256',
    });
    expect(location.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(location.searchParams.has('prompt')).toBe(false);
    expect(pending.codeVerifier).toMatch(/^[\w-]{43,128}$/);
  });

  it('asks the upstream to sign the user in again when told to', async () => {
    const { location } = await confidential.begin({
      state: 's',
      redirectUri: REDIRECT_URI,
      forceLogin: true,
    });
    expect(new URL(location).searchParams.get('prompt')).toBe('login');
  });

  it('returns the upstream sub as the identity (confidential client, client_secret_basic)', async () => {
    const { state, pending, callback } = await roundTrip(confidential, { user: 'carol' });
    expect(callback.searchParams.get('iss')).toBe(upstream.issuer);
    const before = Math.floor(Date.now() / 1000);
    const outcome = await confidential.finish(callback, {
      ...pending,
      state,
      redirectUri: REDIRECT_URI,
    });
    expect(outcome).toEqual({ identity: { sub: 'carol', authTime: expect.any(Number) } });
    const { authTime } = (outcome as { identity: { authTime: number } }).identity;
    expect(authTime).toBeGreaterThanOrEqual(before - 60);
    expect(authTime).toBeLessThanOrEqual(before + 5);
  });

  it('works as a public client with PKCE alone (none), as a Cognito app client without secret', async () => {
    const { state, pending, callback } = await roundTrip(publicClient, { user: 'dave' });
    const outcome = await publicClient.finish(callback, {
      ...pending,
      state,
      redirectUri: REDIRECT_URI,
    });
    expect(outcome).toEqual({ identity: { sub: 'dave', authTime: expect.any(Number) } });
  });

  it('refuses a callback whose state was tampered with', async () => {
    const { state, pending, callback } = await roundTrip(confidential);
    callback.searchParams.set('state', `${state}x`);
    expect(
      await confidential.finish(callback, { ...pending, state, redirectUri: REDIRECT_URI }),
    ).toEqual({ failure: 'invalid', detail: expect.any(String) });
  });

  it('refuses an ID token for another nonce', async () => {
    const { state, pending, callback } = await roundTrip(confidential);
    expect(
      await confidential.finish(callback, {
        ...pending,
        nonce: 'a-nonce-that-was-never-sent',
        state,
        redirectUri: REDIRECT_URI,
      }),
    ).toEqual({ failure: 'invalid', detail: expect.any(String) });
  });

  it('refuses a callback without iss (the upstream advertises RFC 9207)', async () => {
    const { state, pending, callback } = await roundTrip(confidential);
    callback.searchParams.delete('iss');
    expect(
      await confidential.finish(callback, { ...pending, state, redirectUri: REDIRECT_URI }),
    ).toEqual({ failure: 'invalid', detail: expect.any(String) });
  });

  it('refuses a callback from another issuer', async () => {
    const { state, pending, callback } = await roundTrip(confidential);
    callback.searchParams.set('iss', 'https://evil.example');
    expect(
      await confidential.finish(callback, { ...pending, state, redirectUri: REDIRECT_URI }),
    ).toEqual({ failure: 'invalid', detail: expect.any(String) });
  });

  it('refuses the wrong PKCE verifier, and a code used twice', async () => {
    const first = await roundTrip(confidential);
    expect(
      await confidential.finish(first.callback, {
        ...first.pending,
        codeVerifier: 'x'.repeat(43),
        state: first.state,
        redirectUri: REDIRECT_URI,
      }),
    ).toEqual({ failure: 'invalid', detail: expect.any(String) });

    const second = await roundTrip(confidential);
    const expected = { ...second.pending, state: second.state, redirectUri: REDIRECT_URI };
    expect(await confidential.finish(second.callback, expected)).toHaveProperty('identity');
    expect(await confidential.finish(second.callback, expected)).toEqual({
      failure: 'invalid',
      detail: expect.any(String),
    });
  });

  it('reports a user who aborts at the upstream as denied', async () => {
    const { state, pending, callback } = await roundTrip(confidential, { decision: 'deny' });
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(
      await confidential.finish(callback, { ...pending, state, redirectUri: REDIRECT_URI }),
    ).toEqual({ failure: 'denied', detail: expect.any(String) });
  });

  it('does not take a forged error response for a denial (state checked first)', async () => {
    const { pending } = await confidential.begin({
      state: 'real-state',
      redirectUri: REDIRECT_URI,
      forceLogin: false,
    });
    const forged = new URL(
      `${REDIRECT_URI}?error=access_denied&state=other&iss=${encodeURIComponent(upstream.issuer)}`,
    );
    expect(
      await confidential.finish(forged, {
        ...pending,
        state: 'real-state',
        redirectUri: REDIRECT_URI,
      }),
    ).toEqual({ failure: 'invalid', detail: expect.any(String) });
  });

  it('refuses a wrong client secret without trusting the callback', async () => {
    const wrongSecret = new UpstreamOidcLogin({
      issuer: upstream.issuer,
      clientId: UPSTREAM_CLIENT.id,
      clientSecret: 'not-the-secret',
      scopes: ['openid'],
      clock: systemClock,
    });
    const { state, pending, callback } = await roundTrip(wrongSecret);
    const outcome = await wrongSecret.finish(callback, {
      ...pending,
      state,
      redirectUri: REDIRECT_URI,
    });
    expect(outcome).toEqual({ failure: 'unavailable', detail: 'sign-in is misconfigured' });
  });
});

describe('an upstream that cannot be reached', () => {
  it('begin answers 503 temporarily_unavailable, finish reports unavailable; discovery is retried', async () => {
    const down = await startUpstream();
    const issuer = down.issuer;
    await down.close(); // nothing listens on its port any more
    const login = new UpstreamOidcLogin({
      issuer,
      clientId: 'dcr',
      scopes: ['openid'],
      clock: systemClock,
      timeoutSeconds: 2,
    });
    const error = await login
      .begin({ state: 's', redirectUri: REDIRECT_URI, forceLogin: false })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ status: 503, error: 'temporarily_unavailable' });
    expect(
      await login.finish(new URL(`${REDIRECT_URI}?code=c&state=s`), {
        nonce: 'n',
        codeVerifier: 'v'.repeat(43),
        state: 's',
        redirectUri: REDIRECT_URI,
      }),
    ).toEqual({ failure: 'unavailable', detail: expect.any(String) });
  });

  it('forgets a failed discovery: the same adapter works once the provider answers', async () => {
    const late = await startUpstream(); // answers 503 until configured
    try {
      const login = new UpstreamOidcLogin({
        issuer: late.issuer,
        clientId: UPSTREAM_CLIENT.publicId,
        scopes: ['openid'],
        clock: systemClock,
      });
      const begin = () => login.begin({ state: 's', redirectUri: REDIRECT_URI, forceLogin: false });
      await expect(begin()).rejects.toMatchObject({ status: 503 });
      late.configure([REDIRECT_URI]);
      expect((await begin()).location).toContain(late.issuer);
    } finally {
      await late.close();
    }
  });

  it('discovers once and reuses the configuration', async () => {
    let discoveries = 0;
    const counting = await startUpstream();
    counting.configure([REDIRECT_URI]);
    const realFetch = globalThis.fetch;
    globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => {
      if (String(input instanceof Request ? input.url : input).includes('/.well-known/')) {
        discoveries++;
      }
      return realFetch(input, init);
    }) as typeof fetch;
    try {
      const login = new UpstreamOidcLogin({
        issuer: counting.issuer,
        clientId: UPSTREAM_CLIENT.publicId,
        scopes: ['openid'],
        clock: systemClock,
      });
      await Promise.all(
        [1, 2, 3].map((i) =>
          login.begin({ state: `s${i}`, redirectUri: REDIRECT_URI, forceLogin: false }),
        ),
      );
      expect(discoveries).toBe(1);
    } finally {
      globalThis.fetch = realFetch;
      await counting.close();
    }
  });
});
