import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminClient } from '../../cli/admin-client.js';
import type { LocalApp } from '../../local/app.js';
import {
  type Json,
  jsonPost,
  operatorAdmin,
  operatorCli,
  readJson,
  startTestServer,
} from '../support/server.js';

const ADMIN_TOKEN = 'local-admin-token-0123456789-abcdefghijklmnop';
const agent = { grant_types: ['client_credentials'], client_name: 'iat-agent', scope: 'read' };
const mcpClient = {
  client_name: 'mcp',
  redirect_uris: ['http://127.0.0.1:33418/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  token_endpoint_auth_method: 'none',
};

const adminFor = (app: LocalApp) => operatorAdmin(app.issuer, ADMIN_TOKEN);

const register = (app: LocalApp, body: unknown, token?: string) =>
  jsonPost(
    `${app.issuer}/register`,
    body,
    token === undefined ? {} : { authorization: `Bearer ${token}` },
  );

async function createToken(admin: AdminClient, body: Json = {}): Promise<Json> {
  const { status, body: created } = await admin.request('POST', '/initial-access-tokens', body);
  expect(status).toBe(201);
  return created as Json;
}

async function expectInvalidToken(response: Response) {
  expect(response.status).toBe(401);
  expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(await readJson(response)).toMatchObject({ error: 'invalid_token' });
}

describe('initial access tokens (default policy)', () => {
  let app: LocalApp;
  let admin: AdminClient;
  beforeAll(async () => {
    app = await startTestServer({ DCR_ADMIN_TOKEN: ADMIN_TOKEN, DCR_ALLOWED_SCOPES: 'read write' });
    admin = adminFor(app);
  });
  afterAll(() => app.close());

  it('the operator creates a token, shown once; a registration with it records the way and the id', async () => {
    const created = await createToken(admin, {
      max_uses: 2,
      expires_in: 3600,
      scope: 'read',
      client_lifetime_seconds: 600,
      description: 'fleet A',
    });
    expect(created).toMatchObject({ max_uses: 2, uses: 0, scope: 'read', status: 'active' });
    expect(created.initial_access_token).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);

    const response = await register(app, agent, created.initial_access_token);
    expect(response.status).toBe(201);
    const client = await readJson(response);
    // The lifetime is capped by the token.
    expect(client.expires_at).toBeLessThanOrEqual(client.client_id_issued_at + 600);

    const { body: shown } = await admin.request('GET', `/clients/${client.client_id}`);
    expect(shown).toMatchObject({
      registration_method: 'initial_access_token',
      initial_access_token_id: created.id,
    });
    const { body: listed } = await admin.request('GET', '/initial-access-tokens');
    const mine = (listed as Json).initial_access_tokens.find((t: Json) => t.id === created.id);
    expect(mine).toMatchObject({ uses: 1, max_uses: 2, description: 'fleet A' });
    expect(JSON.stringify(listed)).not.toContain(created.initial_access_token.split('.')[1]);
  });

  it('a scope outside the token is invalid_client_metadata', async () => {
    const { initial_access_token } = await createToken(admin, { scope: 'read' });
    const response = await register(app, { ...agent, scope: 'read write' }, initial_access_token);
    expect(response.status).toBe(400);
    expect(await readJson(response)).toMatchObject({ error: 'invalid_client_metadata' });
  });

  it('used-up, revoked and unknown tokens are 401 invalid_token, never an open registration', async () => {
    const once = await createToken(admin, { max_uses: 1 });
    expect((await register(app, agent, once.initial_access_token)).status).toBe(201);
    await expectInvalidToken(await register(app, agent, once.initial_access_token));

    const revoked = await createToken(admin);
    expect((await admin.request('DELETE', `/initial-access-tokens/${revoked.id}`)).status).toBe(
      204,
    );
    await expectInvalidToken(await register(app, agent, revoked.initial_access_token));

    await expectInvalidToken(await register(app, agent, `${'A'.repeat(22)}.${'A'.repeat(43)}`));
    await expectInvalidToken(await register(app, agent, 'garbage'));
    // Another scheme, or a malformed header, is a credential that fails: never anonymous.
    for (const authorization of ['Basic YTpi', 'Bearer', 'Bearer a b']) {
      await expectInvalidToken(await jsonPost(`${app.issuer}/register`, agent, { authorization }));
    }
  });

  it('with max_uses N, 3N concurrent registrations produce exactly N clients', async () => {
    const n = 3;
    const { initial_access_token } = await createToken(admin, { max_uses: n });
    const statuses = await Promise.all(
      Array.from({ length: 3 * n }, () =>
        register(app, agent, initial_access_token).then((r) => r.status),
      ),
    );
    expect(statuses.filter((s) => s === 201)).toHaveLength(n);
    expect(statuses.filter((s) => s === 401)).toHaveLength(2 * n);
  });

  it('with max_active_clients N, N clients live at once; one that leaves frees its place', async () => {
    const n = 2;
    const created = await createToken(admin, { max_active_clients: n });
    expect(created).toMatchObject({ max_active_clients: n, active_clients: 0 });
    const responses = await Promise.all(
      Array.from({ length: 3 * n }, () => register(app, agent, created.initial_access_token)),
    );
    const admitted = responses.filter((r) => r.status === 201);
    const refused = responses.filter((r) => r.status !== 201);
    expect(admitted).toHaveLength(n);
    for (const response of refused) {
      expect(response.status).toBe(403);
      const body = await readJson(response);
      expect(body.error).toBe('access_denied');
      expect(body.error_description).toMatch(/limit \(2 active\)/);
    }
    const [leaving, removed] = (await Promise.all(admitted.map(readJson))) as [Json, Json];
    const listed = async () =>
      (await admin.request('GET', '/initial-access-tokens')).body.initial_access_tokens.find(
        (t: Json) => t.id === created.id,
      );
    expect(await listed()).toMatchObject({ active_clients: 2, uses: 2 });

    // The client deletes itself (RFC 7592): its place is free again.
    const deleted = await fetch(leaving.registration_client_uri, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${leaving.registration_access_token}` },
    });
    expect(deleted.status).toBe(204);
    expect((await register(app, agent, created.initial_access_token)).status).toBe(201);
    expect((await register(app, agent, created.initial_access_token)).status).toBe(403);

    // The operator deletes one: the same.
    expect((await admin.request('DELETE', `/clients/${removed.client_id}`)).status).toBe(204);
    expect((await register(app, agent, created.initial_access_token)).status).toBe(201);
    expect(await listed()).toMatchObject({ active_clients: 2, uses: 4 });
  });

  it('deleting a token with delete_clients removes the clients it registered', async () => {
    const created = await createToken(admin);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(
        (await readJson(await register(app, agent, created.initial_access_token))).client_id,
      );
    }
    const other = await readJson(await register(app, agent));
    const { status, body } = await admin.request(
      'DELETE',
      `/initial-access-tokens/${created.id}?delete_clients=true`,
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({ id: created.id, deleted_clients: 3 });
    for (const id of ids) {
      expect((await admin.request('GET', `/clients/${id}`)).status).toBe(404);
    }
    expect((await admin.request('GET', `/clients/${other.client_id}`)).status).toBe(200);
    await expectInvalidToken(await register(app, agent, created.initial_access_token));
  });

  it('dcr-admin iat create, list and revoke --delete-clients', async () => {
    const cli = operatorCli(app.issuer, ADMIN_TOKEN);
    const created = await cli(
      'iat',
      'create',
      '--max-uses',
      '5',
      '--scope',
      'read',
      '--description',
      'from the cli',
      '--json',
    );
    expect(created.code).toBe(0);
    const token = JSON.parse(created.out);
    expect(token).toMatchObject({ max_uses: 5, scope: 'read', description: 'from the cli' });
    const client = await readJson(await register(app, agent, token.initial_access_token));

    const listed = await cli('iat', 'list', '--all', '--json');
    expect(JSON.parse(listed.out)).toContainEqual(
      expect.objectContaining({ id: token.id, uses: 1 }),
    );
    const table = await cli('iat', 'list', '--all');
    expect(table.out).toContain(token.id);
    expect(table.out).not.toContain(token.initial_access_token);

    const revoked = await cli('iat', 'revoke', token.id, '--delete-clients', '--json');
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.out)).toEqual({ revoked: token.id, deleted_clients: 1 });
    expect((await admin.request('GET', `/clients/${client.client_id}`)).status).toBe(404);
    expect((await cli('iat', 'revoke', token.id)).code).toBe(1);
    expect((await cli('iat', 'create', '--max-uses', 'many')).code).toBe(2);
  });

  it('refuses bad token requests with 400', async () => {
    for (const body of [
      { max_uses: 0 },
      { expires_in: 'soon' },
      { scope: '' },
      { other: 1 },
      { max_active_clients: 0 },
      { max_active_clients: 1.5 },
    ]) {
      const { status, body: error } = await admin.request('POST', '/initial-access-tokens', body);
      expect(status).toBe(400);
      expect(error).toMatchObject({ error: 'invalid_request' });
    }
    expect((await admin.request('DELETE', '/initial-access-tokens/unknown-id')).status).toBe(404);
    const cursor = (position: unknown) =>
      Buffer.from(JSON.stringify(position)).toString('base64url');
    for (const bad of ['%%%', cursor({ c: 5 }), cursor({ c: cursor({ pk: 1 }) })]) {
      const { status } = await admin.request(
        'GET',
        `/initial-access-tokens?cursor=${encodeURIComponent(bad)}`,
      );
      expect(status).toBe(400);
    }
  });
});

describe('registration policy without open', () => {
  let app: LocalApp;
  let admin: AdminClient;
  beforeAll(async () => {
    app = await startTestServer({
      DCR_ADMIN_TOKEN: ADMIN_TOKEN,
      DCR_REGISTRATION_ACCESS: 'initial_access_token',
    });
    admin = adminFor(app);
  });
  afterAll(() => app.close());

  it('an anonymous registration is a 401 Bearer challenge without an error code', async () => {
    const response = await register(app, mcpClient);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    const body = await readJson(response);
    expect(typeof body.error).toBe('string');
    expect(typeof body.error_description).toBe('string');
  });

  it('a bad token is refused, never downgraded; a good one registers an MCP client', async () => {
    await expectInvalidToken(await register(app, mcpClient, 'x'.repeat(40)));
    const { initial_access_token } = await createToken(admin);
    const response = await register(app, mcpClient, initial_access_token);
    expect(response.status).toBe(201);
    const client = await readJson(response);
    const { body } = await admin.request('GET', `/clients/${client.client_id}`);
    expect(body).toMatchObject({ registration_method: 'initial_access_token' });
  });
});
