import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalApp } from '../../local/app.js';
import { Browser, isLoginForm } from '../support/browser.js';
import { type Json, jsonPost, readJson, startTestServer } from '../support/server.js';

/**
 * The development login's own page, on the local server only: Lambda refuses the development
 * login (the stack signs users in at an upstream). The flow through it, the same on both
 * targets, is `e2e/authorization-code`.
 */
const REDIRECT = 'http://127.0.0.1:8765/callback';

let app: LocalApp;
let registered: Json;

beforeAll(async () => {
  app = await startTestServer({ DCR_DEV_USERS: 'alice,bob' });
  const response = await jsonPost(`${app.issuer}/register`, {
    redirect_uris: [REDIRECT],
    token_endpoint_auth_method: 'none',
  });
  expect(response.status).toBe(201);
  registered = await readJson(response);
});
afterAll(() => app.close());

const authorizationUrl = () =>
  `${app.issuer}/authorize?${new URLSearchParams({
    response_type: 'code',
    client_id: registered.client_id,
    redirect_uri: REDIRECT,
    state: 'st-1',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
  })}`;

describe('the development login', () => {
  it('is where /authorize sends a browser without a session: marked, with a labelled field', async () => {
    const browser = new Browser();
    const start = await browser.request(authorizationUrl());
    expect(start.status).toBe(303);
    const location = start.headers.get('location') ?? '';
    expect(location.startsWith(`${app.issuer}/login?tx=`)).toBe(true);
    expect(new URL(location).searchParams.get('tx')).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const login = await browser.page(await browser.request(location));
    expect(isLoginForm(login.form)).toBe(true);
    expect(login.text).toContain('Development login');
    expect(login.text).toMatch(/<label for="username">/);
    expect(login.text).toContain('Users: alice, bob');
  });

  it('refuses a user who is not in the development list, on the page', async () => {
    const browser = new Browser();
    const login = await browser.page(await browser.follow(authorizationUrl(), REDIRECT));
    const refused = await browser.submit(login.form, { username: 'mallory<script>' });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('location')).toBeNull();
    const page = await refused.text();
    expect(page).toContain('There is no development user “mallory&lt;script&gt;”');
    expect(browser.cookies(app.issuer).has('dcr_session')).toBe(false);
  });

  it('refuses an unknown user with an RFC error body to a caller that prefers JSON, as every page route does (found by fuzzing)', async () => {
    const browser = new Browser();
    const login = await browser.page(await browser.follow(authorizationUrl(), REDIRECT));
    const refused = await browser.request(login.form.action, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({ ...login.form.fields, username: 'mallory' }).toString(),
    });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toBe('application/json');
    expect(await readJson(refused)).toEqual({
      error: 'access_denied',
      error_description: 'There is no development user “mallory”.',
    });
    expect(browser.cookies(app.issuer).has('dcr_session')).toBe(false);
  });

  it('refuses a login post its page did not send: wrong or missing CSRF token, another site', async () => {
    const browser = new Browser();
    const login = await browser.page(await browser.follow(authorizationUrl(), REDIRECT));
    const forged = (fields: Record<string, string>, origin = app.issuer) =>
      browser.request(login.form.action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
        body: new URLSearchParams(fields).toString(),
      });
    const withoutToken: Record<string, string> = { ...login.form.fields, username: 'alice' };
    delete withoutToken.csrf;
    for (const response of [
      await forged(withoutToken),
      await forged({ ...withoutToken, csrf: 'A'.repeat(43) }),
      await forged({ ...login.form.fields, username: 'alice' }, 'https://evil.example'),
    ]) {
      expect(response.status).toBe(403);
      expect(response.headers.get('location')).toBeNull();
    }
    expect(browser.cookies(app.issuer).has('dcr_session')).toBe(false);
    // The page's own post still signs in.
    const signedIn = await browser.submit(login.form, { username: 'alice' });
    expect(signedIn.status).toBe(303);
  });
});

/** A GET naming the given Host, as a page whose name was rebound to 127.0.0.1 would send it. */
const getWithHost = (path: string, host: string) =>
  new Promise<{ status: number; type: string | undefined; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: app.port, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }),
      );
    });
    req.on('error', reject);
    req.end();
  });

describe('the Host header (DNS rebinding)', () => {
  it('a request naming another host is refused with 421 before any route runs', async () => {
    for (const host of [
      `rebound.example:${app.port}`,
      'rebound.example',
      `127.0.0.2:${app.port}`,
    ]) {
      const refused = await getWithHost('/login?tx=x', host);
      expect(refused.status, host).toBe(421);
      expect(refused.type).toBe('application/json');
      expect(JSON.parse(refused.body)).toMatchObject({ error: 'invalid_request' });
    }
  });

  it('the issuer’s host and the loopback names at the server’s port are served', async () => {
    for (const host of [new URL(app.issuer).host, `localhost:${app.port}`, `[::1]:${app.port}`]) {
      const served = await getWithHost('/.well-known/oauth-authorization-server', host);
      expect(served.status, host).toBe(200);
    }
  });
});
