import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalApp } from '../../lambdas/local/app.js';
import { type DocumentServer, startDocumentServer } from '../support/cimd-server.js';
import { type Json, readJson, startTestServer } from '../support/server.js';

/**
 * Client ID Metadata Documents end to end: documents served over https on 127.0.0.1 (the test
 * certificate), that origin trusted through DCR_TRUSTED_FETCH_ORIGINS (tests only), the server
 * under test fetching them as it would any public document.
 */

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
  docs.publishClient(['http://127.0.0.1/callback'], document);

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

describe('with DCR_CLIENT_ID_METADATA_DOCUMENTS=off', () => {
  it('an https client_id is no client, and nothing is fetched', async () => {
    const off = await startTestServer({
      DCR_CLIENT_ID_METADATA_DOCUMENTS: 'off',
      DCR_TRUSTED_FETCH_ORIGINS: docs.origin,
    });
    try {
      const { path, clientId } = publish();
      const fields = { client_id: clientId, token: 'not-a-token' };
      const response = await form('/revoke', fields, off.issuer);
      await expectError(response, 401, 'invalid_client');
      expect(docs.hits(path)).toBe(0);
    } finally {
      await off.close();
    }
  });
});
