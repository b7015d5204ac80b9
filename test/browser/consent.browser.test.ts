import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as client from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalApp } from '../../local/app.js';
import { fitsWidth, launchChromium, SHOTS } from '../support/chromium.js';
import { type Json, jsonPost, readJson, startTestServer } from '../support/server.js';

/**
 * The login and consent pages in a real browser (Debian's Chromium; .ci/run installs it, so a
 * missing browser fails here): no CSP violation, operable by keyboard alone, readable at phone
 * width, and the form posts pass the server's Origin check as Chromium really sends them.
 * Screenshots go to test-results/ (git-ignored).
 */
const RESOURCE = 'https://mcp.example.com/mcp';
/** The operator's logo: an SVG the server serves itself (the page's CSP allows images from it only). */
const LOGO =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#0b57d0"/><path d="M9 17l5 5 9-11" stroke="#fff" stroke-width="3.5" fill="none" stroke-linecap="round" stroke-linejoin="round"/></svg>';

let app: LocalApp;
let browser: Browser;
let registered: Json;
/** The client's redirect URI: a loopback server that records what reached it. */
let callbackServer: Server;
let redirectUri: string;
const problems: string[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  callbackServer = createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('callback reached');
  });
  await new Promise<void>((resolve) => callbackServer.listen(0, '127.0.0.1', resolve));
  redirectUri = `http://127.0.0.1:${(callbackServer.address() as AddressInfo).port}/callback`;
  const logo = join(mkdtempSync(join(tmpdir(), 'dcr-logo-')), 'logo.svg');
  writeFileSync(logo, LOGO);
  app = await startTestServer({
    DCR_RESOURCES: RESOURCE,
    DCR_ALLOWED_SCOPES: 'mcp:tools mcp:resources',
    DCR_DEV_USERS: 'alice,bob,carol,dave',
    DCR_SERVICE_NAME: 'Example Corp',
    DCR_SERVICE_LOGO: logo,
    DCR_SCOPE_DESCRIPTIONS: JSON.stringify({
      'mcp:tools': 'Run the tools of your MCP servers on your behalf',
      'mcp:resources': 'Read the files and records your MCP servers hold',
    }),
  });
  registered = await readJson(
    await jsonPost(`${app.issuer}/register`, {
      client_name: 'A rather long application name that wraps — Claude Desktop (MCP)',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
      scope: 'mcp:tools mcp:resources',
    }),
  );
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await new Promise((resolve) => callbackServer?.close(resolve));
});

let verifier = '';
/** An authorization request; its PKCE verifier is kept in `verifier` for the code exchange. */
async function authorizationUrl(scope = 'mcp:tools mcp:resources') {
  verifier = client.randomPKCECodeVerifier();
  const url = new URL(`${app.issuer}/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: registered.client_id,
    redirect_uri: redirectUri,
    state: 'browser-state',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    resource: RESOURCE,
    scope,
  }).toString();
  return url.href;
}

/** The client's code exchange for the code the browser brought back: the grant comes to be. */
async function redeem(callback: string) {
  const response = await fetch(`${app.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: registered.client_id,
      code: new URL(callback).searchParams.get('code') as string,
      redirect_uri: redirectUri,
      code_verifier: verifier,
      resource: RESOURCE,
    }),
  });
  expect(response.status).toBe(200);
  return readJson(response);
}

/** The operator's logo was loaded and drawn (the CSP let it in). */
async function logoShown(page: Page) {
  const width = await page.evaluate<number>(
    "document.querySelector('.brand img').complete ? document.querySelector('.brand img').naturalWidth : 0",
  );
  expect(width).toBeGreaterThan(0);
}

