import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalApp } from '../../local/app.js';
import { Browser } from '../support/browser.js';
import { type DocumentServer, startDocumentServer } from '../support/cimd-server.js';
import {
  authorizationRequest,
  type InteractiveServer,
  startInteractiveServer,
} from '../support/interactive.js';
import { type Json, readJson, startTestServer } from '../support/server.js';

/**
 * Client ID Metadata Documents end to end, on both targets: documents served over https on
 * 127.0.0.1 (the test certificate), that origin trusted through DCR_TRUSTED_FETCH_ORIGINS (tests
 * only), the server under test fetching them as it would any public document. Users sign in
 * through the development login locally and a loopback upstream on the stack.
 */
const STACK = process.env.DCR_TEST_TARGET === 'stack';
const REDIRECT = 'http://127.0.0.1:8765/callback';

let server: InteractiveServer;
let app: LocalApp;
let docs: DocumentServer;

beforeAll(async () => {
  docs = await startDocumentServer();
  server = await startInteractiveServer({ DCR_TRUSTED_FETCH_ORIGINS: docs.origin });
  app = server.app;
});

afterAll(async () => {
  await server?.close();
  await docs?.close();
});

const publish = (document?: Record<string, unknown>) =>
  docs.publishClient([REDIRECT], {
    client_name: 'Docs <Client>',
    token_endpoint_auth_method: 'none',
    ...document,
  });

const form = (path: string, fields: Record<string, string>, issuer = app.issuer) =>
  fetch(`${issuer}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });

async function expectError(response: Response, status: number, error: string): Promise<Json> {
  expect(response.status).toBe(status);
  const body = await readJson(response);
  expect(body.error).toBe(error);
  return body;
}

describe('metadata document clients at the token endpoints (public clients)', () => {
  it('a document client authenticates by its URL: revocation answers 200', async () => {
    const { path, clientId } = publish();
    const response = await form('/revoke', { client_id: clientId, token: 'not-a-token' });
    expect(response.status).toBe(200);
    expect(docs.hits(path)).toBe(1);
  });

  it('a document client reaches its grants: those its document lists, and no others', async () => {
    const refresh = (clientId: string) =>
      form('/token', { grant_type: 'refresh_token', client_id: clientId, refresh_token: 'x' });
    // Authenticated as a public client, registered for refresh_token: the token itself is wrong.
    await expectError(await refresh(publish().clientId), 400, 'invalid_grant');
    // client_credentials is dropped from the document (never for public clients); no refresh_token.
    const { clientId } = publish({ grant_types: ['authorization_code', 'client_credentials'] });
    await expectError(await refresh(clientId), 400, 'unauthorized_client');
    const machine = await form('/token', { grant_type: 'client_credentials', client_id: clientId });
    await expectError(machine, 400, 'unauthorized_client');
  });

  it('a document whose client_id is not its URL: 401 invalid_client', async () => {
    const { clientId } = publish({ client_id: docs.url('/someone-else.json') });
    const response = await form('/revoke', { client_id: clientId, token: 'not-a-token' });
    await expectError(response, 401, 'invalid_client');
  });

  it('a document claiming a client secret: 401 invalid_client', async () => {
    const { clientId } = publish({ token_endpoint_auth_method: 'client_secret_basic' });
    const response = await form('/revoke', { client_id: clientId, token: 'not-a-token' });
    await expectError(response, 401, 'invalid_client');
  });

  it('a document URL resolving to a non-public address is never fetched: 401 invalid_client', async () => {
    // Same server, but named `localhost`: not the trusted origin, so the address check applies.
    const { path } = publish();
    const clientId = `https://localhost:${new URL(docs.origin).port}${path}`;
    const response = await form('/revoke', { client_id: clientId, token: 'not-a-token' });
    await expectError(response, 401, 'invalid_client');
    expect(docs.hits(path)).toBe(0);
  });

  it('introspection is for confidential clients: a document client gets 401', async () => {
    const { clientId } = publish();
    const response = await form('/introspect', { client_id: clientId, token: 'not-a-token' });
    await expectError(response, 401, 'invalid_client');
  });
});

