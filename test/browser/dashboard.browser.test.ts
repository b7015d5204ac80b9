import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalApp } from '../../local/app.js';
import { fitsWidth, launchChromium, SHOTS } from '../support/chromium.js';
import { publicClientGrants } from '../support/interactive.js';
import { type Json, jsonPost, readJson, startTestServer } from '../support/server.js';

/**
 * The operator dashboard in a real browser (Debian's Chromium, as in browser/consent): sign-in,
 * the overview's numbers against the clients this test registers, search, a client's page,
 * rotation and deletion as an operator does them, CSRF refusals as Chromium sends them, no
 * request to another origin, no console error (CSP violations are console errors), and phone
 * width without horizontal scrolling. Screenshots go to test-results/ (git-ignored).
 */
const ADMIN_TOKEN = 'dashboard-admin-token-0123456789-abcdefghijkl';

let app: LocalApp;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const fleet = `fleet-${Date.now()}`;
const agents: Json[] = [];
let publicClient: Json;
const problems: string[] = [];
const foreignRequests: string[] = [];

/** A browser context that records console errors, script errors and requests elsewhere. */
async function watchedContext(width: number): Promise<BrowserContext> {
  const created = await browser.newContext({ viewport: { width, height: 900 } });
  created.on('request', (request) => {
    if (new URL(request.url()).origin !== new URL(app.issuer).origin) {
      foreignRequests.push(request.url());
    }
  });
  created.on('console', (message) => {
    // CSP violations are console errors; statuses (the refused sign-in's 401, the favicon's
    // 404) are checked by the tests themselves.
    const text = message.text();
    if (['error', 'warning'].includes(message.type()) && !text.startsWith('Failed to load')) {
      problems.push(text);
    }
  });
  created.on('weberror', (error) => problems.push(error.error().message));
  return created;
}

/** The ids (client_id, software_id) in the page's tables that wrap onto a second line. */
const idsOnOneLine = (target: Page) =>
  target.evaluate<string[]>(`[...document.querySelectorAll('td code.id')]
    .filter((el) => el.getClientRects().length > 1 || el.getBoundingClientRect().height > 30)
    .map((el) => el.textContent)`);

/**
 * The overview's charts as drawn: the smallest and largest size their text is rendered at (CSS
 * px, after any scaling of the SVG), and the narrowest chart's share of its section's width.
 */
const chartMetrics = (target: Page) =>
  target.evaluate<{ smallest: number; largest: number; narrowest: number }>(`(() => {
    const sizes = [...document.querySelectorAll('svg.chart text')].map(
      (t) => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a,
    );
    const shares = [...document.querySelectorAll('svg.chart')].map(
      (svg) => svg.getBoundingClientRect().width / svg.closest('section').getBoundingClientRect().width,
    );
    return { smallest: Math.min(...sizes), largest: Math.max(...sizes), narrowest: Math.min(...shares) };
  })()`);

/** Charts legible at any width: text between 12 and 16 px, each chart across its section. */
async function chartsLegible(target: Page) {
  const { smallest, largest, narrowest } = await chartMetrics(target);
  expect(smallest).toBeGreaterThanOrEqual(12);
  expect(largest).toBeLessThanOrEqual(16);
  expect(narrowest).toBeGreaterThan(0.9);
}

async function signIn(target: Page) {
  await target.goto(`${app.issuer}/dashboard`);
  await target.getByLabel('Admin token').fill(ADMIN_TOKEN);
  await target.getByRole('button', { name: 'Sign in' }).click();
  await target.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
}

