import { randomUUID } from 'node:crypto';
import { type CryptoKey, exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalApp } from '../../local/app.js';
import { fitsWidth, LAYOUTS, launchChromium, SHOTS } from '../support/chromium.js';
import { tokenRequest } from '../support/interactive.js';
import { jsonPost, readJson, startTestServer } from '../support/server.js';

/**
 * The dashboard's federated subjects in Chromium: the workloads (and ID-JAG users) that got
 * tokens for trusted issuers' assertions, beside the registered clients — issuer and rule, first
 * and last seen, tokens, last scope and resource, a page at a time; at desktop and phone widths,
 * light and dark, no script, no console error, no request elsewhere.
 */
const ADMIN_TOKEN = 'dashboard-admin-token-0123456789-abcdefghijkl';
const CI = 'https://token.actions.githubusercontent.com';
const IDP = 'https://idp.acme.example';
const RESOURCE = 'https://mcp.acme.example/api';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** A long GitHub subject: it must wrap, not push the page sideways. */
const LONG =
  'repo:acme-platform-engineering/an-agent-with-a-rather-long-repository-name:ref:refs/heads/main';
/** More subjects than a page holds (25), so the listing has a second page. */
const FLEET = 26;

let app: LocalApp;
let browser: Browser;
let ciKey: CryptoKey;
let idpKey: CryptoKey;

const now = () => Math.floor(Date.now() / 1000);

const assertion = (sub: string, issuer = CI, claims: Record<string, unknown> = {}) =>
  new SignJWT({
    iss: issuer,
    sub,
    aud: issuer === CI ? `${app.issuer}/token` : app.issuer,
    jti: randomUUID(),
    iat: now(),
    exp: now() + 300,
    ...claims,
  })
    .setProtectedHeader({
      alg: 'ES256',
      kid: issuer === CI ? 'ci' : 'idp',
      ...(issuer === IDP && { typ: 'oauth-id-jag+jwt' }),
    })
    .sign(issuer === CI ? ciKey : idpKey);

const exchanged = async (jwt: string, headers: Record<string, string> = {}, resource = true) => {
  const response = await tokenRequest(
    app.issuer,
    { grant_type: JWT_BEARER, assertion: jwt, ...(resource && { resource: RESOURCE }) },
    headers,
  );
  expect(response.status).toBe(200);
};

