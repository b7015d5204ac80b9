import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, isLoginForm } from '../support/browser.js';
import {
  authorizationRequest,
  type InteractiveServer,
  startInteractiveServer,
} from '../support/interactive.js';
import { type Json, jsonPost, readJson } from '../support/server.js';

/**
 * The authorization code flow end to end over real HTTP: openid-client is the application, a
 * scripted browser is the person. Locally users sign in with the development login; on the
 * synthesized stack (https issuer, bundled handlers behind the API Gateway stand-in) at an
 * upstream oidc-provider on loopback. What differs by target, and only that, comes from the
 * target: the user's `sub` (`subOf`), where sign-in starts (`signsInAt`) and the cookie names
 * (`__Host-` when the issuer is https). The development login's own page is checked in
 * `interactive/development-login`, locally.
 */
const RESOURCE = 'https://mcp.example.com/mcp';
const REDIRECT = 'http://127.0.0.1:8765/callback';

let server: InteractiveServer;
let issuer: string;
let registered: Json;
let config: client.Configuration;

/** Our cookies' names: `__Host-` prefixed when the issuer is https without a path. */
const cookieName = (name: string) => `${issuer.startsWith('https:') ? '__Host-' : ''}${name}`;

beforeAll(async () => {
  server = await startInteractiveServer(
    { DCR_RESOURCES: RESOURCE, DCR_ALLOWED_SCOPES: 'read write' },
    { DCR_DEV_USERS: 'alice,bob' },
  );
  issuer = server.app.issuer;
  const response = await jsonPost(`${issuer}/register`, {
    client_name: 'Test <Agent>',
    // A borrowed brand and a tracking pixel: never fetched, never shown (THREATS.md P3).
    logo_uri: 'https://logos.example/brand.png',
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'none',
    scope: 'read write',
  });
  expect(response.status).toBe(201);
  registered = await readJson(response);
  config = await client.discovery(new URL(issuer), registered.client_id, undefined, client.None(), {
    ...(issuer.startsWith('http:') && { execute: [client.allowInsecureRequests] }),
  });
});
afterAll(() => server.close());

const authorizationUrl = (extra: Record<string, string> = {}) =>
  authorizationRequest(config, {
    redirect_uri: REDIRECT,
    scope: 'read',
    resource: RESOURCE,
    ...extra,
  });

