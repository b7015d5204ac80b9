import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalApp } from '../../local/app.js';
import { fitsWidth, LAYOUTS, launchChromium, SHOTS } from '../support/chromium.js';
import { startTestServer } from '../support/server.js';

/**
 * The home page (`GET /`) in Chromium, as someone who opens the issuer's URL sees it: at desktop
 * and phone widths, light and dark, with no horizontal scrolling, no console error (a CSP
 * violation is one) and no request to another origin; links a person follows to the metadata
 * and the dashboard. Screenshots go to test-results/ (git-ignored).
 */
const ADMIN_TOKEN = 'home-page-admin-token-0123456789-abcdefghijkl';

let app: LocalApp;
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
  app = await startTestServer({
    DCR_ADMIN_TOKEN: ADMIN_TOKEN,
    DCR_AUDIT_LOG: 'off',
    DCR_ALLOWED_SCOPES: 'mcp:tools mcp:resources read',
    DCR_RESOURCES: 'https://mcp.example.com/mcp https://api.example.com/a-rather-long/path/to/v1',
  });
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe('the home page in Chromium', { timeout: 60_000 }, () => {
  it.each(LAYOUTS)(
    'at %i px, %s: says what the server is and links its metadata, without scrolling sideways',
    async (width, colorScheme) => {
      const context = await browser.newContext({
        viewport: { width, height: 900 },
        colorScheme,
        javaScriptEnabled: false,
      });
      const problems: string[] = [];
      const foreign: string[] = [];
      context.on('console', (message) => {
        if (message.type() === 'error' && !message.text().startsWith('Failed to load')) {
          problems.push(message.text());
        }
      });
      context.on('request', (request) => {
        if (new URL(request.url()).origin !== new URL(app.issuer).origin)
          foreign.push(request.url());
      });
      const page = await context.newPage();
      const response = await page.goto(`${app.issuer}/`);
      expect(response?.status()).toBe(200);
      expect(response?.headers()['content-type']).toBe('text/html; charset=utf-8');
      await page.getByRole('heading', { name: 'serverless-dcr', level: 1 }).waitFor();
      expect(await page.locator('main').textContent()).toMatch(/Dynamic Client Registration/);
      for (const scope of ['mcp:tools', 'mcp:resources', 'read']) {
        await page.getByText(scope, { exact: true }).waitFor();
      }
      await page.getByText('https://mcp.example.com/mcp', { exact: true }).waitFor();
      await fitsWidth(page, width);
      // The page's colours follow the system's.
      const background = await page.evaluate<string>(
        'getComputedStyle(document.body).backgroundColor',
      );
      expect(background).toBe(colorScheme === 'dark' ? 'rgb(19, 19, 22)' : 'rgb(255, 255, 255)');
      await page.screenshot({ path: `${SHOTS}/home-${width}-${colorScheme}.png`, fullPage: true });

      // A person follows the links: to the metadata, and to the dashboard's sign-in.
      await page.getByRole('link', { name: /oauth-authorization-server/ }).click();
      expect(JSON.parse((await page.locator('body').textContent()) ?? '')).toMatchObject({
        issuer: app.issuer,
      });
      await page.goBack();
      await page.getByRole('link', { name: 'Dashboard' }).click();
      await page.getByLabel('Admin token').waitFor();
      expect(problems).toEqual([]);
      expect(foreign).toEqual([]);
      await context.close();
    },
  );
});
