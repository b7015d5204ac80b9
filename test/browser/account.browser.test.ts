import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalApp } from '../../local/app.js';
import { fitsWidth, LAYOUTS, launchChromium, SHOTS } from '../support/chromium.js';
import { publicClientGrants } from '../support/interactive.js';
import { type Json, jsonPost, readJson, startTestServer } from '../support/server.js';

/**
 * The connected-apps page (`/account`) in Chromium, as a user reaches it: signed in through the
 * development login, which returns there; at desktop and phone widths, light and dark, with no
 * horizontal scrolling, no console error (a CSP violation is one) and no request to another
 * origin; a grant revoked by keyboard alone. Screenshots go to test-results/ (git-ignored).
 */
const REDIRECT = 'http://127.0.0.1:8765/callback';
const RESOURCE = 'https://mcp.example.com/mcp';

let app: LocalApp;
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
  app = await startTestServer({
    DCR_RESOURCES: RESOURCE,
    DCR_ALLOWED_SCOPES: 'mcp:tools mcp:resources',
    DCR_DEV_USERS: 'alice,bob',
    DCR_AUDIT_LOG: 'off',
  });
  const register = async (metadata: Json) =>
    readJson(
      await jsonPost(`${app.issuer}/register`, {
        redirect_uris: [REDIRECT],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'none',
        scope: 'mcp:tools mcp:resources',
        ...metadata,
      }),
    );
  const clients = [
    await register({ client_name: 'A rather long application name that wraps — Claude (MCP)' }),
    await register({}),
  ];
  // Two grants of the named client and one of the unnamed, for alice.
  for (const client of [clients[0], ...clients] as Json[]) {
    const grants = await publicClientGrants(app.issuer, client.client_id, REDIRECT, 'alice');
    const redeemed = await grants.redeem(await grants.signIn({ resource: RESOURCE }));
    expect(redeemed.status).toBe(200);
  }
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** A context that records console errors (CSP violations among them) and foreign requests. */
function watchedContext(options: Parameters<Browser['newContext']>[0]) {
  const problems: string[] = [];
  return browser.newContext(options).then((context: BrowserContext) => {
    context.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load')) {
        problems.push(message.text());
      }
    });
    context.on('request', (request) => {
      if (new URL(request.url()).origin !== new URL(app.issuer).origin) {
        problems.push(`request to ${request.url()}`);
      }
    });
    return { context, problems };
  });
}

/** Opens /account, signing in as alice on the development login it leads to. */
async function signedInAccountPage(context: BrowserContext) {
  const page = await context.newPage();
  await page.goto(`${app.issuer}/account`);
  await page.getByText('Development login').waitFor();
  await page.getByLabel('User name').fill('alice');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${app.issuer}/account`);
  await page.getByRole('heading', { name: 'Connected apps', level: 1 }).waitFor();
  return page;
}

describe('the connected-apps page in Chromium', { timeout: 60_000 }, () => {
  it.each(LAYOUTS)(
    'at %i px, %s: lists the grants with a Revoke each, without scrolling sideways',
    async (width, colorScheme) => {
      const { context, problems } = await watchedContext({
        viewport: { width, height: 900 },
        colorScheme,
        javaScriptEnabled: false,
      });
      const page = await signedInAccountPage(context);
      expect(await page.getByRole('button', { name: 'Revoke' }).count()).toBe(3);
      await page.getByText('An application that gave no name').waitFor();
      expect(await page.getByText('not verified').count()).toBe(2);
      await fitsWidth(page, width);
      const background = await page.evaluate<string>(
        'getComputedStyle(document.body).backgroundColor',
      );
      expect(background).toBe(colorScheme === 'dark' ? 'rgb(19, 19, 22)' : 'rgb(255, 255, 255)');
      await page.screenshot({
        path: `${SHOTS}/account-${width}-${colorScheme}.png`,
        fullPage: true,
      });
      expect(problems).toEqual([]);
      await context.close();
    },
  );

  it('revokes one grant by keyboard alone, each Revoke described by its application', async () => {
    const { context, problems } = await watchedContext({ viewport: { width: 390, height: 900 } });
    const page = await signedInAccountPage(context);
    // Tab from the top reaches the first Revoke; screen readers hear which application it is.
    let focused = '';
    for (let i = 0; i < 10 && focused !== 'Revoke'; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate<string>('document.activeElement.textContent');
    }
    expect(focused).toBe('Revoke');
    const described = await page.evaluate<{ by: string; section: string }>(`({
      by: document.getElementById(document.activeElement.getAttribute('aria-describedby')).textContent,
      section: document.activeElement.closest('section').querySelector('h2').textContent,
    })`);
    expect(described.by).toBe(described.section);
    expect(described.by).toMatch(
      /^(A rather long application name|An application that gave no name)/,
    );
    await page.screenshot({ path: `${SHOTS}/account-focus-390.png` });
    await page.keyboard.press('Enter');
    await page.waitForURL(`${app.issuer}/account?revoked`);
    await page.getByRole('status').getByText('Access revoked').waitFor();
    expect(await page.getByRole('button', { name: 'Revoke' }).count()).toBe(2);
    await page.screenshot({ path: `${SHOTS}/account-revoked-390.png`, fullPage: true });

    // A form whose CSRF token is not the session's (altered by the test, not the page): refused.
    await page.evaluate(`document.querySelector('input[name=csrf]').value = 'forged'`);
    const refused = page.waitForResponse((r) => r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Revoke' }).first().click();
    expect((await refused).status()).toBe(403);
    await page.getByRole('alert').getByText('CSRF token is missing or wrong').waitFor();
    await page.screenshot({ path: `${SHOTS}/account-refused-390.png`, fullPage: true });
    await page.getByRole('link', { name: 'Back to your connected apps' }).click();
    await page.getByRole('heading', { name: 'Connected apps', level: 1 }).waitFor();
    expect(await page.getByRole('button', { name: 'Revoke' }).count()).toBe(2);
    expect(problems).toEqual([]);
    await context.close();
  });
});