beforeAll(async () => {
  browser = await launchChromium();
  const ci = await generateKeyPair('ES256', { extractable: true });
  const idp = await generateKeyPair('ES256', { extractable: true });
  ciKey = ci.privateKey;
  idpKey = idp.privateKey;
  app = await startTestServer({
    DCR_ADMIN_TOKEN: ADMIN_TOKEN,
    DCR_AUDIT_LOG: 'off',
    DCR_RESOURCES: RESOURCE,
    DCR_ALLOWED_SCOPES: 'tools:read tools:write',
    DCR_TRUSTED_ISSUERS: JSON.stringify({
      [CI]: {
        kind: 'workload',
        jwks: { keys: [{ ...(await exportJWK(ci.publicKey)), kid: 'ci' }] },
        rules: [
          { claims: { sub: LONG }, scope: 'tools:read tools:write', resources: [RESOURCE] },
          {
            claims: { sub: 'repo:acme/*:ref:refs/heads/main' },
            scope: 'tools:read',
            resources: [RESOURCE],
          },
        ],
      },
      [IDP]: {
        kind: 'id-jag',
        jwks: { keys: [{ ...(await exportJWK(idp.publicKey)), kid: 'idp' }] },
        rules: [{ claims: { sub: '*@acme.example' }, scope: 'tools:read', resources: [RESOURCE] }],
      },
    }),
  });
  // The long-named workload twice, a fleet of agents once each, a user through an ID-JAG.
  await exchanged(await assertion(LONG));
  await exchanged(await assertion(LONG), {}, true);
  for (let i = 0; i < FLEET; i++) {
    await exchanged(
      await assertion(`repo:acme/agent-${String(i).padStart(2, '0')}:ref:refs/heads/main`),
    );
  }
  const client = await readJson(
    await jsonPost(`${app.issuer}/register`, {
      client_name: 'enterprise agent',
      grant_types: ['client_credentials'],
    }),
  );
  const basic = `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`;
  await exchanged(
    await assertion('alice@acme.example', IDP, {
      client_id: client.client_id,
      resource: RESOURCE,
      scope: 'tools:read',
    }),
    { authorization: basic },
    false,
  );
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** A context that records console errors, script errors and requests to other origins. */
async function watchedContext(options: BrowserContextOptions) {
  const problems: string[] = [];
  const context = await browser.newContext(options);
  context.on('request', (request) => {
    if (new URL(request.url()).origin !== new URL(app.issuer).origin) problems.push(request.url());
  });
  context.on('console', (message) => {
    if (
      ['error', 'warning'].includes(message.type()) &&
      !message.text().startsWith('Failed to load')
    ) {
      problems.push(message.text());
    }
  });
  context.on('weberror', (error) => problems.push(error.error().message));
  return { context, problems };
}

async function signedIn(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${app.issuer}/dashboard`);
  await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  return page;
}

/** Each table row's cells, by their column's label. */
const rows = (page: Page) =>
  page.evaluate<
    Record<string, string>[]
  >(`[...document.querySelectorAll('table.rows tbody tr')].map(
    (tr) => Object.fromEntries([...tr.querySelectorAll('td')].map((td) => [td.dataset.label, td.innerText.replace(/\\s+/g, ' ').trim()])),
  )`);

describe('federated subjects on the dashboard', { timeout: 60_000 }, () => {
  it('lists each subject with its issuer, rule, first and last seen, tokens, scope and resource, a page at a time', async () => {
    const { context, problems } = await watchedContext({ viewport: { width: 1280, height: 900 } });
    const page = await signedIn(context);
    await page.getByRole('link', { name: 'Federated subjects' }).click();
    await page.getByRole('heading', { name: 'Federated subjects', level: 1 }).waitFor();
    expect(
      await page.getByRole('link', { name: 'Federated subjects' }).getAttribute('aria-current'),
    ).toBe('page');
    const first = await rows(page);
    expect(first).toHaveLength(25);
    const long = first.find((r) => r.Subject === LONG);
    expect(long).toMatchObject({
      Issuer: `${CI} workload, rule 1`,
      Tokens: '2',
      'Last scope': 'tools:read tools:write',
      'Last resource': RESOURCE,
    });
    expect(long?.['First seen']).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC \(/);
    expect(first.find((r) => r.Subject?.includes('agent-00'))).toMatchObject({
      Issuer: `${CI} workload, rule 2`,
      Tokens: '1',
      'Last scope': 'tools:read',
    });
    // The second page holds the rest: every subject once.
    await page.getByRole('link', { name: 'Next page' }).click();
    await page.getByRole('heading', { name: 'Federated subjects', level: 1 }).waitFor();
    const second = await rows(page);
    const subjects = [...first, ...second].map((r) => r.Subject);
    expect(subjects).toHaveLength(FLEET + 2);
    expect(new Set(subjects).size).toBe(FLEET + 2);
    // The ID-JAG's user, with the client that presented it.
    const alice = [...first, ...second].find((r) => r.Issuer?.startsWith(IDP));
    expect(alice?.Subject).toMatch(/^alice@acme\.example via client \S+$/);
    expect(alice?.Issuer).toBe(`${IDP} ID-JAG, rule 1`);
    expect(await page.getByRole('link', { name: 'Next page' }).count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it.each(LAYOUTS)(
    'at %i px, %s, without script: readable, without scrolling sideways',
    async (width, colorScheme) => {
      const { context, problems } = await watchedContext({
        viewport: { width, height: 900 },
        colorScheme,
        javaScriptEnabled: false,
      });
      const page = await signedIn(context);
      await page.goto(`${app.issuer}/dashboard/federated-subjects`);
      await page.getByRole('heading', { name: 'Federated subjects', level: 1 }).waitFor();
      await page.getByText(LONG).waitFor();
      await fitsWidth(page, width);
      const background = await page.evaluate<string>(
        'getComputedStyle(document.body).backgroundColor',
      );
      expect(background).toBe(colorScheme === 'dark' ? 'rgb(19, 19, 22)' : 'rgb(255, 255, 255)');
      const shot = `${SHOTS}/federated-subjects-${width}-${colorScheme}`;
      await page.screenshot({ path: `${shot}.png`, fullPage: true });
      // The first screenful as a person sees it.
      await page.screenshot({ path: `${shot}-top.png` });
      expect(problems).toEqual([]);
      await context.close();
    },
  );
});
