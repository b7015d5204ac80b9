import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambdas/config.js';
import { type LocalApp, startLocalApp } from '../../local/app.js';
import { FakeClock } from '../support/fakes.js';
import { type Json, jsonPost, readJson } from '../support/server.js';

/**
 * The dashboard on the local server, over HTTP without a browser: closed without an admin token,
 * the session cookie's scope and lifetime, sign-in refusals, and bad input of any shape answered
 * with a 4xx page (JSON when asked), never a 5xx.
 */
const TOKEN = 'integration-admin-token-0123456789-abcdefghij';
const dataDir = mkdtempSync(join(tmpdir(), 'dcr-dashboard-'));
const started: LocalApp[] = [];

async function start(env: Record<string, string>, clock?: FakeClock) {
  const app = await startLocalApp(
    loadConfig({ PORT: '0', DCR_AUDIT_LOG: 'off', DCR_CLEANUP_INTERVAL_SECONDS: '0', ...env }),
    { store: 'embedded', ...(clock && { clock }) },
  );
  started.push(app);
  return app;
}

afterAll(async () => {
  for (const app of started) await app.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const form = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });

/** Signs in; the session cookie as the browser would send it back, and the whole Set-Cookie. */
async function signIn(base: string, origin: string, token = TOKEN) {
  const response = await form(`${base}/dashboard/sign-in`, `admin_token=${token}`, { origin });
  expect(response.status).toBe(303);
  const setCookie = response.headers.get('set-cookie') ?? '';
  return { cookie: setCookie.split(';')[0] as string, setCookie };
}

