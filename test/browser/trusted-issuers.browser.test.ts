import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalApp } from '../../local/app.js';
import { fitsWidth, LAYOUTS, launchChromium, SHOTS } from '../support/chromium.js';
import { auditEvents } from '../support/secret-hygiene.js';
import { startTestServer } from '../support/server.js';

/**
 * The dashboard's Trusted issuers page in Chromium: the configured issuer and the stored ones
 * with kind, keys and rules in order; adding one by pasting its JSON (a refusal shown on the
 * page, the text kept), replacing it, removing it after a confirmation; no console error (CSP
 * violations are console errors), no script; readable at 1280 and 390 px, light and dark.
 */
const ADMIN_TOKEN = 'trusted-issuers-dashboard-token-0123456789ab';
const CONFIGURED = 'https://token.actions.githubusercontent.com';
const STORED = 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE0123456789';
const RESOURCE = 'https://mcp.example.com/mcp';
const KEY = {
  kty: 'EC',
  crv: 'P-256',
  kid: 'cluster-1',
  x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
  y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
};
const storedDefinition = (scope: string) => ({
  kind: 'workload',
  jwks: { keys: [KEY] },
  rules: [
    {
      claims: { sub: 'system:serviceaccount:agents:planner' },
      scope,
      resources: [RESOURCE],
    },
    {
      claims: { sub: 'system:serviceaccount:agents:*' },
      scope: 'tools:read',
      resources: [RESOURCE],
    },
  ],
});

