import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CryptoKey, decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser.js';
import {
  authorizationRequest,
  type InteractiveServer,
  startInteractiveServer,
  tokenRequest,
} from '../support/interactive.js';
import { type Json, jsonPost, readJson } from '../support/server.js';

/**
 * The consent page as a user meets it, on both targets: the operator's name, logo and words for
 * scopes (its settings reaching the page), and step-up: a second request for more scopes of the
 * same user, client and resource asks only for the new ones and issues them all.
 */
const REDIRECT = 'http://127.0.0.1:8765/callback';
const RESOURCE = 'https://mcp.example.com/mcp';
const OTHER_RESOURCE = 'https://other.example.com/api';
const LOGO =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="14" fill="#0b57d0"/></svg>\n';

/** A software publisher this server trusts (its statements vouch for the clients they register). */
const PUBLISHER = 'https://publisher.example.org';

let server: InteractiveServer;
let publisherKey: CryptoKey;
let issuer: string;
let clientId: string;
let config: client.Configuration;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dcr-logo-'));
  const logo = join(dir, 'logo.svg');
  writeFileSync(logo, LOGO);
  const publisher = await generateKeyPair('ES256', { extractable: true });
  publisherKey = publisher.privateKey;
  server = await startInteractiveServer(
    {
      DCR_SOFTWARE_STATEMENT_ISSUERS: JSON.stringify({
        [PUBLISHER]: { jwks: { keys: [await exportJWK(publisher.publicKey)] } },
      }),
      DCR_RESOURCES: `${RESOURCE} ${OTHER_RESOURCE}`,
      DCR_ALLOWED_SCOPES: 'files:read files:write admin',
      DCR_SERVICE_NAME: 'Example Corp',
      DCR_SERVICE_LOGO: logo,
      DCR_SCOPE_DESCRIPTIONS: JSON.stringify({
        'files:read': 'Read your files',
        'files:write': 'Create, change & delete your files',
      }),
    },
    { DCR_DEV_USERS: 'alice,bob' },
  );
  issuer = server.app.issuer;
  const registered = await readJson(
    await jsonPost(`${issuer}/register`, {
      client_name: 'Step-up agent',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
      scope: 'files:read files:write admin',
    }),
  );
  clientId = registered.client_id;
  config = await client.discovery(new URL(issuer), clientId, undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });
});

afterAll(() => server?.close());

/** To the consent page for `parameters`, signed in as `user`; then `allow()` redeems the code. */
async function consent(parameters: Record<string, string>, user = 'alice') {
  const browser = new Browser();
  const { url, verifier } = await authorizationRequest(config, {
    redirect_uri: REDIRECT,
    resource: RESOURCE,
    ...parameters,
  });
  const page = await browser.untilConsent(url, { user, stopAt: REDIRECT });
  const asked = [
    ...(page.text.match(/<ul class="scopes">([\s\S]*?)<\/ul>/)?.[1] ?? '').matchAll(
      /<code[^>]*>([^<]+)<\/code>/g,
    ),
  ].map((m) => m[1]);
  const already = [
    ...(page.text.match(/Already allowed: (.*)<\/p>/)?.[1] ?? '').matchAll(
      /<code>([^<]+)<\/code>/g,
    ),
  ].map((m) => m[1]);
  return {
    page,
    asked,
    already,
    /** Allow, then the code exchange: the token response. */
    allow: async (): Promise<Json> => {
      const done = await browser.afterSubmit(
        await browser.submit(page.form, { decision: 'allow' }),
        page.form.action,
        REDIRECT,
      );
      if (!(done instanceof URL)) throw new Error(`no redirect: ${done.status}`);
      const response = await tokenRequest(issuer, {
        grant_type: 'authorization_code',
        client_id: clientId,
        code: done.searchParams.get('code') as string,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
        resource: parameters.resource ?? RESOURCE,
      });
      expect(response.status).toBe(200);
      return readJson(response);
    },
  };
}