describe('the local dashboard', () => {
  it('is closed without DCR_ADMIN_TOKEN, and says how to open it', async () => {
    const app = await start({});
    for (const response of [
      await fetch(`${app.issuer}/dashboard`, { redirect: 'manual' }),
      await fetch(`${app.issuer}/dashboard/sign-in`),
      await form(`${app.issuer}/dashboard/sign-in`, 'admin_token=x', { origin: app.issuer }),
    ]) {
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await response.text()).toContain('DCR_ADMIN_TOKEN');
    }
  });

  it('refuses a sign-in from another origin or without one, and a wrong token, setting no cookie', async () => {
    const app = await start({ DCR_ADMIN_TOKEN: TOKEN });
    const url = `${app.issuer}/dashboard/sign-in`;
    const attempts: Record<string, string>[] = [
      { origin: 'http://evil.example' },
      {},
      { origin: 'null' },
    ];
    for (const headers of attempts) {
      const response = await form(url, `admin_token=${TOKEN}`, headers);
      expect(response.status).toBe(403);
      expect(response.headers.get('set-cookie')).toBeNull();
    }
    const wrong = await form(url, 'admin_token=wrong', { origin: app.issuer });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    expect(await wrong.text()).toContain('not the admin token');
  });

  it('refuses a wrong token with the RFC error body to a caller that prefers JSON, as every page route does (found by fuzzing)', async () => {
    const app = await start({ DCR_ADMIN_TOKEN: TOKEN });
    const wrong = await form(`${app.issuer}/dashboard/sign-in`, 'admin_token=wrong', {
      origin: app.issuer,
      accept: 'application/json',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('content-type')).toBe('application/json');
    expect(wrong.headers.get('set-cookie')).toBeNull();
    expect(await readJson(wrong)).toEqual({
      error: 'access_denied',
      error_description: 'That is not the admin token.',
    });
  });

  it('scopes the session cookie to the dashboard under the issuer path (Secure for https), and ends it after the session lifetime', async () => {
    const clock = new FakeClock(Math.floor(Date.now() / 1000));
    const app = await start(
      {
        DCR_ADMIN_TOKEN: TOKEN,
        DCR_ISSUER: 'https://id.example.com/tenant',
        DCR_SESSION_LIFETIME_SECONDS: '600',
      },
      clock,
    );
    const base = `http://127.0.0.1:${app.port}/tenant`;
    const { cookie, setCookie } = await signIn(base, 'https://id.example.com');
    expect(setCookie).toMatch(
      /; Max-Age=600; Path=\/tenant\/dashboard; HttpOnly; SameSite=Strict; Secure$/,
    );
    const overview = await fetch(`${base}/dashboard`, { headers: { cookie } });
    expect(overview.status).toBe(200);
    expect(overview.headers.get('content-security-policy')).toMatch(
      /^default-src 'none'; style-src 'sha256-/,
    );
    expect(overview.headers.get('cache-control')).toBe('no-store');

    clock.advance(601);
    const expired = await fetch(`${base}/dashboard`, { headers: { cookie }, redirect: 'manual' });
    expect(expired.status).toBe(303);
    expect(expired.headers.get('location')).toBe('https://id.example.com/tenant/dashboard/sign-in');
  });

  it('signing out ends the session on the server: a copy of its cookie no longer signs anyone in', async () => {
    const app = await start({ DCR_ADMIN_TOKEN: TOKEN });
    const { cookie } = await signIn(app.issuer, app.issuer);
    const overview = await fetch(`${app.issuer}/dashboard`, { headers: { cookie } });
    expect(overview.status).toBe(200);
    const csrf = (await overview.text()).match(/name="csrf" value="([^"]+)"/)?.[1] ?? '';
    const signedOut = await form(`${app.issuer}/dashboard/sign-out`, `csrf=${csrf}`, {
      cookie,
      origin: app.issuer,
    });
    expect(signedOut.status).toBe(303);
    const copied = await fetch(`${app.issuer}/dashboard`, {
      headers: { cookie },
      redirect: 'manual',
    });
    expect(copied.status).toBe(303);
    expect(copied.headers.get('location')).toBe(`${app.issuer}/dashboard/sign-in`);
  });

  it('ends every session when the admin token changes', async () => {
    const first = await start({ DCR_ADMIN_TOKEN: TOKEN, DCR_DATA_DIR: dataDir });
    const { cookie } = await signIn(first.issuer, first.issuer);
    await first.close();
    started.splice(started.indexOf(first), 1);
    // Same data folder (same cookie key), another token.
    const second = await start({
      DCR_ADMIN_TOKEN: `${TOKEN}-rotated`,
      DCR_DATA_DIR: dataDir,
      PORT: String(first.port),
    });
    const response = await fetch(`${second.issuer}/dashboard`, {
      headers: { cookie },
      redirect: 'manual',
    });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toMatch(/\/dashboard\/sign-in$/);
    await second.close();
    started.splice(started.indexOf(second), 1);
    // With the old token back, the same cookie is a session again: the token, not the restart, ended it.
    const third = await start({ DCR_ADMIN_TOKEN: TOKEN, DCR_DATA_DIR: dataDir });
    expect((await fetch(`${third.issuer}/dashboard`, { headers: { cookie } })).status).toBe(200);
  });

  it('answers bad input with a 4xx page (or JSON when asked), never a 5xx, and never shows a secret', async () => {
    const app = await start({ DCR_ADMIN_TOKEN: TOKEN });
    const { cookie } = await signIn(app.issuer, app.issuer);
    const client = await readJson(
      await jsonPost(`${app.issuer}/register`, {
        client_name: 'public',
        redirect_uris: ['http://127.0.0.1/cb'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'none',
      }),
    );
    const base = `${app.issuer}/dashboard`;
    const gets: [string, number][] = [
      ['/clients?method=bogus', 400],
      ['/clients?created_after=2026-13-45', 400],
      ['/clients?used_before=yesterday', 400],
      ['/clients?cursor=garbage', 400],
      [`/clients?search=${'x'.repeat(2000)}`, 400],
      ['/clients/no-such-client', 404],
      ['/clients/%2e%2e', 404],
      ['/clients/%E0%A4%A', 404],
      ['/clients/no-such-client/delete', 404],
      ['/block-software', 400],
      [`/block-software?software_id=${'s'.repeat(300)}`, 400],
      ['/blocked?cursor=garbage', 400],
      ['/nowhere', 404],
    ];
    for (const [path, status] of gets) {
      const response = await fetch(`${base}${path}`, { headers: { cookie } });
      expect([path, response.status]).toEqual([path, status]);
      expect(response.headers.get('content-type')).toMatch(/^text\/html|^application\/json/);
    }
    const asJson = await fetch(`${base}/clients/no-such-client`, {
      headers: { cookie, accept: 'application/json' },
    });
    expect(asJson.status).toBe(404);
    expect(await asJson.json()).toEqual({
      error: 'not_found',
      error_description: 'no such client',
    });

    const page = await (
      await fetch(`${base}/clients/${client.client_id}/delete`, { headers: { cookie } })
    ).text();
    const csrf = page.match(/name="csrf" value="([^"]+)"/)?.[1] ?? '';
    const posts: [string, string, number][] = [
      [`/clients/${client.client_id}/rotate-secret`, `csrf=${csrf}&grace_period_seconds=-1`, 400],
      [
        `/clients/${client.client_id}/rotate-secret`,
        `csrf=${csrf}&grace_period_seconds=99999999`,
        400,
      ],
      // A public client has no secret to rotate.
      [`/clients/${client.client_id}/rotate-secret`, `csrf=${csrf}&grace_period_seconds=0`, 400],
      ['/clients/no-such-client/delete', `csrf=${csrf}`, 404],
      ['/block-software', `csrf=${csrf}`, 400],
      ['/block-software', `csrf=${csrf}&software_id=${'s'.repeat(300)}`, 400],
      ['/unblock-software', `csrf=${csrf}`, 400],
      ['/unblock-software', `csrf=${csrf}&software_id=never-blocked`, 404],
      ['/unblock-software', 'software_id=never-blocked', 403],
      [`/clients/${client.client_id}/delete`, `csrf=${csrf}&csrf=${csrf}`, 400],
    ];
    for (const [path, body, status] of posts) {
      const response = await form(`${base}${path}`, body, { cookie, origin: app.issuer });
      expect([path, body.slice(0, 60), response.status]).toEqual([path, body.slice(0, 60), status]);
    }
    // The client is still there, and its page shows no secret or token.
    const detail = await fetch(`${base}/clients/${client.client_id}`, { headers: { cookie } });
    expect(detail.status).toBe(200);
    expect(await detail.text()).not.toContain(client.registration_access_token);
  });

  it('shows where a client’s codes go first on its page, and its registered metadata, never a secret', async () => {
    const app = await start({ DCR_ADMIN_TOKEN: TOKEN, DCR_REDIRECT_HOSTS: 'app.example.com' });
    const { cookie } = await signIn(app.issuer, app.issuer);
    const key = {
      kty: 'EC',
      crv: 'P-256',
      kid: 'k1',
      x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
      y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
    };
    const client = await readJson(
      await jsonPost(`${app.issuer}/register`, {
        client_name: 'web app',
        redirect_uris: ['https://app.example.com/cb', 'http://127.0.0.1/cb'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [key] },
        contacts: ['ops@example.com'],
        dpop_bound_access_tokens: true,
      }),
    );
    const page = await (
      await fetch(`${app.issuer}/dashboard/clients/${client.client_id}`, { headers: { cookie } })
    ).text();
    const codes = page.indexOf('<h2 id="codes-h">Where its codes go</h2>');
    expect(codes).toBeGreaterThan(0);
    expect(codes).toBeLessThan(page.indexOf('<h2 id="meta-h">'));
    expect(page).toContain(
      '<ul class="hosts" aria-label="Redirect hosts"><li><code>app.example.com</code></li><li><code>127.0.0.1</code></li></ul>',
    );
    for (const shown of [
      '<li><code>https://app.example.com/cb</code></li>',
      '<li><code>http://127.0.0.1/cb</code></li>',
      '<li><code>ops@example.com</code></li>',
      '<dd>private_key_jwt</dd>',
      '<dd>authorization_code</dd>',
      '1 registered (<code>jwks</code>): <code>k1</code>',
      '<dt>DPoP-bound tokens</dt><dd>true</dd>',
    ])
      expect(page).toContain(shown);
    expect(page).not.toContain(key.x);
    expect(page).not.toContain(client.registration_access_token);

    const machine = await readJson(
      await jsonPost(`${app.issuer}/register`, { grant_types: ['client_credentials'] }),
    );
    const machinePage = await (
      await fetch(`${app.issuer}/dashboard/clients/${machine.client_id}`, { headers: { cookie } })
    ).text();
    expect(machinePage).toContain('No redirect URIs: this client gets no authorization codes');
    expect(machinePage).not.toContain(machine.client_secret);
  });

  it('renders client text inert, and never lets a page be cached or framed', async () => {
    const app = await start({ DCR_ADMIN_TOKEN: TOKEN });
    const { cookie } = await signIn(app.issuer, app.issuer);
    const hostile = '<img src=x onerror=alert(1)>"\'&';
    const client = await readJson(
      await jsonPost(`${app.issuer}/register`, {
        client_name: hostile,
        software_id: `<script>alert(2)</script>`,
        grant_types: ['client_credentials'],
      }),
    );
    expect(client.client_name).toBe(hostile);
    const base = `${app.issuer}/dashboard`;
    for (const path of ['/clients', `/clients/${client.client_id}`]) {
      const response = await fetch(`${base}${path}`, { headers: { cookie } });
      const body = await response.text();
      expect(body).toContain('&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;');
      expect(body).toContain('&lt;script&gt;alert(2)&lt;/script&gt;');
      expect(body).not.toMatch(/<img|<script/);
    }
    const page = await (
      await fetch(`${base}/clients/${client.client_id}`, { headers: { cookie } })
    ).text();
    const csrf = page.match(/name="csrf" value="([^"]+)"/)?.[1] ?? '';
    const rotated = await form(
      `${base}/clients/${client.client_id}/rotate-secret`,
      `csrf=${csrf}&grace_period_seconds=0`,
      { cookie, origin: app.issuer },
    );
    expect(rotated.status).toBe(200);
    expect(await rotated.text()).toMatch(/id="new-secret" class="secret">[A-Za-z0-9_-]{43}</);
    for (const response of [rotated, await fetch(base, { headers: { cookie } })]) {
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('referrer-policy')).toBe('same-origin');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(response.headers.get('content-security-policy')).not.toContain('script-src');
    }
  });

  it('blocks a software_id only after a confirmation that counts its clients, lists it with who blocked it, and unblocks it', async () => {
    const app = await start({ DCR_ADMIN_TOKEN: TOKEN });
    const { cookie } = await signIn(app.issuer, app.issuer);
    const base = `${app.issuer}/dashboard`;
    const register = (softwareId: string) =>
      jsonPost(`${app.issuer}/register`, {
        software_id: softwareId,
        grant_types: ['client_credentials'],
      });
    const clientIds: string[] = [];
    for (let i = 0; i < 2; i++) clientIds.push((await readJson(await register('kept'))).client_id);
    for (let i = 0; i < 3; i++) await register('doomed');
    const blockedIds = async () =>
      (
        await readJson(
          await fetch(`${app.issuer}/admin/blocked-software-ids`, {
            headers: { authorization: `Bearer ${TOKEN}` },
          }),
        )
      ).blocked_software_ids.map((b: { software_id: string }) => b.software_id);

    // The confirmation says how many clients there are, offers to delete them, and changes nothing.
    const confirm = await fetch(
      `${base}/block-software?software_id=kept&client_id=${clientIds[0]}`,
      {
        headers: { cookie },
      },
    );
    expect(confirm.status).toBe(200);
    const confirmation = await confirm.text();
    expect(confirmation).toContain('<span id="impact-count">2</span>');
    expect(confirmation).toContain('name="delete_clients" value="false" checked');
    expect(confirmation).toContain(`href="${base}/clients/${clientIds[0]}">Cancel</a>`);
    expect(await blockedIds()).toEqual([]);
    const csrf = confirmation.match(/name="csrf" value="([^"]+)"/)?.[1] ?? '';

    // Confirmed without deletion: blocked, its clients kept, back to the client's page.
    const kept = await form(
      `${base}/block-software`,
      `csrf=${csrf}&software_id=kept&client_id=${clientIds[0]}&delete_clients=false`,
      { cookie, origin: app.issuer },
    );
    expect(kept.status).toBe(303);
    expect(kept.headers.get('location')).toBe(`${base}/clients/${clientIds[0]}?done=blocked`);
    expect((await register('kept')).status).toBe(400);
    expect((await fetch(`${base}/clients/${clientIds[1]}`, { headers: { cookie } })).status).toBe(
      200,
    );

    // Confirmed with deletion: blocked and its three clients gone.
    const doomed = await form(
      `${base}/block-software`,
      `csrf=${csrf}&software_id=doomed&delete_clients=true`,
      { cookie, origin: app.issuer },
    );
    expect(doomed.headers.get('location')).toBe(`${base}/blocked?done=blocked-deleted`);
    const none = await fetch(`${base}/block-software?software_id=doomed`, { headers: { cookie } });
    expect(await none.text()).toContain('<span id="impact-count">0</span>');

    // The Blocked page lists both, who blocked them, with an Unblock form each.
    const list = await (
      await fetch(`${base}/blocked?done=blocked-deleted`, { headers: { cookie } })
    ).text();
    expect(list).toContain('its clients were deleted');
    for (const id of ['kept', 'doomed']) {
      expect(list).toContain(`<td data-label="software_id"><code>${id}</code></td>`);
      expect(list).toContain(
        `name="software_id" value="${id}">\n<button type="submit" class="secondary" aria-label="Unblock ${id}">`,
      );
    }
    expect(list).toContain('<code>admin-token</code>');
    expect(list).not.toContain(TOKEN);

    const unblocked = await form(`${base}/unblock-software`, `csrf=${csrf}&software_id=kept`, {
      cookie,
      origin: app.issuer,
    });
    expect(unblocked.headers.get('location')).toBe(`${base}/blocked?done=unblocked`);
    expect(await blockedIds()).toEqual(['doomed']);
    expect((await register('kept')).status).toBe(201);
  });

  it('lists clients 25 a page with a total, in registry order or sorted by created, last used, expiry or name', async () => {
    const app = await start({ DCR_ADMIN_TOKEN: TOKEN });
    const { cookie } = await signIn(app.issuer, app.issuer);
    const base = `${app.issuer}/dashboard`;
    const clients: Json[] = [];
    // 27 clients of one software_id, named in an order unlike their registration order.
    for (let i = 0; i < 27; i++) {
      const name = `agent-${String((i * 7) % 27).padStart(2, '0')}`;
      clients.push(
        await readJson(
          await jsonPost(`${app.issuer}/register`, {
            client_name: name,
            software_id: 'fleet',
            grant_types: ['client_credentials'],
          }),
        ),
      );
    }
    const used = clients[13] as Json;
    const token = await fetch(`${app.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${used.client_id}:${used.client_secret}`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
    });
    expect(token.status).toBe(200);

    /** A listing page: its rows' client_ids, what it says it shows, and its page links. */
    const listed = async (path: string) => {
      const response = await fetch(`${base}${path}`, { headers: { cookie } });
      expect(response.status).toBe(200);
      const body = await response.text();
      const link = (rel: string) =>
        body.match(new RegExp(`<a href="([^"]+)" rel="${rel}">`))?.[1]?.replaceAll('&amp;', '&');
      return {
        ids: [...body.matchAll(/<code class="id" title="([^"]+)">/g)]
          .map((m) => m[1] as string)
          .filter((id) => id !== 'fleet'),
        names: [...body.matchAll(/<td data-label="Name"><a [^>]+>([^<]+)<\/a>/g)].map((m) => m[1]),
        count: body.match(/<p id="clients-count">(.*?)<\/p>/)?.[1]?.replace(/<\/?strong>/g, ''),
        next: link('next'),
        previous: link('prev'),
      };
    };
    const rest = (url: string | undefined) => (url ?? '').slice(base.length);

    // Registry order: 25, then the other 2, the total from the statistics' count.
    for (const [filter, shown] of [
      ['', 'Showing 1–25 of 27 active clients'],
      ['?search=fleet', 'Showing 1–25 matching clients'],
    ] as const) {
      const first = await listed(`/clients${filter}`);
      expect(first.ids).toHaveLength(25);
      expect(first.count).toBe(shown);
      const second = await listed(rest(first.next));
      expect(second.ids).toHaveLength(2);
      expect(second.count).toMatch(/^Showing 26–27/);
      expect(new Set([...first.ids, ...second.ids])).toEqual(
        new Set(clients.map((c) => c.client_id)),
      );
      expect(second.next).toBeUndefined();
    }

    // Sorted by name: every match read, sorted, then 25 a page, with Previous and Next.
    const byName = await listed('/clients?search=fleet&sort=name-asc');
    expect(byName.count).toBe('Showing 1–25 of 27 matching clients');
    const names = clients.map((c) => c.client_name).sort();
    expect(byName.names).toEqual(names.slice(0, 25));
    const byNameNext = await listed(rest(byName.next));
    expect(byNameNext.names).toEqual(names.slice(25));
    expect(byNameNext.count).toBe('Showing 26–27 of 27 matching clients');
    expect(rest(byNameNext.previous)).toBe('/clients?search=fleet&sort=name-asc&page=1');

    // The one client used comes first by last use; by creation, the first registered last.
    expect((await listed('/clients?sort=used-desc')).ids[0]).toBe(used.client_id);
    const newest = await listed('/clients?sort=created-desc');
    const oldest = await listed('/clients?sort=created-asc');
    expect(newest.ids[0]).not.toBe(oldest.ids[0]);
    expect((await listed('/clients?sort=expires-asc')).ids).toHaveLength(25);
    for (const bad of [
      'sort=bogus',
      'sort=toString',
      'sort=name-asc&page=0',
      'sort=name-asc&page=x',
    ]) {
      const response = await fetch(`${base}/clients?${bad}`, { headers: { cookie } });
      expect([bad, response.status]).toEqual([bad, 400]);
    }
  });
});