/** A page that records console errors (CSP violations are reported there) and script errors. */
async function openPage(width: number): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: 800 } });
  const page = await context.newPage();
  page.on('console', (message) => {
    // CSP violations are console errors; statuses (400 pages, the favicon's 404) are checked
    // by the tests themselves.
    const text = message.text();
    if (['error', 'warning'].includes(message.type()) && !text.startsWith('Failed to load')) {
      problems.push(text);
    }
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return page;
}

describe('login and consent in Chromium', () => {
  it('are operated by keyboard alone at phone width, with no CSP violation, and reach the client', async () => {
    const page = await openPage(390);
    await page.goto(await authorizationUrl());
    await page.getByText('Development login').waitFor();
    await fitsWidth(page, 390);
    await page.screenshot({ path: `${SHOTS}/login-390.png`, fullPage: true });

    // The label names the field; typing and Enter submit the form.
    await page.getByLabel('User name').fill('alice');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/consent\?tx=/);
    await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
    await fitsWidth(page, 390);
    await page.screenshot({ path: `${SHOTS}/consent-390.png`, fullPage: true });

    await logoShown(page);
    expect(await page.getByText('Answer sent to').textContent()).toBe('Answer sent to');
    await page.getByText('Run the tools of your MCP servers on your behalf').waitFor();

    // Tab from the top of the page reaches Allow first, then Deny, then the tucked-away details;
    // Shift+Tab goes back to Allow, and Enter presses it.
    let focused = '';
    for (let i = 0; i < 10 && focused !== 'allow'; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate<string>('document.activeElement.value');
    }
    expect(focused).toBe('allow');
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string>('document.activeElement.value')).toBe('deny');
    await page.screenshot({ path: `${SHOTS}/consent-focus-deny-390.png` });
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string>('document.activeElement.tagName')).toBe('SUMMARY');
    await page.keyboard.press('Enter');
    await page.getByText(registered.client_id).waitFor();
    await fitsWidth(page, 390);
    await page.screenshot({ path: `${SHOTS}/consent-details-390.png`, fullPage: true });
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate<string>('document.activeElement.value')).toBe('allow');
    await page.screenshot({ path: `${SHOTS}/consent-focus-390.png` });
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => url.href.startsWith(redirectUri));
    const reached = new URL(page.url());
    expect(reached.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(reached.searchParams.get('state')).toBe('browser-state');
    expect(reached.searchParams.get('iss')).toBe(app.issuer);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('shows a wide consent page and the error page as intended (screenshots), and Deny answers access_denied', async () => {
    const page = await openPage(1280);
    await page.goto(await authorizationUrl());
    await page.getByLabel('User name').fill('nobody');
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(await page.getByRole('alert').textContent()).toContain('no development user');
    await page.screenshot({ path: `${SHOTS}/login-refused-1280.png`, fullPage: true });
    await page.getByLabel('User name').fill('bob');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/consent\?tx=/);
    await logoShown(page);
    await page.screenshot({ path: `${SHOTS}/consent-1280.png`, fullPage: true });
    await page.getByRole('button', { name: 'Deny' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => url.href.startsWith(redirectUri));
    expect(new URL(page.url()).searchParams.get('error')).toBe('access_denied');

    await page.goto(`${app.issuer}/authorize?client_id=gone&redirect_uri=${redirectUri}`);
    await page.getByText('add it again').waitFor();
    await page.screenshot({ path: `${SHOTS}/error-1280.png`, fullPage: true });
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('works with JavaScript disabled (and in dark mode, at both widths)', async () => {
    const context = await browser.newContext({
      javaScriptEnabled: false,
      colorScheme: 'dark',
      viewport: { width: 390, height: 800 },
    });
    const page = await context.newPage();
    await page.goto(await authorizationUrl());
    await page.getByLabel('User name').fill('alice');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/consent\?tx=/);
    await page.screenshot({ path: `${SHOTS}/consent-dark-390.png`, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.screenshot({ path: `${SHOTS}/consent-dark-1280.png`, fullPage: true });
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((url) => url.href.startsWith(redirectUri));
    expect(new URL(page.url()).searchParams.get('code')).toBeTruthy();
    await context.close();
  });

  it('asks only for the new scope on step-up, and lists what was already allowed apart', async () => {
    for (const [colorScheme, user] of [
      ['light', 'carol'],
      ['dark', 'dave'],
    ] as const) {
      const page = await openPage(390);
      await page.emulateMedia({ colorScheme });
      // The user first allows mcp:tools, and the client redeems the code (the grant comes to be).
      await page.goto(await authorizationUrl('mcp:tools'));
      await page.getByLabel('User name').fill(user);
      await page.keyboard.press('Enter');
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL((url) => url.href.startsWith(redirectUri));
      await redeem(page.url());
      // Then it asks for both: only mcp:resources is new.
      await page.goto(await authorizationUrl('mcp:tools mcp:resources'));
      await page.getByRole('heading', { name: 'New permissions it asks for' }).waitFor();
      expect(await page.locator('ul.scopes li').allTextContents()).toEqual([
        'Read the files and records your MCP servers hold mcp:resources',
      ]);
      expect(await page.getByText('Already allowed:').textContent()).toContain('mcp:tools');
      await fitsWidth(page, 390);
      await page.screenshot({
        path: `${SHOTS}/consent-step-up-390-${colorScheme}.png`,
        fullPage: true,
      });
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.screenshot({
        path: `${SHOTS}/consent-step-up-1280-${colorScheme}.png`,
        fullPage: true,
      });
      await page.getByRole('button', { name: 'Allow' }).focus();
      await page.keyboard.press('Enter');
      await page.waitForURL((url) => url.href.startsWith(redirectUri));
      expect((await redeem(page.url())).scope).toBe('mcp:tools mcp:resources');
      expect(problems).toEqual([]);
      await page.context().close();
    }
  });
});
