import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser.js';
import { type InteractiveServer, startInteractiveServer } from '../support/interactive.js';
import { type Json, jsonPost, readJson } from '../support/server.js';

/**
 * The authorization endpoint's refusals, over real HTTP: where each error goes, and how. On both
 * targets: the local server (development login) and the synthesized stack (https issuer, users
 * signing in at an upstream oidc-provider on loopback). Only where sign-in starts
 * (`signsInAt`) and the cookie names (`__Host-` when the issuer is https) differ.
 */
const RESOURCE = 'https://mcp.example.com/mcp';
const REDIRECT = 'http://127.0.0.1:8765/callback';

let server: InteractiveServer;
let app: InteractiveServer['app'];
let registered: Json;
let challenge: string;

/** Our cookies' names: `__Host-` prefixed when the issuer is https without a path. */
const cookieName = (name: string) => `${app.issuer.startsWith('https:') ? '__Host-' : ''}${name}`;

beforeAll(async () => {
  server = await startInteractiveServer({
    DCR_RESOURCES: RESOURCE,
    DCR_ALLOWED_SCOPES: 'read write',
  });
  app = server.app;
  const response = await jsonPost(`${app.issuer}/register`, {
    client_name: 'Errors',
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'none',
    scope: 'read',
  });
  expect(response.status).toBe(201);
  registered = await readJson(response);
  challenge = await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier());
});
afterAll(() => server.close());

const query = (overrides: Record<string, string | undefined> = {}) => {
  const params: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: registered.client_id,
    redirect_uri: REDIRECT,
    state: 'st-1',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...overrides,
  };
  const defined = Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined);
  return new URLSearchParams(defined).toString();
};

const authorize = (q: string, headers: Record<string, string> = {}) =>
  fetch(`${app.issuer}/authorize?${q}`, { redirect: 'manual', headers });

/** An error that went back to the client: its redirect's parameters. */
async function redirected(q: string) {
  const response = await authorize(q);
  expect(response.status).toBe(303);
  const location = new URL(response.headers.get('location') ?? '');
  expect(location.origin + location.pathname).toBe(REDIRECT);
  expect(location.searchParams.get('iss')).toBe(app.issuer);
  expect(location.searchParams.get('state')).toBe('st-1');
  return Object.fromEntries(location.searchParams);
}

/** An error shown as a page: never a redirect. */
async function errorPage(q: string) {
  const response = await authorize(q, { accept: 'text/html' });
  expect(response.status).toBe(400);
  expect(response.headers.get('location')).toBeNull();
  expect(response.headers.get('content-type')).toContain('text/html');
  return response.text();
}

