import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalApp } from '../../lambdas/local/app.js';
import { Browser, parseForm } from '../support/browser.js';
import { type Json, jsonPost, readJson, startTestServer } from '../support/server.js';

/**
 * The authorization code flow end to end on the local server with the development login:
 * openid-client is the application, a scripted browser is the person.
 */
const RESOURCE = 'https://mcp.example.com/mcp';
const REDIRECT = 'http://127.0.0.1:8765/callback';

let app: LocalApp;
let registered: Json;
let config: client.Configuration;

beforeAll(async () => {
  app = await startTestServer({
    DCR_RESOURCES: RESOURCE,
    DCR_ALLOWED_SCOPES: 'read write',
    DCR_DEV_USERS: 'alice,bob',
  });
  const response = await jsonPost(`${app.issuer}/register`, {
    client_name: 'Test <Agent>',
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'none',
    scope: 'read write',
  });
  expect(response.status).toBe(201);
  registered = await readJson(response);
  config = await client.discovery(
    new URL(app.issuer),
    registered.client_id,
    undefined,
    client.None(),
    {
      execute: [client.allowInsecureRequests],
    },
  );
});
afterAll(() => app.close());

async function authorizationUrl(extra: Record<string, string> = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'read',
    state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    resource: RESOURCE,
    ...extra,
  });
  return { url, verifier, state };
}

describe('the authorization code flow with the development login', () => {
  it('discovers the authorization endpoint, signs in, consents and returns code, state and iss', async () => {
    expect(config.serverMetadata().authorization_endpoint).toBe(`${app.issuer}/authorize`);
    const { url, state } = await authorizationUrl();
    const browser = new Browser();
    const callback = await browser.signIn(url, { user: 'bob', stopAt: REDIRECT });
    expect(callback.origin + callback.pathname).toBe(REDIRECT);
    expect(callback.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(callback.searchParams.get('state')).toBe(state);
    expect(callback.searchParams.get('iss')).toBe(app.issuer);
    // The transaction cookie is gone; the session stays.
    const names = [...browser.cookies(app.issuer).keys()];
    expect(names).toEqual(['dcr_session']);
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
      iss: app.issuer,
      sub: 'dev:alice',
      aud: RESOURCE,
      client_id: registered.client_id,
      scope: 'read write',
    });
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token as string, {
      resource: RESOURCE,
    });
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(decodeJwt(refreshed.access_token)).toMatchObject({ sub: 'dev:alice', aud: RESOURCE });
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
    const browser = new Browser();
    const login = await browser.follow(url, REDIRECT);
    if (!(login instanceof Response)) throw new Error('expected the login page');
    const loginPage = await login.text();
    expect(loginPage).toContain('Development login');
    expect(loginPage).toMatch(/<label for="username">/);
    const consent = await browser.afterSubmit(
      await browser.submit(parseForm(loginPage, login.url), { username: 'alice' }),
      app.issuer,
      REDIRECT,
    );
    if (!(consent instanceof Response)) throw new Error('expected the consent page');
    const page = await consent.text();
    expect(consent.status).toBe(200);
    expect(consent.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(consent.headers.get('x-frame-options')).toBe('DENY');
    expect(page).toContain('calls itself <strong>Test &lt;Agent&gt;</strong>');
    expect(page).toContain('not verified');
    expect(page).toContain('<code>127.0.0.1:8765</code>');
    expect(page).toContain('<code>dev:alice</code>');
    expect(page).toContain(`<code>${RESOURCE}</code>`);
    expect(page).toContain('<li><code>read</code></li><li><code>write</code></li>');
    expect(page).not.toContain('openid');
    expect(page).toContain('a program on this computer');
    expect(page).toMatch(/<button type="submit" name="decision" value="allow">/);
    expect(page).toMatch(/<button type="submit" name="decision" value="deny"/);
  });

  it('skips the login while the session lasts, and signs in again on prompt=login', async () => {
    const browser = new Browser();
    await browser.signIn((await authorizationUrl()).url, { stopAt: REDIRECT });
    const again = await browser.follow((await authorizationUrl()).url, REDIRECT);
    if (!(again instanceof Response)) throw new Error('expected the consent page');
    expect(again.url).toContain('/consent?tx=');
    const forced = await browser.follow(
      (await authorizationUrl({ prompt: 'login' })).url,
      REDIRECT,
    );
    if (!(forced instanceof Response)) throw new Error('expected the login page');
    expect(forced.url).toContain('/login?tx=');
  });

  it('lets two applications sign in at once in one browser', async () => {
    const browser = new Browser();
    const first = await authorizationUrl();
    const second = await authorizationUrl();
    const firstLogin = await browser.follow(first.url, REDIRECT);
    const secondLogin = await browser.follow(second.url, REDIRECT);
    if (!(firstLogin instanceof Response && secondLogin instanceof Response)) {
      throw new Error('expected two login pages');
    }
    const secondForm = parseForm(await secondLogin.text(), secondLogin.url);
    const firstForm = parseForm(await firstLogin.text(), firstLogin.url);
    for (const [form, state] of [
      [secondForm, second.state],
      [firstForm, first.state],
    ] as const) {
      const consent = await browser.afterSubmit(
        await browser.submit(form, { username: 'alice' }),
        app.issuer,
        REDIRECT,
      );
      if (!(consent instanceof Response)) throw new Error('expected the consent page');
      const done = await browser.afterSubmit(
        await browser.submit(parseForm(await consent.text(), consent.url), { decision: 'allow' }),
        app.issuer,
        REDIRECT,
      );
      if (!(done instanceof URL)) throw new Error('expected the client redirect');
      expect(done.searchParams.get('state')).toBe(state);
      expect(done.searchParams.get('code')).toBeTruthy();
    }
  });

  it('answers access_denied with state and iss when the user denies', async () => {
    const { url, state } = await authorizationUrl();
    const callback = await new Browser().signIn(url, { decision: 'deny', stopAt: REDIRECT });
    expect(Object.fromEntries(callback.searchParams)).toEqual({
      error: 'access_denied',
      error_description: 'the user denied access',
      state,
      iss: app.issuer,
    });
  });

  it('refuses a user who is not in the development list, on the page', async () => {
    const { url } = await authorizationUrl();
    const browser = new Browser();
    const login = await browser.follow(url, REDIRECT);
    if (!(login instanceof Response)) throw new Error('expected the login page');
    const refused = await browser.submit(parseForm(await login.text(), login.url), {
      username: 'mallory<script>',
    });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('location')).toBeNull();
    const page = await refused.text();
    expect(page).toContain('There is no development user “mallory&lt;script&gt;”');
    expect(browser.cookies(app.issuer).has('dcr_session')).toBe(false);
  });
});