describe('the consent page’s settings', () => {
  it('name the operator with its logo and describe scopes in its words', async () => {
    const { page } = await consent({ scope: 'files:read files:write admin' }, 'bob');
    expect(page.text).toContain(
      `<p class="brand"><img src="${issuer}/service-logo" alt="" width="32" height="32"><span>Example Corp</span></p>`,
    );
    expect(page.text).toContain(
      '<li><strong>Read your files</strong> <code class="muted">files:read</code></li><li><strong>Create, change &amp; delete your files</strong> <code class="muted">files:write</code></li><li><code>admin</code></li>',
    );
    expect(page.text).toMatch(
      /Registered <time[^>]*>(just now|\d+ minutes? ago)<\/time> by itself/,
    );
    expect(page.text).toContain('Answer sent to</span> <strong>127.0.0.1:8765</strong>');
  });

  it('name who vouched for a client registered with a software statement', async () => {
    const statement = await new SignJWT({ software_id: 'vouched-agent' })
      .setProtectedHeader({ alg: 'ES256', typ: 'software-statement+jwt' })
      .setIssuer(PUBLISHER)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(publisherKey);
    const response = await jsonPost(`${issuer}/register`, {
      software_statement: statement,
      client_name: 'Vouched agent',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'none',
      scope: 'files:read',
    });
    expect(response.status).toBe(201);
    const vouched = await readJson(response);
    const vouchedConfig = await client.discovery(
      new URL(issuer),
      vouched.client_id,
      undefined,
      client.None(),
      { execute: [client.allowInsecureRequests] },
    );
    const { url } = await authorizationRequest(vouchedConfig, {
      redirect_uri: REDIRECT,
      resource: RESOURCE,
      scope: 'files:read',
    });
    const page = await new Browser().untilConsent(url, { user: 'bob', stopAt: REDIRECT });
    expect(page.text).toMatch(
      /Registered <time[^>]*>[^<]+<\/time>, vouched for by <strong>https:\/\/publisher\.example\.org<\/strong>/,
    );
    expect(page.text).not.toContain('anyone could have registered');
  });

  it('serve the logo from this server, typed by its content and sandboxed', async () => {
    const response = await fetch(`${issuer}/service-logo`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/svg+xml');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toContain('sandbox');
    expect(await response.text()).toBe(LOGO);
  });
});

describe('step-up consent', () => {
  it('asks only for the new scope, and the token carries both', async () => {
    const first = await consent({ scope: 'files:read' });
    expect(first.asked).toEqual(['files:read']);
    expect(first.already).toEqual([]);
    const tokens = await first.allow();
    expect(decodeJwt(tokens.access_token).scope).toBe('files:read');

    const more = await consent({ scope: 'files:read files:write' });
    expect(more.asked).toEqual(['files:write']);
    expect(more.already).toEqual(['files:read']);
    expect(more.page.text).toContain('<h2>New permissions it asks for</h2>');
    const stepped = await more.allow();
    expect(decodeJwt(stepped.access_token)).toMatchObject({
      scope: 'files:read files:write',
      sub: server.subOf('alice'),
      aud: RESOURCE,
    });
    expect(stepped.scope).toBe('files:read files:write');

    // prompt=consent asks for everything again.
    const forced = await consent({ scope: 'files:read files:write admin', prompt: 'consent' });
    expect(forced.asked).toEqual(['files:read', 'files:write', 'admin']);
    expect(forced.already).toEqual([]);

    // Another resource, another user: consent from scratch.
    const elsewhere = await consent({ scope: 'files:read files:write', resource: OTHER_RESOURCE });
    expect(elsewhere.asked).toEqual(['files:read', 'files:write']);
    const bob = await consent({ scope: 'files:read files:write' }, 'bob');
    expect(bob.asked).toEqual(['files:read', 'files:write']);
  });

  it('forgets what a revoked grant allowed', async () => {
    const tokens = await (await consent({ scope: 'admin' })).allow();
    expect((await consent({ scope: 'admin files:read' })).already).toContain('admin');
    const revoked = await fetch(`${issuer}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.refresh_token, client_id: clientId }),
    });
    expect(revoked.status).toBe(200);
    expect((await consent({ scope: 'admin files:read' })).already).not.toContain('admin');
  });
});
