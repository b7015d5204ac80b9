import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalApp } from '../../local/app.js';
import { type Json, jsonPost, readJson, startTestServer } from '../support/server.js';

/**
 * The login and consent pages in a real browser (Debian's Chromium; .ci/run installs it, so a
 * missing browser fails here): no CSP violation, operable by keyboard alone, readable at phone
 * width, and the form posts pass the server's Origin check as Chromium really sends them.
 * Screenshots go to test-results/ (git-ignored).
 */
const SHOTS = 'test-results/browser';
const RESOURCE = 'https://mcp.example.com/mcp';

let app: LocalApp;
let browser: Browser;
let registered: Json;
/** The client's redirect URI: a loopback server that records what reached it. */
let callbackServer: Server;
let redirectUri: string;
const problems: string[] = [];

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  callbackServer = createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('callback reached');
  });
  await new Promise<void>((resolve) => callbackServer.listen(0, '127.0.0.1', resolve));
  redirectUri = `http://127.0.0.1:${(callbackServer.address() as AddressInfo).port}/callback`;
  app = await startTestServer({
    DCR_RESOURCES: RESOURCE,
    DCR_ALLOWED_SCOPES: 'mcp:tools mcp:resources',
    DCR_DEV_USERS: 'alice,bob',
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

async function authorizationUrl() {
  const url = new URL(`${app.issuer}/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: registered.client_id,
    redirect_uri: redirectUri,
    state: 'browser-state',
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
    resource: RESOURCE,
    scope: 'mcp:tools mcp:resources',
  }).toString();
  return url.href;
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

async function fitsWidth(page: Page, width: number) {
  const scrollWidth = await page.evaluate<number>('document.documentElement.scrollWidth');
  expect(scrollWidth).toBeLessThanOrEqual(width);
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

    // Tab from the top of the page reaches Allow first; Enter presses it.
    let focused = '';
    for (let i = 0; i < 10 && focused !== 'allow'; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate<string>('document.activeElement.value');
    }
    expect(focused).toBe('allow');
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
    await page.screenshot({ path: `${SHOTS}/consent-1280.png`, fullPage: true });
    await page.getByRole('button', { name: 'Deny' }).click();
    await page.waitForURL((url) => url.href.startsWith(redirectUri));
    expect(new URL(page.url()).searchParams.get('error')).toBe('access_denied');

    await page.goto(`${app.issuer}/authorize?client_id=gone&redirect_uri=${redirectUri}`);
    await page.getByText('add it again').waitFor();
    await page.screenshot({ path: `${SHOTS}/error-1280.png`, fullPage: true });
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('works with JavaScript disabled (and in dark mode)', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, colorScheme: 'dark' });
    const page = await context.newPage();
    await page.goto(await authorizationUrl());
    await page.getByLabel('User name').fill('alice');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.screenshot({ path: `${SHOTS}/consent-dark.png`, fullPage: true });
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((url) => url.href.startsWith(redirectUri));
    expect(new URL(page.url()).searchParams.get('code')).toBeTruthy();
    await context.close();
  });
});