/** The overview's figures, reloaded until they are as expected (counting is off the request path). */
async function overviewShows(target: Page, expected: Record<string, string>) {
  let seen: Record<string, string> = {};
  for (let attempt = 0; attempt < 20; attempt++) {
    await target.goto(`${app.issuer}/dashboard`);
    seen = {};
    for (const id of Object.keys(expected)) {
      seen[id] = (await target.locator(`#${id}`).textContent())?.trim() ?? '';
    }
    if (JSON.stringify(seen) === JSON.stringify(expected)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(seen).toEqual(expected);
}

beforeAll(async () => {
  browser = await launchChromium();
  app = await startTestServer({ DCR_ADMIN_TOKEN: ADMIN_TOKEN, DCR_AUDIT_LOG: 'off' });
  for (let i = 0; i < 3; i++) {
    const response = await jsonPost(`${app.issuer}/register`, {
      client_name: `agent-${i}`,
      software_id: fleet,
      grant_types: ['client_credentials'],
    });
    expect(response.status).toBe(201);
    agents.push(await readJson(response));
  }
  publicClient = await readJson(
    await jsonPost(`${app.issuer}/register`, {
      client_name: 'A rather long application name that wraps — Claude Desktop (MCP)',
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'none',
    }),
  );
  context = await watchedContext(1280);
  page = await context.newPage();
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

// A real browser on a shared 2-core machine: more time than the suite's default per step.
describe('the operator dashboard in Chromium', { timeout: 60_000 }, () => {
  it('refuses a wrong admin token, signs in with the right one into a Strict, HttpOnly session, and the overview counts this test’s clients', async () => {
    await page.goto(`${app.issuer}/dashboard`);
    expect(new URL(page.url()).pathname).toBe('/dashboard/sign-in');
    await page.getByLabel('Admin token').fill('not-the-admin-token');
    const refused = page.waitForResponse((r) => r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect((await refused).status()).toBe(401);
    expect(await page.getByRole('alert').textContent()).toContain('not the admin token');
    await page.screenshot({ path: `${SHOTS}/dashboard-sign-in-refused.png`, fullPage: true });

    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    const [cookie] = (await context.cookies()).filter((c) => c.name === 'dcr_dashboard');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/dashboard' });
    expect(cookie?.expires).toBeGreaterThan(Date.now() / 1000);

    await overviewShows(page, {
      'active-total': '4',
      'registered-total': '4',
      'deleted-total': '0 (0 / 0)',
      'expired-total': '0',
    });
    await chartsLegible(page);
    // The totals and the busiest day are written out, the y axis says its unit.
    expect(await page.locator('section[aria-labelledby=reg-h] figcaption').textContent()).toMatch(
      /^4 registrations in 30 days; busiest day \d{4}-\d\d-\d\d \(4\)$/,
    );
    expect(await page.locator('section[aria-labelledby=reg-h] text.unit').textContent()).toBe(
      'registrations per day',
    );
    // Values at the bars' ends.
    expect(
      await page.locator('section[aria-labelledby=sw-h] svg text.value').allTextContents(),
    ).toEqual(['3']);
    // Charts are images with names, and their numbers are in tables too.
    await page.getByRole('img', { name: 'Registrations per day' }).waitFor();
    await page.getByRole('img', { name: 'Deletions and expiries per day' }).waitFor();
    const byMethod = page.getByRole('img', { name: /Active clients by registration method/ });
    expect(await byMethod.getAttribute('aria-labelledby')).toBeTruthy();
    expect(await page.locator('svg[role=img] desc').first().textContent()).toMatch(/open 4/);
    // The top software_ids: this test's fleet with its three clients.
    await page.getByRole('img', { name: 'Active clients by software_id (top 10)' }).waitFor();
    expect(await page.locator('section[aria-labelledby=sw-h] tbody').textContent()).toBe(
      `${fleet}3`,
    );
    // Unused clients expire 24 h after registering: all four are in the next 24 hours.
    expect(await page.locator('section[aria-labelledby=exp-h] tbody tr').count()).toBe(4);
    await page.screenshot({ path: `${SHOTS}/dashboard-overview-1280.png`, fullPage: true });
  });

  it('finds a client by name prefix, client_id and software_id, and shows its page without any secret', async () => {
    await page.goto(`${app.issuer}/dashboard/clients`);
    await page.getByLabel('Search').fill('agent-1');
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: 'agent-1' }).waitFor();
    expect(await page.getByRole('link', { name: 'agent-0' }).count()).toBe(0);

    await page.getByLabel('Search').fill(agents[2]?.client_id);
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('link', { name: 'agent-2' }).waitFor();
    expect(await page.locator('tbody tr').count()).toBe(1);

    await page.getByLabel('Search').fill(fleet);
    await page.getByLabel('Registration method').selectOption('open');
    await page.getByRole('button', { name: 'Apply' }).click();
    expect(await page.locator('tbody tr').count()).toBe(3);
    await page.screenshot({ path: `${SHOTS}/dashboard-clients-1280.png`, fullPage: true });

    await page.getByRole('link', { name: 'agent-1' }).click();
    await page.getByRole('heading', { name: 'agent-1', level: 1 }).waitFor();
    const html = await page.content();
    expect(html).toContain(agents[1]?.client_id);
    expect(html).toContain(fleet);
    for (const agent of agents) {
      expect(html).not.toContain(agent.client_secret);
      expect(html).not.toContain(agent.registration_access_token);
    }
    await page.screenshot({ path: `${SHOTS}/dashboard-client-1280.png`, fullPage: true });

    // A client with redirect URIs: where its codes go, first.
    await page.goto(`${app.issuer}/dashboard/clients/${publicClient.client_id}`);
    const hosts = page.getByRole('list', { name: 'Redirect hosts' });
    expect(await hosts.getByRole('listitem').allTextContents()).toEqual(['127.0.0.1']);
    expect(await page.getByRole('heading', { level: 2 }).first().textContent()).toBe(
      'Where its codes go',
    );
    await page.screenshot({ path: `${SHOTS}/dashboard-public-client-1280.png`, fullPage: true });
  });

  it('sorts the clients by name, says how many it shows, labels the date filters UTC with their format, and keeps ids on one line', async () => {
    await page.goto(`${app.issuer}/dashboard/clients`);
    expect(await page.locator('#clients-count').textContent()).toBe(
      'Showing 1–4 of 4 active clients',
    );
    const created = page.getByLabel('Created on or after (UTC)');
    expect(await created.getAttribute('placeholder')).toBe('YYYY-MM-DD');
    expect(await page.locator('#date-hint').textContent()).toContain(
      'UTC days, written YYYY-MM-DD',
    );
    await page.getByLabel('Sort').selectOption({ label: 'Name (A–Z)' });
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/[?&]sort=name-asc/);
    expect(await page.locator('td[data-label=Name] a').allTextContents()).toEqual([
      publicClient.client_name,
      'agent-0',
      'agent-1',
      'agent-2',
    ]);
    expect(await page.locator('#clients-count').textContent()).toBe(
      'Showing 1–4 of 4 active clients',
    );
    expect(await idsOnOneLine(page)).toEqual([]);
    // A day in another format is refused with the format it takes.
    await page.goto(`${app.issuer}/dashboard/clients?created_after=11/01/2026`);
    expect(await page.getByRole('alert').textContent()).toContain('YYYY-MM-DD');
  });

  it('rotates a secret (shown once, and it works), then deletes the client after confirmation: gone, and its registration access token refused', async () => {
    const agent = agents[1] as Json;
    await page.goto(`${app.issuer}/dashboard/clients/${agent.client_id}`);
    await page.getByLabel('Grace period (seconds)').fill('0');
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByRole('heading', { name: 'New client secret' }).waitFor();
    const secret = (await page.locator('#new-secret').textContent())?.trim() ?? '';
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await page.screenshot({ path: `${SHOTS}/dashboard-rotated-1280.png`, fullPage: true });
    const token = (clientSecret: string) =>
      fetch(`${app.issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${agent.client_id}:${clientSecret}`).toString('base64')}`,
        },
        body: 'grant_type=client_credentials',
      });
    expect((await token(secret)).status).toBe(200);
    expect((await token(agent.client_secret)).status).toBe(401);
    // The client's page never shows it again.
    await page.goto(`${app.issuer}/dashboard/clients/${agent.client_id}`);
    expect(await page.content()).not.toContain(secret);

    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('heading', { name: 'Delete this client?' }).waitFor();
    await page.screenshot({ path: `${SHOTS}/dashboard-delete-confirm-1280.png`, fullPage: true });
    await page.getByRole('button', { name: 'Yes, delete this client' }).click();
    await page.getByRole('status').filter({ hasText: 'The client was deleted.' }).waitFor();

    await page.getByLabel('Search').fill(agent.client_id);
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('No clients.').waitFor();
    const configuration = await fetch(agent.registration_client_uri, {
      headers: { authorization: `Bearer ${agent.registration_access_token}` },
    });
    expect(configuration.status).toBe(401);
    await overviewShows(page, {
      'active-total': '3',
      'registered-total': '4',
      'deleted-total': '1 (0 / 1)',
    });
    expect(await page.locator('section[aria-labelledby=sw-h] tbody').textContent()).toBe(
      `${fleet}2`,
    );
  });

  it('refuses state changes without the CSRF token, with a wrong one, or from another origin (a real cross-origin form too)', async () => {
    const agent = agents[0] as Json;
    const deletePath = `${app.issuer}/dashboard/clients/${agent.client_id}/delete`;
    await page.goto(deletePath);
    const csrf = await page.locator('input[name=csrf]').first().getAttribute('value');
    expect(csrf).toBeTruthy();
    const cookie = (await context.cookies())
      .filter((c) => c.name === 'dcr_dashboard')
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
    const post = (body: string, origin?: string) =>
      fetch(deletePath, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          cookie,
          'content-type': 'application/x-www-form-urlencoded',
          ...(origin !== undefined && { origin }),
        },
        body,
      });
    const origin = new URL(app.issuer).origin;
    for (const [body, from] of [
      ['', origin],
      ['csrf=wrong-token', origin],
      [`csrf=${csrf}`, 'http://evil.example'],
      [`csrf=${csrf}`, 'null'],
      [`csrf=${csrf}`, undefined],
    ] as const) {
      const response = await post(body, from);
      expect(response.status).toBe(403);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await response.text()).toMatch(/is refused|CSRF token is missing or wrong/);
    }

    // Another origin on the same host (so the Strict cookie is sent: ports do not make sites)
    // serves a form that posts to the dashboard with a valid token: the Origin check stops it.
    // The attacker's page is served by the browser's request interception, so no server of the
    // test's has to be closed while the browser may still hold a connection to it; the same tab
    // visits it (a second tab's opening and closing, with an interception installed, could stall
    // the browser on a loaded machine).
    const attackerOrigin = 'http://127.0.0.1:9';
    const attackerPages = `${attackerOrigin}/**`;
    await page.route(attackerPages, (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: `<form method="post" action="${deletePath}"><input type="hidden" name="csrf" value="${csrf}"><button>Win a prize</button></form>`,
      }),
    );
    try {
      await page.goto(`${attackerOrigin}/prize`);
      const [refused] = await Promise.all([
        page.waitForResponse((r) => r.url() === deletePath),
        page.getByRole('button', { name: 'Win a prize' }).click(),
      ]);
      expect(refused.status()).toBe(403);
      expect(refused.request().headers().origin).toBe(attackerOrigin);
    } finally {
      await page.unrouteAll({ behavior: 'ignoreErrors' });
    }
    // The client is still there.
    await page.goto(`${app.issuer}/dashboard/clients/${agent.client_id}`);
    await page.getByRole('heading', { name: 'agent-0', level: 1 }).waitFor();
    foreignRequests.length = 0; // the attacker's page was visited on purpose
  });

  it('blocks a client’s software_id after a confirmation that counts its clients, lists it as blocked, and unblocks it', async () => {
    await page.goto(`${app.issuer}/dashboard/clients/${agents[2]?.client_id}`);
    await page.getByRole('button', { name: 'Block software_id…' }).click();
    // Nothing is blocked yet: the confirmation says what will happen, and Cancel goes back.
    await page.getByRole('heading', { name: 'Block this software_id?', level: 1 }).waitFor();
    expect(await page.locator('#impact-count').textContent()).toBe('2');
    expect(await page.getByLabel(/Keep them/).isChecked()).toBe(true);
    await page.screenshot({ path: `${SHOTS}/dashboard-block-confirm.png`, fullPage: true });
    await page.getByRole('link', { name: 'Cancel' }).click();
    await page.getByRole('heading', { name: 'agent-2', level: 1 }).waitFor();
    const stillOpen = await jsonPost(`${app.issuer}/register`, {
      client_name: 'agent-3',
      software_id: fleet,
      grant_types: ['client_credentials'],
    });
    expect(stillOpen.status).toBe(201);

    await page.getByRole('button', { name: 'Block software_id…' }).click();
    expect(await page.locator('#impact-count').textContent()).toBe('3');
    await page.getByRole('button', { name: 'Block software_id' }).click();
    await page.getByRole('status').filter({ hasText: 'The software_id is blocked' }).waitFor();
    const refused = await jsonPost(`${app.issuer}/register`, {
      client_name: 'agent-4',
      software_id: fleet,
      grant_types: ['client_credentials'],
    });
    expect(refused.status).toBe(400);
    expect((await readJson(refused)).error).toBe('invalid_client_metadata');

    // The Blocked page lists it, with who blocked it; Unblock lets it register again.
    await page.getByRole('link', { name: 'Blocked software' }).click();
    const row = page.locator('tbody tr').filter({ hasText: fleet });
    expect(await row.locator('td[data-label=By]').textContent()).toBe('admin-token');
    await page.screenshot({ path: `${SHOTS}/dashboard-blocked.png`, fullPage: true });
    await row.getByRole('button', { name: `Unblock ${fleet}` }).click();
    await page.getByRole('status').filter({ hasText: 'The software_id is unblocked' }).waitFor();
    expect(await page.locator('tbody tr').filter({ hasText: fleet }).count()).toBe(0);
    const allowed = await jsonPost(`${app.issuer}/register`, {
      client_name: 'agent-4',
      software_id: fleet,
      grant_types: ['client_credentials'],
    });
    expect(allowed.status).toBe(201);
    // Blocked again for the screenshots at phone width and in dark mode.
    await page.getByRole('textbox', { name: 'software_id' }).fill(fleet);
    await page.getByRole('button', { name: 'Block…' }).click();
    await page.getByRole('button', { name: 'Block software_id' }).click();
    await page.getByRole('status').filter({ hasText: 'The software_id is blocked' }).waitFor();
  });

  it('is operable by keyboard alone, and legible in dark mode', async () => {
    const dark = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      colorScheme: 'dark',
    });
    const keyboard = await dark.newPage();
    await keyboard.goto(`${app.issuer}/dashboard`);
    // The first Tab reaches the token field; Enter signs in.
    await keyboard.keyboard.press('Tab');
    expect(await keyboard.evaluate<string>('document.activeElement.id')).toBe('admin-token');
    await keyboard.keyboard.type(ADMIN_TOKEN);
    await keyboard.keyboard.press('Enter');
    await keyboard.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await keyboard.screenshot({ path: `${SHOTS}/dashboard-overview-dark.png`, fullPage: true });
    for (const [name, path] of [
      ['clients', '/dashboard/clients'],
      ['blocked', '/dashboard/blocked'],
      ['block-confirm', `/dashboard/block-software?software_id=${fleet}`],
    ] as const) {
      await keyboard.goto(`${app.issuer}${path}`);
      await keyboard.screenshot({ path: `${SHOTS}/dashboard-${name}-dark.png`, fullPage: true });
    }
    await keyboard.goto(`${app.issuer}/dashboard`);
    // Tab to the Clients link, Enter; Tab to Search, type, Enter.
    let focused = '';
    for (let i = 0; i < 10 && focused !== 'Clients'; i++) {
      await keyboard.keyboard.press('Tab');
      focused = await keyboard.evaluate<string>('document.activeElement.textContent');
    }
    await keyboard.keyboard.press('Enter');
    await keyboard.getByRole('heading', { name: 'Clients', level: 1 }).waitFor();
    for (let i = 0; i < 10 && focused !== 'search'; i++) {
      await keyboard.keyboard.press('Tab');
      focused = await keyboard.evaluate<string>('document.activeElement.id');
    }
    await keyboard.keyboard.type('agent-0');
    await keyboard.keyboard.press('Enter');
    // The unfiltered page lists agent-0 too: wait for the search's own page.
    await keyboard.waitForURL(/[?&]search=agent-0/);
    await keyboard.getByRole('link', { name: 'agent-0' }).waitFor();
    expect(await keyboard.locator('tbody tr').count()).toBe(1);
    await dark.close();
  });

  it('shows a client’s health: refresh reuse absorbed, families revoked by reuse, identical registrations, with what to look at', async () => {
    const redirect = 'http://127.0.0.1:8765/callback';
    const looping = {
      client_name: 'Reconnecting MCP client',
      redirect_uris: [redirect],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    };
    await jsonPost(`${app.issuer}/register`, looping);
    const client = await readJson(await jsonPost(`${app.issuer}/register`, looping));
    // One reuse absorbed, then one family ended by a reuse.
    const grants = await publicClientGrants(app.issuer, client.client_id, redirect);
    const parent = (await readJson(await grants.redeem(await grants.signIn()))).refresh_token;
    const successor = (await readJson(await grants.refresh(parent))).refresh_token;
    expect((await grants.refresh(parent)).status).toBe(200);
    expect((await grants.refresh(successor)).status).toBe(200);
    expect((await grants.refresh(parent)).status).toBe(400);

    const path = `/dashboard/clients/${client.client_id}`;
    await page.goto(`${app.issuer}${path}`);
    const section = page.getByRole('region', { name: 'Health' });
    const figure = async (term: string) =>
      (await section.locator('dt', { hasText: term }).locator('+ dd').textContent())?.trim();
    expect(await figure('Refresh tokens never used')).toBe('0');
    expect(await figure('Refresh reuse absorbed')).toBe('1');
    expect(await figure('Families revoked by reuse')).toBe('1');
    expect(await figure('Same metadata registered')).toMatch(/^2 times since \d{4}-/);
    expect(await section.locator('.warning').allTextContents()).toEqual([
      expect.stringContaining('ended by a reuse'),
      expect.stringContaining('re-registration loop'),
    ]);
    await section.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}/dashboard/client-health-1280.png`, fullPage: true });

    for (const [width, colorScheme] of [
      [390, 'light'],
      [390, 'dark'],
    ] as const) {
      const narrow = await browser.newContext({ viewport: { width, height: 900 }, colorScheme });
      const small = await narrow.newPage();
      await signIn(small);
      await small.goto(`${app.issuer}${path}`);
      await small.getByRole('heading', { name: 'Health', level: 2 }).waitFor();
      await fitsWidth(small, width);
      await small.screenshot({
        path: `${SHOTS}/dashboard/client-health-${width}-${colorScheme}.png`,
        fullPage: true,
      });
      await narrow.close();
    }
    expect(problems).toEqual([]);
  });

  it('fits 390 px without horizontal scrolling, and signing out ends the session', async () => {
    const phone = await watchedContext(390);
    const small = await phone.newPage();
    await signIn(small);
    for (const [name, path] of [
      ['overview', '/dashboard'],
      ['clients', '/dashboard/clients'],
      ['client', `/dashboard/clients/${publicClient.client_id}`],
      ['blocked', '/dashboard/blocked'],
      ['block-confirm', `/dashboard/block-software?software_id=${fleet}`],
    ] as const) {
      await small.goto(`${app.issuer}${path}`);
      await fitsWidth(small, 390);
      expect(await idsOnOneLine(small)).toEqual([]);
      await small.screenshot({ path: `${SHOTS}/dashboard-${name}-390.png`, fullPage: true });
      if (name === 'overview') {
        await chartsLegible(small);
        // The expiring clients are compact rows, not cards of seven lines each: the page stays
        // short (it was 2,484 px with these five clients, and grew by a card per client).
        expect(await small.evaluate<number>('document.documentElement.scrollHeight')).toBeLessThan(
          2100,
        );
        const rowHeights = await small
          .locator('section[aria-labelledby=exp-h] tbody tr')
          .evaluateAll((rows) => rows.map((r) => r.getBoundingClientRect().height));
        expect(rowHeights.filter((h) => h < 50).length).toBeGreaterThanOrEqual(4);
      }
    }
    await small.getByRole('button', { name: 'Sign out' }).click();
    await small.getByLabel('Admin token').waitFor();
    expect((await phone.cookies()).filter((c) => c.name === 'dcr_dashboard')).toEqual([]);
    await small.goto(`${app.issuer}/dashboard/clients`);
    expect(new URL(small.url()).pathname).toBe('/dashboard/sign-in');
    await phone.close();

    expect(foreignRequests).toEqual([]);
    expect(problems).toEqual([]);
  });
});
