import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalApp } from '../../lambdas/local/app.js';
import { Browser, parseForm } from '../support/browser.js';
import { type DocumentServer, startDocumentServer } from '../support/cimd-server.js';
import { startTestServer } from '../support/server.js';

/**
 * A Client ID Metadata Document client signing a user in on the local server (development
 * login): its client_id is the https URL of its document, served on 127.0.0.1 with the test
 * certificate, that origin trusted through DCR_TRUSTED_FETCH_ORIGINS (tests only).
 */
const REDIRECT = 'http://127.0.0.1:8765/callback';

let app: LocalApp;
let docs: DocumentServer;

beforeAll(async () => {
  docs = await startDocumentServer();
  app = await startTestServer({ DCR_TRUSTED_FETCH_ORIGINS: docs.origin });
});

afterAll(async () => {
  await app.close();
  await docs.close();
});

const publish = (document?: Record<string, unknown>) =>
  docs.publishClient([REDIRECT], {
    client_name: 'Docs <Client>',
    client_uri: 'https://app.example.com/',
    token_endpoint_auth_method: 'none',
    ...document,
  });

/** The application: openid-client, configured with the document URL as its client_id. */
const application = (clientId: string) =>
  client.discovery(new URL(app.issuer), clientId, undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });

async function authorizationUrl(config: client.Configuration) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  return { url, verifier, state };
}

/** An error shown as a page, never a redirect to the client. */
async function errorPage(clientId: string): Promise<string> {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    state: 'st-1',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
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

describe('a Client ID Metadata Document client at the authorization endpoint', () => {
  it('discovery advertises client_id_metadata_document_supported', async () => {
    const config = await application(publish().clientId);
    expect(config.serverMetadata().client_id_metadata_document_supported).toBe(true);
  });

  it('signs a user in: /authorize, login, consent (the document’s name), code, tokens, refresh', async () => {
    const { path, clientId } = publish();
    const config = await application(clientId);
    const { url, verifier, state } = await authorizationUrl(config);

    const browser = new Browser();
    const login = await browser.follow(url, REDIRECT);
    if (!(login instanceof Response)) throw new Error('expected the login page');
    const consent = await browser.afterSubmit(
      await browser.submit(parseForm(await login.text(), login.url), { username: 'alice' }),
      app.issuer,
      REDIRECT,
    );
    if (!(consent instanceof Response)) throw new Error('expected the consent page');
    const page = await consent.text();
    expect(consent.status).toBe(200);
    expect(page).toContain('Docs &lt;Client&gt;');
    const callback = await browser.afterSubmit(
      await browser.submit(parseForm(page, consent.url), { decision: 'allow' }),
      app.issuer,
      REDIRECT,
    );
    if (!(callback instanceof URL)) throw new Error('expected the client redirect');
    expect(callback.searchParams.get('iss')).toBe(app.issuer);

    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    expect(decodeJwt(tokens.access_token)).toMatchObject({
      iss: app.issuer,
      sub: 'dev:alice',
      client_id: clientId,
    });
    expect(tokens.refresh_token).toEqual(expect.any(String));
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token as string);
    expect(decodeJwt(refreshed.access_token)).toMatchObject({ client_id: clientId });
    // The document was fetched once: the cache served the consent, the token and the refresh.
    expect(docs.hits(path)).toBe(1);
  });

  it('a redirect URI the document does not list is refused with a page', async () => {
    const { clientId } = publish({ redirect_uris: ['http://127.0.0.1:8765/elsewhere'] });
    const page = await errorPage(clientId);
    expect(page).toContain('unauthorized_client');
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
    const page = await errorPage(clientId);
    expect(page).toContain('localhost resolves to a non-public address');
    expect(docs.hits(path)).toBe(0);
  });

  it('a URL that cannot be a client_id (no path) is refused without a fetch', async () => {
    const page = await errorPage(`${docs.origin}/`);
    expect(page).toContain('no path');
  });
});