/** The application: openid-client, configured with the document URL as its client_id. */
const application = (clientId: string, issuer = app.issuer) =>
  client.discovery(new URL(issuer), clientId, undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });

const authorizationUrl = (config: client.Configuration) =>
  authorizationRequest(config, { redirect_uri: REDIRECT });

/** An error shown as a page, never a redirect to the client. */
async function errorPage(clientId: string, params: Record<string, string> = {}): Promise<string> {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    state: 'st-1',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    ...params,
  });
  const response = await fetch(`${app.issuer}/authorize?${query}`, {
    redirect: 'manual',
    headers: { accept: 'text/html' },
  });
  expect(response.status).toBe(400);
  expect(response.headers.get('location')).toBeNull();
  expect(response.headers.get('content-type')).toContain('text/html');
  return response.text();
}

describe('metadata document clients at the authorization endpoint', () => {
  it('discovery advertises client_id_metadata_document_supported', async () => {
    const config = await application(publish().clientId);
    expect(config.serverMetadata().client_id_metadata_document_supported).toBe(true);
  });

  it('a user signs in: /authorize, login, consent, code, tokens, refresh', async () => {
    const { path, clientId } = publish();
    const config = await application(clientId);
    const { url, verifier, state } = await authorizationUrl(config);
    const browser = new Browser();
    const callback = await browser.signIn(url, { user: 'alice', stopAt: REDIRECT });
    expect(callback.searchParams.get('iss')).toBe(app.issuer);

    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    expect(decodeJwt(tokens.access_token)).toMatchObject({
      iss: app.issuer,
      sub: server.subOf('alice'),
      client_id: clientId,
    });
    expect(tokens.refresh_token).toEqual(expect.any(String));
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token as string);
    expect(decodeJwt(refreshed.access_token)).toMatchObject({ client_id: clientId });
    // Kept per container: one fetch for the whole flow locally; on the stack one by the
    // authorize function and one by the token function (the refresh reused the latter's).
    expect(docs.hits(path)).toBe(STACK ? 2 : 1);

    // Signed in already: the next authorization shows the consent page, naming the client as
    // its document does (escaped).
    const consent = await browser.follow((await authorizationUrl(config)).url, REDIRECT);
    if (!(consent instanceof Response)) throw new Error('expected the consent page');
    expect(consent.status).toBe(200);
    expect(await consent.text()).toContain('Docs &lt;Client&gt;');
  });

  it('a redirect URI the document does not list is refused with a page', async () => {
    const { clientId } = publish({ redirect_uris: ['http://127.0.0.1:8765/elsewhere'] });
    expect(await errorPage(clientId)).toContain('unauthorized_client');
  });

  it('a document sending users to a host outside DCR_REDIRECT_HOSTS: a page, never a redirect there', async () => {
    // RFC 9700 §4.11.2: otherwise anyone could publish a document and use this server's
    // errors (here an unknown scope, which goes back to a trusted redirect URI) to bounce users
    // to any site from this server's address.
    const phish = 'https://phish.example/callback';
    const { clientId } = publish({ redirect_uris: [phish] });
    const page = await errorPage(clientId, { redirect_uri: phish, scope: 'no-such-scope' });
    expect(page).toContain('unauthorized_client');
    expect(page).toContain('host not in DCR_REDIRECT_HOSTS');
  });

  it('a document whose client_id is not its URL: a page that says so', async () => {
    const { clientId } = publish({ client_id: docs.url('/someone-else.json') });
    const page = await errorPage(clientId);
    expect(page).toContain('metadata document');
    expect(page).toContain('its client_id is not the URL it was fetched from');
  });

  it('a document URL resolving to a non-public address: a page, and nothing fetched', async () => {
    // Same server, named `localhost`: not the trusted origin, so the address check applies.
    const { path } = publish();
    const clientId = `https://localhost:${new URL(docs.origin).port}${path}`;
    expect(await errorPage(clientId)).toContain('does not resolve to a public address');
    expect(docs.hits(path)).toBe(0);
  });

  it('a URL that cannot be a client_id (no path) is refused without a fetch', async () => {
    expect(await errorPage(`${docs.origin}/`)).toContain('no path');
  });
});