describe('the authorization code flow', () => {
  it('discovers the authorization endpoint, signs in, consents and returns code, state and iss', async () => {
    expect(config.serverMetadata().authorization_endpoint).toBe(`${issuer}/authorize`);
    const { url, state } = await authorizationUrl();
    const browser = new Browser();
    const callback = await browser.signIn(url, { user: 'bob', stopAt: REDIRECT });
    expect(callback.origin + callback.pathname).toBe(REDIRECT);
    expect(callback.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(callback.searchParams.get('state')).toBe(state);
    expect(callback.searchParams.get('iss')).toBe(issuer);
    // The transaction cookie is gone; the session stays.
    const names = [...browser.cookies(new URL(issuer).origin).keys()];
    expect(names).toEqual([cookieName('dcr_session')]);
  });

  it('exchanges the code (PKCE, resource) for a user access token, then refreshes it', async () => {
    const { url, state, verifier } = await authorizationUrl({ scope: 'read write offline_access' });
    const callback = await new Browser().signIn(url, { user: 'alice', stopAt: REDIRECT });
    const tokens = await client.authorizationCodeGrant(
      config,
      callback,
      { pkceCodeVerifier: verifier, expectedState: state },
      { resource: RESOURCE },
    );
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.scope).toBe('read write');
    expect(tokens.refresh_token).toEqual(expect.any(String));
    const claims = decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({
      iss: issuer,
      sub: server.subOf('alice'),
      aud: RESOURCE,
      client_id: registered.client_id,
      scope: 'read write',
    });
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token as string, {
      resource: RESOURCE,
    });
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(decodeJwt(refreshed.access_token)).toMatchObject({
      sub: server.subOf('alice'),
      aud: RESOURCE,
    });
    // The code is single use, and its reuse revokes the tokens it gave.
    await expect(
      client.authorizationCodeGrant(
        config,
        callback,
        { pkceCodeVerifier: verifier, expectedState: state },
        { resource: RESOURCE },
      ),
    ).rejects.toMatchObject({ error: 'invalid_grant' });

    await expect(
      client.refreshTokenGrant(config, refreshed.refresh_token as string, { resource: RESOURCE }),
    ).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses the code with another PKCE verifier', async () => {
    const { url, state } = await authorizationUrl();
    const callback = await new Browser().signIn(url, { stopAt: REDIRECT });
    await expect(
      client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: client.randomPKCECodeVerifier(),
        expectedState: state,
      }),
    ).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('shows the consent page with the self-asserted name escaped, the redirect host and the scope', async () => {
    const { url } = await authorizationUrl({ scope: 'read write openid offline_access' });
    const consent = await new Browser().untilConsent(url, { user: 'alice', stopAt: REDIRECT });
    const page = consent.text;
    expect(consent.response.url.startsWith(`${issuer}/consent?tx=`)).toBe(true);
    expect(consent.response.headers.get('content-security-policy')).toContain(
      "frame-ancestors 'none'",
    );
    expect(consent.response.headers.get('x-frame-options')).toBe('DENY');
    expect(page).toContain('calls itself <strong>Test &lt;Agent&gt;</strong>');
    expect(page).toContain('not verified');
    expect(page).toMatch(/Answer sent to<\/span> <strong>127\.0\.0\.1:8765<\/strong>/);
    expect(page).toContain(`<code>${server.subOf('alice')}</code>`);
    expect(page).toContain(`<code>${RESOURCE}</code>`);
    expect(page).toContain('<li><code>read</code></li><li><code>write</code></li>');
    expect(page).not.toContain('openid');
    expect(page).toContain('a program on this computer');
    expect(page).toMatch(/<button type="submit" name="decision" value="allow">/);
    expect(page).toMatch(/<button type="submit" name="decision" value="deny"/);
    // The client's logo_uri is neither shown nor fetched: no image, no trace of its host.
    expect(page).not.toMatch(/<img/i);
    expect(page).not.toContain('logos.example');
  });

  it('skips the login while the session lasts, and signs in again on prompt=login', async () => {
    const browser = new Browser();
    await browser.signIn((await authorizationUrl()).url, { user: 'alice', stopAt: REDIRECT });
    const again = await browser.follow((await authorizationUrl()).url, REDIRECT);
    if (!(again instanceof Response)) throw new Error('expected the consent page');
    expect(again.url.startsWith(`${issuer}/consent?tx=`)).toBe(true);
    expect(await again.text()).toContain(`<code>${server.subOf('alice')}</code>`);

    // prompt=login: to the sign-in (upstream: its login form, its own session notwithstanding),
    // and whoever signs in there is the user of the code.
    const forced = await authorizationUrl({ prompt: 'login' });
    const start = await browser.request(forced.url);
    expect(start.status).toBe(303);
    expect(start.headers.get('location')?.startsWith(server.signsInAt)).toBe(true);
    const login = await browser.page(
      await browser.follow(new URL(start.headers.get('location') as string, issuer), REDIRECT),
    );
    expect(isLoginForm(login.form)).toBe(true);
    const callback = await browser.signIn(login, { user: 'bob', stopAt: REDIRECT });
    const tokens = await client.authorizationCodeGrant(
      config,
      callback,
      { pkceCodeVerifier: forced.verifier, expectedState: forced.state },
      { resource: RESOURCE },
    );
    expect(decodeJwt(tokens.access_token).sub).toBe(server.subOf('bob'));
  });

  it('lets two applications sign in at once in one browser', async () => {
    const browser = new Browser();
    const first = await authorizationUrl();
    const second = await authorizationUrl();
    const firstLogin = await browser.page(await browser.follow(first.url, REDIRECT));
    const secondLogin = await browser.page(await browser.follow(second.url, REDIRECT));
    expect(isLoginForm(firstLogin.form)).toBe(true);
    expect(isLoginForm(secondLogin.form)).toBe(true);
    // Finished in the other order: each sign-in keeps its own transaction.
    for (const [login, flow] of [
      [secondLogin, second],
      [firstLogin, first],
    ] as const) {
      const callback = await browser.signIn(login, { user: 'alice', stopAt: REDIRECT });
      expect(callback.searchParams.get('state')).toBe(flow.state);
      const tokens = await client.authorizationCodeGrant(
        config,
        callback,
        { pkceCodeVerifier: flow.verifier, expectedState: flow.state },
        { resource: RESOURCE },
      );
      expect(decodeJwt(tokens.access_token).sub).toBe(server.subOf('alice'));
    }
  });

  it('answers access_denied with state and iss when the user denies', async () => {
    const { url, state } = await authorizationUrl();
    const callback = await new Browser().signIn(url, { decision: 'deny', stopAt: REDIRECT });
    expect(Object.fromEntries(callback.searchParams)).toEqual({
      error: 'access_denied',
      error_description: 'the user denied access',
      state,
      iss: issuer,
    });
  });
});