describe('before the redirect URI is trusted: a page, or JSON for API callers', () => {
  it('an unknown client: a page saying to remove and add the application again; 401 invalid_client as JSON', async () => {
    const page = await errorPage(query({ client_id: 'no-such-client' }));
    expect(page).toContain('remove it');
    expect(page).toContain('add it again');
    const json = await authorize(query({ client_id: 'no-such-client' }), {
      accept: 'application/json',
    });
    expect(json.status).toBe(401);
    expect(json.headers.get('location')).toBeNull();
    expect(await json.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('a deleted client is unknown at once', async () => {
    const response = await jsonPost(`${app.issuer}/register`, {
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'none',
    });
    const doomed = await readJson(response);
    const deleted = await fetch(doomed.registration_client_uri, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${doomed.registration_access_token}` },
    });
    expect(deleted.status).toBe(204);
    const json = await authorize(query({ client_id: doomed.client_id }), {
      accept: 'application/json',
    });
    expect(json.status).toBe(401);
  });

  it('a redirect URI never registered, including another path on the loopback host: page; 400 unauthorized_client as JSON', async () => {
    for (const other of [
      'https://evil.example/callback',
      'http://127.0.0.1:8765/other',
      'http://localhost:8765/callback',
    ]) {
      const page = await errorPage(query({ redirect_uri: other }));
      expect(page).toContain('unauthorized_client');
      const json = await authorize(query({ redirect_uri: other }), {
        accept: 'application/json',
      });
      expect(json.status).toBe(400);
      expect(await json.json()).toMatchObject({ error: 'unauthorized_client' });
    }
  });

  it('a loopback redirect on another port is the registered one (RFC 8252 §7.3)', async () => {
    const response = await authorize(query({ redirect_uri: 'http://127.0.0.1:9999/callback' }));
    expect(response.status).toBe(303);
    expect(response.headers.get('location')?.startsWith(server.signsInAt)).toBe(true);
  });

  it('a malformed request (redirect_uri missing, client_id repeated): page; 400 invalid_request as JSON', async () => {
    await errorPage(query({ redirect_uri: undefined }));
    const repeated = `${query()}&client_id=other`;
    await errorPage(repeated);
    const json = await authorize(query({ client_id: undefined }), { accept: 'application/json' });
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ error: 'invalid_request' });
  });
});

describe('after the redirect URI is trusted: back to the client, with state and iss', () => {
  it('PKCE missing, or plain: invalid_request', async () => {
    expect(await redirected(query({ code_challenge: undefined }))).toMatchObject({
      error: 'invalid_request',
    });
    expect(await redirected(query({ code_challenge_method: undefined }))).toMatchObject({
      error: 'invalid_request',
    });
    expect(
      await redirected(query({ code_challenge_method: 'plain', code_challenge: 'x'.repeat(43) })),
    ).toMatchObject({ error: 'invalid_request' });
  });

  it('a resource this server does not serve: invalid_target', async () => {
    expect(await redirected(query({ resource: 'https://other.example/' }))).toMatchObject({
      error: 'invalid_target',
    });
  });

  it('a scope the client did not register: invalid_scope; OpenID scopes are dropped, not refused', async () => {
    expect(await redirected(query({ scope: 'write' }))).toMatchObject({ error: 'invalid_scope' });
    const ok = await authorize(query({ scope: 'openid profile email offline_access read' }));
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')?.startsWith(server.signsInAt)).toBe(true);
  });

  it('another response type: unsupported_response_type', async () => {
    expect(await redirected(query({ response_type: 'token' }))).toMatchObject({
      error: 'unsupported_response_type',
    });
  });

  it('prompt=none without a session: login_required; with one: consent_required', async () => {
    expect(await redirected(query({ prompt: 'none' }))).toMatchObject({
      error: 'login_required',
    });
    const browser = new Browser();
    await browser.signIn(`${app.issuer}/authorize?${query()}`, { stopAt: REDIRECT });
    const response = await browser.request(`${app.issuer}/authorize?${query({ prompt: 'none' })}`);
    const location = new URL(response.headers.get('location') ?? '');
    expect(location.searchParams.get('error')).toBe('consent_required');
    expect(location.searchParams.get('iss')).toBe(app.issuer);
  });
});

describe('the forms refuse what their own page did not send', () => {
  async function consentForm() {
    const browser = new Browser();
    const { form } = await browser.untilConsent(`${app.issuer}/authorize?${query()}`, {
      stopAt: REDIRECT,
    });
    return { browser, form };
  }

  const post = (browser: Browser, form: URLSearchParams, headers: Record<string, string> = {}) =>
    browser.request(`${app.issuer}/consent`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: form.toString(),
    });

  it('a missing or wrong CSRF token: 403 page, no redirect', async () => {
    const { browser, form } = await consentForm();
    const { csrf, ...rest } = form.fields;
    const missing = await post(browser, new URLSearchParams({ ...rest, decision: 'allow' }));
    expect(missing.status).toBe(403);
    expect(missing.headers.get('location')).toBeNull();
    expect(await missing.text()).toContain('CSRF');
    const wrong = await post(
      browser,
      new URLSearchParams({ ...rest, csrf: `${csrf?.slice(0, -2)}AA`, decision: 'allow' }),
    );
    expect(wrong.status).toBe(403);
    // The real form still works afterwards.
    const allowed = await browser.submit(form, { decision: 'allow' });
    expect(allowed.status).toBe(303);
    expect(allowed.headers.get('location')).toContain('code=');
  });

  it('a cross-site post (Origin of another site, or Sec-Fetch-Site: cross-site): 403', async () => {
    const { browser, form } = await consentForm();
    const body = new URLSearchParams({ ...form.fields, decision: 'allow' });
    const foreign = await post(browser, body, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    const nullOrigin = await post(browser, body, { origin: 'null' });
    expect(nullOrigin.status).toBe(403);
    const crossSite = await post(browser, body, { 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
  });

  it('a consent without its transaction cookie (another browser, or expired): 400 page', async () => {
    const { form } = await consentForm();
    const response = await post(
      new Browser(),
      new URLSearchParams({ ...form.fields, decision: 'allow' }),
    );
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain('expired or has already finished');
  });

  it('a consent form is accepted once: the same post replayed, cookies and all, mints nothing', async () => {
    const { browser, form } = await consentForm();
    const cookie = [...browser.cookies(new URL(app.issuer).origin)]
      .map(([name, value]) => `${name}=${value}`)
      .join('; ');
    const body = new URLSearchParams({ ...form.fields, decision: 'allow' }).toString();
    const replay = () =>
      fetch(`${app.issuer}/consent`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        body,
      });
    const first = await replay();
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toContain('code=');
    const second = await replay();
    expect(second.status).toBe(400);
    expect(second.headers.get('location')).toBeNull();
    expect(await second.text()).toContain('expired or has already finished');
  });

  it('a transaction cookie moved to another transaction’s name is refused', async () => {
    const { browser, form } = await consentForm();
    const origin = new URL(app.issuer).origin;
    const cookies = browser.cookies(origin);
    const session = cookieName('dcr_session');
    const [name, value] = [...cookies].find(([n]) => n.startsWith(cookieName('dcr_tx_'))) ?? [];
    const other = 'A'.repeat(22);
    const forged = await fetch(`${app.issuer}/consent?tx=${other}`, {
      headers: {
        cookie: `${cookieName(`dcr_tx_${other}`)}=${value}; ${session}=${cookies.get(session)}`,
      },
    });
    expect(name).toBeDefined();
    expect(cookies.get(session)).toBeDefined();
    // The same cookies under their own names open the consent page: only the move is refused.
    const genuine = await fetch(`${app.issuer}/consent?tx=${form.fields.tx}`, {
      headers: { cookie: `${name}=${value}; ${session}=${cookies.get(session)}` },
    });
    expect(genuine.status).toBe(200);
    expect(forged.status).toBe(400);
    expect(form.fields.tx).not.toBe(other);
  });
});

describe('whatever a browser or a script sends, never a 5xx', () => {
  it('garbage queries, cookies, bodies and methods on every sign-in path', async () => {
    const sealedLooking = `${'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0'}..${'A'.repeat(16)}.${'B'.repeat(40)}.${'C'.repeat(22)}`;
    const session = cookieName('dcr_session');
    const transaction = cookieName(`dcr_tx_${'A'.repeat(22)}`);
    const cookies = [
      '',
      `${session}=garbage`,
      `${session}=${sealedLooking}; ${transaction}=${sealedLooking}`,
      `=;;=a; ${cookieName('dcr_tx_')}=x`,
    ];
    // `/login` is the development login's (local), `/callback` the upstream's return (stack):
    // where a path does not exist, its 404 is what must not become a 5xx.
    const targets = [
      `/authorize?${query()}&%zz=%E0%A4%A`,
      '/authorize?client_id=%00&redirect_uri=%0A',
      `/authorize?${'a='.repeat(5000)}`,
      `/consent?tx=${'A'.repeat(22)}`,
      '/consent?tx=../../etc',
      '/consent',
      `/login?tx=${'A'.repeat(22)}`,
      '/login?tx=%FF',
      '/callback?state=x',
      `/callback?code=x&state=${'A'.repeat(22)}&iss=https%3A%2F%2Fupstream.invalid`,
    ];
    const bodies: [string, string][] = [
      ['application/x-www-form-urlencoded', `tx=${'A'.repeat(22)}&csrf=x&decision=allow`],
      ['application/x-www-form-urlencoded', 'tx=1&tx=2'],
      ['application/json', '{"tx":"x"}'],
      ['application/x-www-form-urlencoded', '\uFFFF%'],
    ];
    for (const target of targets) {
      for (const cookie of cookies) {
        const get = await fetch(`${app.issuer}${target}`, {
          redirect: 'manual',
          headers: { cookie },
        });
        expect(get.status, `GET ${target}`).toBeLessThan(500);
        for (const [type, body] of bodies) {
          const post = await fetch(`${app.issuer}${target}`, {
            method: 'POST',
            redirect: 'manual',
            headers: { cookie, 'content-type': type },
            body,
          });
          expect(post.status, `POST ${target} ${type}`).toBeLessThan(500);
        }
      }
    }
  });
});
