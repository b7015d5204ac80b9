import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminClient } from '../../cli/admin-client.js';
import {
  type InteractiveServer,
  publicClientGrants,
  startInteractiveServer,
} from '../support/interactive.js';
import { type Json, jsonPost, operatorAdmin, operatorCli, readJson } from '../support/server.js';

/**
 * Client health as the operator reads it (docs/operations.md "Client health"), over real HTTP
 * on both targets: refresh tokens never used, refresh token reuse absorbed by the grace window and families revoked by a
 * reuse, counted per client; a registration repeating identical metadata flagged.
 */
const ADMIN_TOKEN = 'local-admin-token-0123456789-abcdefghijklmnop';
const REDIRECT = 'http://127.0.0.1:8765/callback';

let server: InteractiveServer;
let admin: AdminClient;

beforeAll(async () => {
  server = await startInteractiveServer({}, { DCR_ADMIN_TOKEN: ADMIN_TOKEN });
  admin = operatorAdmin(server.app.issuer, ADMIN_TOKEN);
});
afterAll(() => server.close());

async function register(metadata: Json) {
  const response = await jsonPost(`${server.app.issuer}/register`, metadata);
  expect(response.status).toBe(201);
  return readJson(response);
}

async function healthOf(clientId: string): Promise<Json> {
  const { status, body } = await admin.request('GET', `/clients/${clientId}`);
  expect(status).toBe(200);
  return (body as Json).health;
}

describe('client health', () => {
  it('counts refresh tokens never used, a reuse absorbed by the grace window and a family revoked by reuse', async () => {
    const { client_id } = await register({
      client_name: 'Refreshing agent',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    });
    expect(await healthOf(client_id)).toMatchObject({
      refresh_tokens_never_used: 0,
      refresh_reuse_absorbed: 0,
      refresh_families_revoked_by_reuse: 0,
    });
    const grants = await publicClientGrants(server.app.issuer, client_id, REDIRECT);
    const parent = (await readJson(await grants.redeem(await grants.signIn()))).refresh_token;
    // Two sign-ins: two refresh token families, neither used yet.
    await grants.redeem(await grants.signIn());
    expect(await healthOf(client_id)).toMatchObject({ refresh_tokens_never_used: 2 });
    const successor = (await readJson(await grants.refresh(parent))).refresh_token;
    expect(await healthOf(client_id)).toMatchObject({ refresh_tokens_never_used: 1 });

    // The parent again, within the window: its successor once more, and one reuse absorbed.
    const again = await grants.refresh(parent);
    expect(again.status).toBe(200);
    expect((await readJson(again)).refresh_token).toBe(successor);
    expect(await healthOf(client_id)).toMatchObject({
      refresh_reuse_absorbed: 1,
      refresh_families_revoked_by_reuse: 0,
    });

    // Once the successor was used, the parent is a reuse that ends the family.
    expect((await grants.refresh(successor)).status).toBe(200);
    expect((await grants.refresh(parent)).status).toBe(400);
    expect(await healthOf(client_id)).toMatchObject({
      refresh_tokens_never_used: 1,
      refresh_reuse_absorbed: 1,
      refresh_families_revoked_by_reuse: 1,
    });

    const { code, out } = await operatorCli(server.app.issuer, ADMIN_TOKEN)('get', client_id);
    expect(code).toBe(0);
    expect(out).toContain('refresh tokens never used: 1');
    expect(out).toContain('refresh reuse absorbed: 1');
    expect(out).toContain('refresh families revoked by reuse: 1');
  });

  it('flags a registration that repeats identical metadata, and only that', async () => {
    const metadata = {
      client_name: `Reconnecting client ${Date.now()}`,
      redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    };
    const first = await register(metadata);
    expect(await healthOf(first.client_id)).toMatchObject({ same_metadata_registrations: 1 });
    const second = await register(metadata);
    const other = await register({ ...metadata, client_name: `${metadata.client_name} (other)` });

    const repeated = await healthOf(second.client_id);
    expect(repeated).toMatchObject({
      same_metadata_registrations: 2,
      same_metadata_since: first.client_id_issued_at,
      same_metadata_last_at: second.client_id_issued_at,
    });
    // The first client's metadata is the same: it shows the same run.
    const original = await healthOf(first.client_id);
    expect(original.metadata_fingerprint).toBe(repeated.metadata_fingerprint);
    expect(original.same_metadata_registrations).toBe(2);
    const distinct = await healthOf(other.client_id);
    expect(distinct.metadata_fingerprint).not.toBe(repeated.metadata_fingerprint);
    expect(distinct.same_metadata_registrations).toBe(1);

    const { out } = await operatorCli(server.app.issuer, ADMIN_TOKEN)('get', second.client_id);
    expect(out).toContain('same metadata registered: 2 times since');
  });
});
