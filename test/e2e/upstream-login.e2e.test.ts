import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, parseForm } from '../support/browser.js';
import { authorizationRequest } from '../support/interactive.js';
import { type Json, jsonPost, readJson } from '../support/server.js';
import { startFederatedServer, type Upstream } from '../support/upstream.js';

/**
 * Our server federated to an upstream OpenID Provider (oidc-provider on loopback, its
 * development interactions): the user signs in there, consents here, and the access token's
 * `sub` is the upstream's. On the local target the client secret is configured as such; on the
 * stack target the authorize function reads it from Secrets Manager and the cookie key from the
 * stack's generated secret, through the IAM gate, with cookies carried as API Gateway does.
 */
const REDIRECT = 'http://127.0.0.1:8766/callback';

let federated: Awaited<ReturnType<typeof startFederatedServer>>;
let issuer: string;
let upstream: Upstream;
let registered: Json;
let config: client.Configuration;

beforeAll(async () => {
  federated = await startFederatedServer({ DCR_UPSTREAM_SCOPES: 'openid email' });
  ({ upstream } = federated);
  issuer = federated.app.issuer;
  const response = await jsonPost(`${issuer}/register`, {
    client_name: 'Federated test client',
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'none',
  });
  expect(response.status).toBe(201);
  registered = await readJson(response);
  config = await client.discovery(new URL(issuer), registered.client_id, undefined, client.None(), {
    ...(issuer.startsWith('http:') && { execute: [client.allowInsecureRequests] }),
  });
});
afterAll(() => federated.close());

const authorizationUrl = () => authorizationRequest(config, { redirect_uri: REDIRECT });

