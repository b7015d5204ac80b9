import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminClient } from '../../cli/admin-client.js';
import { type RunningDashboard, startDashboard } from '../../cli/dashboard.js';
import type { LocalApp } from '../../local/app.js';
import { jsonPost, operatorAdmin, readJson, startTestServer } from '../support/server.js';

/**
 * `dcr-admin dashboard`: the dashboard's pages on 127.0.0.1 over the admin API. Against the
 * synthesized stack (project `stack`) it calls the IAM-authorized `/admin` route with SigV4, as
 * it would call a deployment, and the stack itself serves no dashboard; locally it uses the
 * admin token. Sign-in by the printed link only, the Host check, and a deletion that reaches
 * the registry.
 */
const STACK = process.env.DCR_TEST_TARGET === 'stack';
const ADMIN_TOKEN = 'proxy-admin-token-0123456789-abcdefghijklmnop';

let app: LocalApp;
let dashboard: RunningDashboard;
let admin: AdminClient;
/** The session the printed link opened (it opens one only). */
let cookie: string;

beforeAll(async () => {
  app = await startTestServer({ DCR_ADMIN_TOKEN: ADMIN_TOKEN, DCR_AUDIT_LOG: 'off' });
  admin = operatorAdmin(app.issuer, ADMIN_TOKEN);
  dashboard = await startDashboard(admin, { port: 0 });
});
afterAll(async () => {
  await dashboard?.close();
  await app?.close();
});

/** A raw request, so that the Host header can be anything. */
function raw(url: string, headers: Record<string, string>) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('dcr-admin dashboard', () => {
  it('serves on 127.0.0.1 only, signs in by the printed link alone, and refuses another Host', async () => {
    expect(new URL(dashboard.issuer).hostname).toBe('127.0.0.1');
    const link = new URL(dashboard.signInUrl);
    const wrong = await fetch(`${link.origin}${link.pathname}?token=not-it`, {
      redirect: 'manual',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();

    const rebound = await raw(dashboard.signInUrl, { host: `attacker.example:${link.port}` });
    // Refused by the server before any route (as `npm start` refuses it).
    expect(rebound.status).toBe(421);
    expect(JSON.parse(rebound.body)).toMatchObject({ error: 'invalid_request' });

    const signedIn = await fetch(dashboard.signInUrl, { redirect: 'manual' });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe(`${dashboard.issuer}/dashboard`);
    const setCookie = signedIn.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(
      /^dcr_dashboard=[^;]+; Max-Age=28800; Path=\/dashboard; HttpOnly; SameSite=Strict$/,
    );
    cookie = setCookie.split(';')[0] as string;

    // The link works once: a copy of it (browser history, a shared screen) opens nothing.
    const again = await fetch(dashboard.signInUrl, { redirect: 'manual' });
    expect(again.status).toBe(401);
    expect(again.headers.get('set-cookie')).toBeNull();
    expect(await again.text()).toContain('already been used');
    const typed = await fetch(`${link.origin}${link.pathname}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: dashboard.issuer },
      body: new URLSearchParams({ admin_token: link.searchParams.get('token') ?? '' }).toString(),
    });
    expect(typed.status).toBe(401);
    expect(typed.headers.get('set-cookie')).toBeNull();
  });

  it('shows the registry through the admin API and deletes a client there, after confirmation', async () => {
    if (STACK) {
      // Nothing new on the public API: the stack routes no dashboard.
      expect((await fetch(`${app.issuer}/dashboard`)).status).toBe(404);
    }
    const registered = await readJson(
      await jsonPost(`${app.issuer}/register`, {
        client_name: `proxied-${Date.now()}`,
        grant_types: ['client_credentials'],
      }),
    );
    const overview = await fetch(`${dashboard.issuer}/dashboard`, { headers: { cookie } });
    expect(overview.status).toBe(200);
    expect(await overview.text()).toContain('Registrations per day');

    const search = await fetch(
      `${dashboard.issuer}/dashboard/clients?search=${registered.client_id}`,
      { headers: { cookie } },
    );
    const listing = await search.text();
    expect(listing).toContain(registered.client_name);
    expect(listing).not.toContain(registered.client_secret);

    const confirm = await fetch(
      `${dashboard.issuer}/dashboard/clients/${registered.client_id}/delete`,
      { headers: { cookie } },
    );
    const csrf = (await confirm.text()).match(/name="csrf" value="([^"]+)"/)?.[1];
    expect(csrf).toBeTruthy();
    const deleted = await fetch(
      `${dashboard.issuer}/dashboard/clients/${registered.client_id}/delete`,
      {
        method: 'POST',
        redirect: 'manual',
        headers: {
          cookie,
          origin: dashboard.issuer,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: `csrf=${csrf}`,
      },
    );
    expect(deleted.status).toBe(303);
    expect((await admin.request('GET', `/clients/${registered.client_id}`)).status).toBe(404);
    const gone = await fetch(registered.registration_client_uri, {
      headers: { authorization: `Bearer ${registered.registration_access_token}` },
    });
    expect(gone.status).toBe(401);
  });
});