let app: LocalApp;
let browser: Browser;
const problems: string[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  app = await startTestServer({
    DCR_ADMIN_TOKEN: ADMIN_TOKEN,
    DCR_RESOURCES: RESOURCE,
    DCR_ALLOWED_SCOPES: 'tools:read tools:write',
    DCR_TRUSTED_ISSUERS: JSON.stringify({
      [CONFIGURED]: {
        kind: 'workload',
        jwks_uri: `${CONFIGURED}/.well-known/jwks`,
        rules: [
          {
            claims: { repository: 'acme/app', ref: 'refs/heads/main' },
            scope: 'tools:read tools:write',
            resources: [RESOURCE],
          },
        ],
      },
    }),
  });
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

async function signedInPage(width: number, colorScheme: 'light' | 'dark'): Promise<Page> {
  const context: BrowserContext = await browser.newContext({
    viewport: { width, height: 900 },
    colorScheme,
  });
  context.on('console', (message) => {
    // Statuses (the refused forms' 400s, the favicon's 404) are checked by the tests.
    const text = message.text();
    if (['error', 'warning'].includes(message.type()) && !text.startsWith('Failed to load')) {
      problems.push(text);
    }
  });
  context.on('weberror', (error) => problems.push(error.error().message));
  const page = await context.newPage();
  await page.goto(`${app.issuer}/dashboard`);
  await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  await page.getByRole('link', { name: 'Trusted issuers' }).click();
  await page.getByRole('heading', { name: 'Trusted issuers', level: 1 }).waitFor();
  return page;
}

/** Fills the form as an operator pastes a definition, and saves. */
async function save(page: Page, issuer: string, definition: string) {
  await page.getByLabel('Issuer (its iss, an https URL)').fill(issuer);
  await page.getByLabel('Definition: JSON, as one value of DCR_TRUSTED_ISSUERS').fill(definition);
  await page.getByRole('button', { name: 'Save issuer' }).click();
}

describe('the Trusted issuers page in Chromium', { timeout: 60_000 }, () => {
  it('adds an issuer from pasted JSON, shows refusals on the page, replaces and removes it; the configured one stays', async () => {
    const page = await signedInPage(1280, 'light');
    const configured = page.getByRole('region', { name: new RegExp(CONFIGURED) });
    await expect(configured.getByText('configuration', { exact: true })).toBeDefined();
    expect(await configured.textContent()).toContain(`fetched from ${CONFIGURED}/.well-known/jwks`);
    expect(await configured.getByRole('link', { name: /Remove/ }).count()).toBe(0);
    expect(await page.locator('#issuer-count').textContent()).toBe('1 configured, 0 stored');

    // A wildcard-only rule: refused by the admin API, said on the page, the text kept.
    const wildcard = JSON.stringify({
      ...storedDefinition('tools:read'),
      rules: [{ claims: { sub: '*' }, resources: [RESOURCE] }],
    });
    await save(page, STORED, wildcard);
    const problem = page.getByRole('alert');
    expect(await problem.textContent()).toMatch(/rules\.0\.claims: must pin at least one claim/);
    expect(await page.getByLabel(/Definition/).inputValue()).toBe(wildcard);
    expect(await page.getByLabel(/^Issuer/).inputValue()).toBe(STORED);
    await page.screenshot({ path: `${SHOTS}/trusted-issuers-refused-1280.png`, fullPage: true });

    await save(page, STORED, '{"kind": "workload",');
    expect(await page.getByRole('alert').textContent()).toBe(
      'the definition is not well-formed JSON',
    );

    await save(page, STORED, JSON.stringify(storedDefinition('tools:read')));
    expect(await page.getByRole('status').textContent()).toMatch(/was added/);
    const stored = page.getByRole('region', { name: new RegExp(STORED) });
    expect(await stored.getByText('stored', { exact: true }).count()).toBe(1);
    // The rules in order, as the engine matches them.
    const rules = await stored.locator('ol.rules > li').allInnerTexts();
    expect(rules.map((r) => r.replace(/\s+/g, ' ').trim())).toEqual([
      `Claims sub matches system:serviceaccount:agents:planner Scope tools:read Resources ${RESOURCE}`,
      `Claims sub matches system:serviceaccount:agents:* Scope tools:read Resources ${RESOURCE}`,
    ]);
    expect(await stored.textContent()).toContain('inline, 1 key(s): cluster-1 EC');

    // Edit: the form comes back with the stored JSON; saved again, it replaces the issuer.
    await stored.getByRole('link', { name: `Edit ${STORED}` }).click();
    const text = await page.getByLabel(/Definition/).inputValue();
    expect(JSON.parse(text)).toEqual(storedDefinition('tools:read'));
    await page
      .getByLabel(/Definition/)
      .fill(JSON.stringify(storedDefinition('tools:read tools:write')));
    await page.getByRole('button', { name: 'Save issuer' }).click();
    expect(await page.getByRole('status').textContent()).toMatch(/was replaced/);
    expect(await stored.locator('ol.rules > li').first().textContent()).toContain(
      'tools:read, tools:write',
    );

    // The configured issuer cannot be saved over.
    await save(page, CONFIGURED, JSON.stringify(storedDefinition('tools:read')));
    expect(await page.getByRole('alert').textContent()).toMatch(/changing the configuration/);

    // Remove: a confirmation, then gone.
    await page.goto(`${app.issuer}/dashboard/trusted-issuers`);
    await page.getByRole('link', { name: `Remove ${STORED}` }).click();
    await page.getByRole('heading', { name: 'Remove this trusted issuer?' }).waitFor();
    await page.screenshot({ path: `${SHOTS}/trusted-issuers-remove-1280.png`, fullPage: true });
    await page.getByRole('button', { name: 'Yes, remove this issuer' }).click();
    expect(await page.getByRole('status').textContent()).toMatch(/was removed/);
    expect(await page.locator('#issuer-count').textContent()).toBe('1 configured, 0 stored');
    await page.context().close();
    // Each change is an audit event naming the dashboard's operator; the refusals are none.
    const changes = (await auditEvents()).filter((e) => e.issuer === STORED);
    expect(changes.map((e) => [e.type, e.actor])).toEqual([
      ['trusted_issuer.created', 'admin-token'],
      ['trusted_issuer.updated', 'admin-token'],
      ['trusted_issuer.deleted', 'admin-token'],
    ]);
  });

  it('refuses a removal form without its CSRF token', async () => {
    const response = await fetch(`${app.issuer}/dashboard/trusted-issuers/remove`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: new URL(app.issuer).origin,
      },
      body: new URLSearchParams({ issuer: STORED }),
      redirect: 'manual',
    });
    expect(response.status).toBe(403);
  });

  it.each(LAYOUTS)(
    'reads at %i px, %s, without horizontal scrolling',
    async (width, colorScheme) => {
      const admin = await fetch(
        `${app.issuer}/admin/trusted-issuers/${encodeURIComponent(STORED)}`,
        {
          method: 'PUT',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify(storedDefinition('tools:read')),
        },
      );
      expect([200, 201]).toContain(admin.status);
      const page = await signedInPage(width, colorScheme);
      const background = await page.evaluate<string>(
        'getComputedStyle(document.body).backgroundColor',
      );
      expect(background).toBe(colorScheme === 'dark' ? 'rgb(19, 19, 22)' : 'rgb(255, 255, 255)');
      await fitsWidth(page, width);
      await page.screenshot({
        path: `${SHOTS}/trusted-issuers-${width}-${colorScheme}.png`,
        fullPage: true,
      });
      // Keyboard: the first stored issuer's Edit link is reachable by Tab.
      let focused = '';
      for (let tab = 0; tab < 30 && !focused.startsWith('Edit'); tab++) {
        await page.keyboard.press('Tab');
        focused = await page.evaluate<string>(
          "document.activeElement?.getAttribute('aria-label') ?? ''",
        );
      }
      expect(focused).toBe(`Edit ${STORED}`);
      expect(await page.locator('script').count()).toBe(0);
      await page.context().close();
    },
  );

  it('logged no console error (CSP violations included)', () => {
    expect(problems).toEqual([]);
  });
});