/**
 * A server started with `env` that has no document client: one is refused at /revoke with 401
 * invalid_client. Returns the server (still running, for more checks) and the document's hits.
 */
async function refusingDocuments(env: Record<string, string>) {
  const server = await startTestServer({ ...env, DCR_TRUSTED_FETCH_ORIGINS: docs.origin });
  try {
    const { path, clientId } = publish();
    const fields = { client_id: clientId, token: 'not-a-token' };
    await expectError(await form('/revoke', fields, server.issuer), 401, 'invalid_client');
    return { server, hits: docs.hits(path) };
  } catch (error) {
    await server.close();
    throw error;
  }
}

describe('with DCR_CLIENT_ID_METADATA_DOCUMENTS=off', () => {
  it('an https client_id is no client, and nothing is fetched', async () => {
    const { server, hits } = await refusingDocuments({ DCR_CLIENT_ID_METADATA_DOCUMENTS: 'off' });
    await server.close();
    expect(hits).toBe(0);
  });
});

describe('document clients are anonymous clients: the open way’s policy applies', () => {
  it('a server that does not accept open registration resolves no document, and says so in discovery', async () => {
    const { server, hits } = await refusingDocuments({
      DCR_REGISTRATION_ACCESS: 'initial_access_token',
    });
    try {
      expect(hits).toBe(0);
      const metadata = await readJson(
        await fetch(`${server.issuer}/.well-known/oauth-authorization-server`),
      );
      expect(metadata.client_id_metadata_document_supported).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it('the open tier’s grant types, scopes and public_clients bind document clients at /authorize and /token', async () => {
    const narrowed = await startInteractiveServer({
      DCR_TRUSTED_FETCH_ORIGINS: docs.origin,
      DCR_ALLOWED_SCOPES: 'mcp:read mcp:write',
      DCR_REGISTRATION_TIERS: JSON.stringify({
        open: { grant_types: ['authorization_code'], scopes: ['mcp:read'] },
      }),
    });
    try {
      const { clientId } = publish({ scope: 'mcp:read mcp:write' });
      const refresh = form(
        '/token',
        { grant_type: 'refresh_token', client_id: clientId, refresh_token: 'x' },
        narrowed.app.issuer,
      );
      await expectError(await refresh, 400, 'unauthorized_client');

      const config = await application(clientId, narrowed.app.issuer);
      const write = await authorizationRequest(config, {
        redirect_uri: REDIRECT,
        scope: 'mcp:write',
      });
      const refused = await fetch(write.url, { redirect: 'manual' });
      expect(refused.status).toBe(303);
      const location = new URL(refused.headers.get('location') as string);
      expect(location.searchParams.get('error')).toBe('invalid_scope');

      const read = await authorizationRequest(config, {
        redirect_uri: REDIRECT,
        scope: 'mcp:read',
      });
      const callback = await new Browser().signIn(read.url, { user: 'alice', stopAt: REDIRECT });
      const tokens = await client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: read.verifier,
        expectedState: read.state,
      });
      expect(decodeJwt(tokens.access_token).scope).toBe('mcp:read');
      expect(tokens.refresh_token).toBeUndefined();
    } finally {
      await narrowed.close();
    }
  });

  it('an open tier without public clients admits no document client', async () => {
    const { server } = await refusingDocuments({
      DCR_REGISTRATION_TIERS: JSON.stringify({ open: { public_clients: false } }),
    });
    await server.close();
  });
});