describe('upstream login', () => {
  it('discovery advertises the code flow: users can sign in', async () => {
    const metadata = await readJson(
      await fetch(`${issuer}/.well-known/oauth-authorization-server`),
    );
    expect(metadata.authorization_endpoint).toBe(`${issuer}/authorize`);
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
  });

  it('sends the browser to the upstream with PKCE, a nonce and the configured scopes', async () => {
    const { url } = await authorizationUrl();
    const response = await new Browser().request(url);
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get('location') as string);
    expect(location.origin).toBe(upstream.issuer);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({
      client_id: 'dcr',
      redirect_uri: `${issuer}/callback`,
      response_type: 'code',
      scope: 'openid email',
      code_challenge_method: 'S256',
    });
    expect(location.searchParams.get('nonce')).toBeTruthy();
    expect(location.searchParams.get('state')).toBeTruthy();
  });

  it('issues tokens whose sub is the upstream subject', async () => {
    const { url, verifier, state } = await authorizationUrl();
    const browser = new Browser();
    const callback = await browser.signIn(url, { user: 'carol', stopAt: REDIRECT });
    expect(callback.searchParams.get('iss')).toBe(issuer);
    expect(callback.searchParams.get('state')).toBe(state);
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    const claims = decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({ iss: issuer, sub: 'carol', client_id: registered.client_id });
    expect(tokens.refresh_token).toBeTruthy();

    // Signed in here now (the session cookie): a second authorization goes nowhere upstream.
    const again = await authorizationUrl();
    const hops: string[] = [];
    let at: URL | Response = await browser.follow(again.url, REDIRECT);
    for (let pages = 0; pages < 3 && !(at instanceof URL); pages++) {
      const form = parseForm(await at.text(), at.url);
      hops.push(form.action);
      at = await browser.afterSubmit(
        await browser.submit(form, { decision: 'allow' }),
        form.action,
        REDIRECT,
      );
    }
    expect(at).toBeInstanceOf(URL);
    expect(hops.every((action) => action.startsWith(issuer))).toBe(true);
    const second = await client.authorizationCodeGrant(config, at as URL, {
      pkceCodeVerifier: again.verifier,
      expectedState: again.state,
    });
    expect(decodeJwt(second.access_token).sub).toBe('carol');
  });

  it('refresh tokens rotate; a used one is refused once its successor was used, and ends the family; revocation ends it too', async () => {
    const signIn = async () => {
      const { url, verifier, state } = await authorizationUrl();
      const callback = await new Browser().signIn(url, { user: 'dave', stopAt: REDIRECT });
      return client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: verifier,
        expectedState: state,
      });
    };
    const first = await signIn();
    const rotated = await client.refreshTokenGrant(config, first.refresh_token as string);
    expect(rotated.refresh_token).not.toBe(first.refresh_token);
    expect(decodeJwt(rotated.access_token).sub).toBe('dave');
    // Within the grace window the replaced token answers with the same successor.
    const concurrent = await client.refreshTokenGrant(config, first.refresh_token as string);
    expect(concurrent.refresh_token).toBe(rotated.refresh_token);
    const third = await client.refreshTokenGrant(config, rotated.refresh_token as string);
    await expect(
      client.refreshTokenGrant(config, first.refresh_token as string),
    ).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    // Reuse revoked the whole family, the newest token included.
    await expect(
      client.refreshTokenGrant(config, third.refresh_token as string),
    ).rejects.toMatchObject({
      error: 'invalid_grant',
    });

    const second = await signIn();
    await client.tokenRevocation(config, second.refresh_token as string);
    await expect(
      client.refreshTokenGrant(config, second.refresh_token as string),
    ).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('our consent form, reached through the upstream, refuses a post its page did not send', async () => {
    // Signed in at the upstream; stopped at our consent page (cookies as the browser holds them).
    const browser = new Browser();
    let at: URL | Response = await browser.follow((await authorizationUrl()).url, REDIRECT);
    let consent: ReturnType<typeof parseForm> | undefined;
    for (let pages = 0; pages < 3 && !consent; pages++) {
      if (at instanceof URL) throw new Error(`left early: ${at.href}`);
      const form = parseForm(await at.text(), at.url);
      if (form.action.startsWith(issuer)) consent = form;
      else {
        const values: Record<string, string> =
          form.fields.prompt === 'login' ? { login: 'erin', password: 'any' } : {};
        at = await browser.afterSubmit(await browser.submit(form, values), form.action, REDIRECT);
      }
    }
    if (!consent) throw new Error('no consent page');
    const post = (from: Browser, fields: Record<string, string>, headers = {}) =>
      from.request(consent.action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(fields).toString(),
      });
    const { csrf: _, ...withoutCsrf } = consent.fields;
    const statuses = [
      (await post(browser, { ...withoutCsrf, decision: 'allow' })).status,
      (
        await post(
          browser,
          { ...consent.fields, decision: 'allow' },
          { origin: 'https://evil.example' },
        )
      ).status,
      (await post(new Browser(), { ...consent.fields, decision: 'allow' })).status,
    ];
    expect(statuses).toEqual([403, 403, 400]);
    // The page's own post still works: the cookies made the round trip.
    const allowed = await browser.submit(consent, { decision: 'allow' });
    expect(allowed.status).toBe(303);
    expect(allowed.headers.get('location')).toMatch(/^http:\/\/127\.0\.0\.1:8766\/callback\?code=/);
  });

  it('a user who cancels at the upstream: the client gets access_denied, with state and iss', async () => {
    const { url, state } = await authorizationUrl();
    const browser = new Browser();
    const login = await browser.follow(url, REDIRECT);
    if (login instanceof URL) throw new Error('expected the upstream login page');
    const abort = (await login.text()).match(/href="([^"]*\/abort)"/)?.[1];
    expect(abort).toBeDefined();
    const back = await browser.follow(new URL(abort as string, login.url), REDIRECT);
    if (!(back instanceof URL)) throw new Error(`expected a redirect, got ${back.status}`);
    expect(Object.fromEntries(back.searchParams)).toMatchObject({
      error: 'access_denied',
      state,
      iss: issuer,
    });
  });

  it('a forged callback (state of no sign-in in progress) is refused with a page, never redirected', async () => {
    const response = await new Browser().request(
      `${issuer}/callback?code=forged&state=not-a-transaction&iss=${encodeURIComponent(upstream.issuer)}`,
    );
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(response.headers.get('location')).toBeNull();
  });
});
