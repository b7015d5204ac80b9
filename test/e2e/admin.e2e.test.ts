import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../cli/admin-client.js';
import { type Io, main } from '../../cli/dcr-admin.js';
import type { LocalApp } from '../../local/app.js';
import { type Json, jsonPost, readJson, startTestServer } from '../support/server.js';

/** Locally the admin API takes a bearer token; in the stack, IAM (SigV4) at API Gateway. */
const STACK = process.env.DCR_TEST_TARGET === 'stack';
const ADMIN_TOKEN = 'local-admin-token-0123456789-abcdefghijklmnop';

let app: LocalApp;
let admin: AdminClient;
const connection = () =>
  STACK
    ? ['--url', app.issuer, '--sigv4', '--region', 'local']
    : ['--url', app.issuer, '--token', ADMIN_TOKEN];

beforeAll(async () => {
  if (STACK)
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'operator',
      AWS_SECRET_ACCESS_KEY: 'operator-secret',
    });
  app = await startTestServer({ DCR_ADMIN_TOKEN: ADMIN_TOKEN });
  admin = new AdminClient(
    STACK
      ? { url: app.issuer, sigv4: { region: 'local' } }
      : { url: app.issuer, token: ADMIN_TOKEN },
  );
});
afterAll(() => app.close());

async function register(extra: Record<string, unknown> = {}): Promise<Json> {
  const response = await jsonPost(`${app.issuer}/register`, {
    grant_types: ['client_credentials'],
    ...extra,
  });
  expect(response.status).toBe(201);
  return readJson(response);
}

/** A native app registered with an initial access token: every kind of redirect URI. */
const NATIVE_KEY = {
  kty: 'EC',
  crv: 'P-256',
  kid: 'k1',
  x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
  y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
};
const NATIVE_APP = {
  client_name: 'field app',
  application_type: 'native',
  redirect_uris: [
    'https://app.example.com/cb',
    'https://app.example.com:8443/other',
    'http://127.0.0.1/cb',
    'com.example.app:/cb',
  ],
  grant_types: ['authorization_code', 'refresh_token'],
  token_endpoint_auth_method: 'private_key_jwt',
  jwks: { keys: [NATIVE_KEY] },
  contacts: ['ops@example.com'],
  client_uri: 'https://app.example.com',
};

/** Runs the CLI in process, capturing what it prints. */
async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (l) => out.push(l), err: (l) => err.push(l) };
  const code = await main([...args, ...connection()], io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('admin API authorization', () => {
  it('refuses callers without admin credentials, and a client’s own tokens are not any', async () => {
    const client = await register();
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong-token' },
      { authorization: `Bearer ${client.registration_access_token}` },
      {
        authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
      },
    ];
    for (const headers of attempts) {
      const response = await fetch(`${app.issuer}/admin/clients`, { headers });
      // API Gateway's IAM authorizer answers 403; the local bearer check answers 401.
      expect(response.status).toBe(STACK ? 403 : 401);
    }
    const { status } = await admin.request('GET', '/clients');
    expect(status).toBe(200);
  });
});

describe('admin API', () => {
  it('lists and searches by software_id and name prefix, page by page, without secrets', async () => {
    const fleet = `fleet-${Date.now()}`;
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++)
      ids.add((await register({ software_id: fleet, client_name: `worker-${i}` })).client_id);
    await register({ software_id: 'other', client_name: 'worker-x' });

    const seen: Json[] = [];
    let cursor: string | undefined;
    do {
      const query = new URLSearchParams({
        software_id: fleet,
        limit: '2',
        ...(cursor && { cursor }),
      });
      const { status, body } = await admin.request('GET', `/clients?${query}`);
      expect(status).toBe(200);
      seen.push(...body.clients);
      cursor = body.next_cursor;
    } while (cursor);
    expect(new Set(seen.map((c) => c.client_id))).toEqual(ids);
    for (const c of seen) {
      expect(c).toMatchObject({ software_id: fleet, registration_method: 'open' });
      expect(JSON.stringify(c)).not.toMatch(/secret"|Hash|registration_access_token/);
    }

    const { body } = await admin.request(
      'GET',
      `/clients?${new URLSearchParams({ software_id: fleet, client_name_prefix: 'worker-3' })}`,
    );
    expect(body.clients.map((c: Json) => c.client_name)).toEqual(['worker-3']);
  });

  it('refuses a malformed filter with 400', async () => {
    const { status, body } = await admin.request('GET', '/clients?created_after=yesterday');
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_request');
  });

  it('answers 404 for an over-long client id and 400 for a forged cursor, never a 5xx', async () => {
    const long = 'x'.repeat(3000);
    expect((await admin.request('GET', `/clients/${long}`)).status).toBe(404);
    expect((await admin.request('DELETE', `/clients/${long}`)).status).toBe(404);
    const forged = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');
    for (const key of [
      { pk: long, sk: 'client' },
      { pk: 'client#a', sk: 'client', extra: 'x' },
      { pk: 1, sk: 'client' },
    ]) {
      const { status, body } = await admin.request('GET', `/clients?cursor=${forged(key)}`);
      expect({ status, error: body.error }).toEqual({ status: 400, error: 'invalid_request' });
    }
  });

  it('shows a client’s registered metadata, where its codes go first, and never a secret', async () => {
    const { body: token } = await admin.request('POST', '/initial-access-tokens', {
      max_uses: 2,
      description: 'mobile team',
    });
    const registerWith = async (metadata: Json) => {
      const response = await jsonPost(`${app.issuer}/register`, metadata, {
        authorization: `Bearer ${token.initial_access_token}`,
      });
      expect(response.status).toBe(201);
      return readJson(response);
    };
    const native = await registerWith(NATIVE_APP);
    const { status, body } = await admin.request('GET', `/clients/${native.client_id}`);
    expect(status).toBe(200);
    expect(Object.keys(body).slice(0, 4)).toEqual([
      'client_id',
      'client_name',
      'redirect_hosts',
      'redirect_uris',
    ]);
    expect(body).toMatchObject({
      redirect_hosts: ['app.example.com', 'app.example.com:8443', '127.0.0.1', 'com.example.app:'],
      redirect_uris: NATIVE_APP.redirect_uris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'private_key_jwt',
      application_type: 'native',
      contacts: ['ops@example.com'],
      client_uri: 'https://app.example.com',
      registration_method: 'initial_access_token',
      initial_access_token_id: token.id,
      // The key set is described, not copied: its presence and key ids.
      jwks_keys: [{ kty: 'EC', kid: 'k1', crv: 'P-256' }],
    });
    expect(body).not.toHaveProperty('jwks');
    expect(JSON.stringify(body)).not.toContain(NATIVE_KEY.x);
    const full = await admin.request('GET', `/clients/${native.client_id}?jwks=full`);
    expect(full.body.jwks).toEqual({ keys: [NATIVE_KEY] });
    expect((await admin.request('GET', `/clients/${native.client_id}?jwks=all`)).status).toBe(400);

    const confidential = await registerWith({
      redirect_uris: ['https://web.example.com/cb'],
      grant_types: ['authorization_code'],
      jwks_uri: 'https://web.example.com/jwks.json',
      token_endpoint_auth_method: 'client_secret_basic',
    });
    const { body: web } = await admin.request('GET', `/clients/${confidential.client_id}`);
    expect(web).toMatchObject({
      redirect_hosts: ['web.example.com'],
      jwks_uri: 'https://web.example.com/jwks.json',
      token_endpoint_auth_method: 'client_secret_basic',
    });
    const text = JSON.stringify(web);
    expect(text).not.toContain(confidential.client_secret);
    expect(text).not.toContain(confidential.registration_access_token);
    expect(text).not.toMatch(/secret"|Hash|hash"|registration_access_token/);
    // Only open registrations stay: the statistics test counts them.
    for (const { client_id } of [native, confidential])
      expect((await admin.request('DELETE', `/clients/${client_id}`)).status).toBe(204);
  });

  it('gets one client, deletes it as the operator, and then it cannot get tokens', async () => {
    const client = await register({ client_name: 'doomed' });
    expect((await admin.request('GET', `/clients/${client.client_id}`)).body.client_name).toBe(
      'doomed',
    );
    expect((await admin.request('DELETE', `/clients/${client.client_id}`)).status).toBe(204);
    expect((await admin.request('GET', `/clients/${client.client_id}`)).status).toBe(404);
    const token = await fetch(`${app.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
    });
    expect(token.status).toBe(401);
  });

  it('rotates a secret with a grace period during which the old one still works', async () => {
    const client = await register();
    const as = { issuer: app.issuer, token_endpoint: `${app.issuer}/token` };
    const tokenWith = (secret: string) =>
      oauth
        .clientCredentialsGrantRequest(
          as,
          { client_id: client.client_id },
          oauth.ClientSecretBasic(secret),
          {},
          {
            [oauth.allowInsecureRequests]: true,
          },
        )
        .then((r) => r.status);
    const { status, body } = await admin.request(
      'POST',
      `/clients/${client.client_id}/rotate-secret`,
      {
        // Long enough for the two calls below on a loaded machine (a cold start on the stack).
        grace_period_seconds: 5,
      },
    );
    expect(status).toBe(200);
    expect(body.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await tokenWith(body.client_secret)).toBe(200);
    expect(await tokenWith(client.client_secret)).toBe(200);
    await new Promise((resolve) =>
      setTimeout(resolve, (body.previous_secret_valid_until + 1) * 1000 - Date.now()),
    );
    expect(await tokenWith(client.client_secret)).toBe(401);
    expect(await tokenWith(body.client_secret)).toBe(200);
  });

  it('bulk-deletes by filter after a dry run that only counts', async () => {
    const fleet = `bulk-${Date.now()}`;
    for (let i = 0; i < 3; i++) await register({ software_id: fleet });
    const dry = await admin.request('POST', '/bulk-delete', { software_id: fleet, dry_run: true });
    expect(dry.body).toMatchObject({ matched: 3, dry_run: true });
    expect((await admin.request('GET', `/clients?software_id=${fleet}`)).body.clients).toHaveLength(
      3,
    );
    const done = await admin.request('POST', '/bulk-delete', {
      software_id: fleet,
      dry_run: false,
    });
    expect(done.body).toMatchObject({ matched: 3, deleted: 3 });
    expect((await admin.request('GET', `/clients?software_id=${fleet}`)).body.clients).toHaveLength(
      0,
    );
    const unfiltered = await admin.request('POST', '/bulk-delete', { dry_run: false });
    expect(unfiltered.status).toBe(400);
  });

  it('lists the blocked software_ids with who blocked each and when, never a secret, until unblocked', async () => {
    const softwareId = `blocked-${Date.now()}`;
    const before = Math.floor(Date.now() / 1000);
    const blocked = await admin.request('POST', '/blocked-software-ids', {
      software_id: softwareId,
    });
    expect(blocked.status).toBe(200);
    const listed = await admin.request('GET', '/blocked-software-ids');
    expect(listed.status).toBe(200);
    const entry = listed.body.blocked_software_ids.find((b: Json) => b.software_id === softwareId);
    expect(entry).toEqual({
      software_id: softwareId,
      blocked_at: expect.any(Number),
      blocked_by: expect.any(String),
      ...(entry.source_ip !== undefined && { source_ip: expect.any(String) }),
    });
    expect(entry.blocked_at).toBeGreaterThanOrEqual(before - 1);
    expect(JSON.stringify(listed.body)).not.toContain(ADMIN_TOKEN);
    for (const bad of ['limit=0', 'limit=many', 'cursor=garbage']) {
      const refused = await admin.request('GET', `/blocked-software-ids?${bad}`);
      expect([bad, refused.status, refused.body.error]).toEqual([bad, 400, 'invalid_request']);
    }
    const path = `/blocked-software-ids/${encodeURIComponent(softwareId)}`;
    expect((await admin.request('DELETE', path)).status).toBe(204);
    const after = await admin.request('GET', '/blocked-software-ids');
    expect(after.body.blocked_software_ids.some((b: Json) => b.software_id === softwareId)).toBe(
      false,
    );
  });

  it('counts registrations, deletions and active clients from the change events', async () => {
    const totals = async () => {
      const { status, body } = await admin.request('GET', '/stats');
      expect(status).toBe(200);
      const sum = (counter: string) =>
        body.per_day.reduce((n: number, day: Json) => n + day[counter], 0);
      return {
        body,
        active: body.active_clients as number,
        registered: sum('registered'),
        byOperator: sum('deleted_by_operator'),
        byClient: sum('deleted_by_client'),
      };
    };
    const before = await totals();
    const kept = await register();
    const dropped = await register();
    const leaving = await register();
    expect((await admin.request('DELETE', `/clients/${dropped.client_id}`)).status).toBe(204);
    const deleted = await fetch(leaving.registration_client_uri, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${leaving.registration_access_token}` },
    });
    expect(deleted.status).toBe(204);
    const after = await totals();
    expect(kept.client_id).toBeDefined();
    expect(after.active - before.active).toBe(1);
    expect(after.registered - before.registered).toBe(3);
    expect(after.byOperator - before.byOperator).toBe(1);
    expect(after.byClient - before.byClient).toBe(1);
    expect(after.body.active_clients_by_registration_method.open).toBe(after.active);
    expect(after.body.per_day).toHaveLength(30);
    expect(after.body.per_day.at(-1).day).toBe(new Date().toISOString().slice(0, 10));
    expect(after.body.counting_since).toBeGreaterThan(0);

    // A recount finds the same clients the counters count.
    const recount = await admin.request('POST', '/stats/recount', {});
    expect(recount.status).toBe(200);
    expect(recount.body).toMatchObject({
      counted: after.active,
      active_clients_by_registration_method: { open: after.active },
    });
    expect((await totals()).body.recounted_at).toBe(recount.body.recounted_at);
  });
});

describe('dcr-admin CLI', () => {
  it('lists as a table and as JSON, gets, and deletes', async () => {
    const fleet = `cli-${Date.now()}`;
    const client = await register({ software_id: fleet, client_name: 'cli-agent' });
    const listed = await cli('list', '--software-id', fleet);
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/^CLIENT ID\s+NAME\s+SOFTWARE/);
    expect(listed.out).toContain(client.client_id);
    const asJson = await cli('list', '--software-id', fleet, '--json');
    expect(JSON.parse(asJson.out)).toEqual([
      expect.objectContaining({ client_id: client.client_id }),
    ]);
    expect((await cli('get', client.client_id)).out).toContain('cli-agent');
    expect((await cli('delete', client.client_id)).code).toBe(0);
    const gone = await cli('get', client.client_id);
    expect(gone.code).toBe(1);
    expect(gone.err).toContain('404');
  });

  it('gets a client: where its codes go first, dates as ISO, the last change spelled out', async () => {
    const { body: token } = await admin.request('POST', '/initial-access-tokens', { max_uses: 1 });
    const response = await jsonPost(`${app.issuer}/register`, NATIVE_APP, {
      authorization: `Bearer ${token.initial_access_token}`,
    });
    const client = await readJson(response);
    const { code, out } = await cli('get', client.client_id);
    expect(code).toBe(0);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^client_id\\s+${client.client_id}$`));
    expect(lines[2]).toMatch(
      /^redirect_hosts\s+app\.example\.com app\.example\.com:8443 127\.0\.0\.1 com\.example\.app:$/,
    );
    expect(lines.slice(3, 7)).toEqual(
      NATIVE_APP.redirect_uris.map((uri, i) =>
        expect.stringMatching(new RegExp(`^${i === 0 ? 'redirect_uris' : ''}\\s+${uri}$`)),
      ),
    );
    expect(out).toMatch(/^contacts\s+ops@example\.com$/m);
    expect(out).toMatch(/^token_endpoint_auth_method\s+private_key_jwt$/m);
    expect(out).toMatch(new RegExp(`^initial_access_token_id\\s+${token.id}$`, 'm'));
    expect(out).toMatch(/^jwks\s+1 key: k1 \(EC P-256\)$/m);
    expect(out).toMatch(/^client_id_issued_at\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/m);
    expect(out).toMatch(/^last_change\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ( by \S+)?( from \S+)?$/m);
    expect(out).not.toContain('[object Object]');
    expect(out).not.toMatch(/\b1[7-9]\d{8}\b/);
    expect(out).not.toContain(NATIVE_KEY.x);
    expect((await cli('get', client.client_id, '--jwks', '--json')).out).toContain(NATIVE_KEY.x);
    expect((await cli('delete', client.client_id)).code).toBe(0);
  });

  it('bulk-deletes only with --yes, showing progress', async () => {
    const fleet = `cli-bulk-${Date.now()}`;
    for (let i = 0; i < 2; i++) await register({ software_id: fleet });
    const dry = await cli('bulk-delete', '--software-id', fleet);
    expect(dry.out).toContain('2 client(s) match');
    expect(dry.err).toContain('done');
    const real = await cli('bulk-delete', '--software-id', fleet, '--yes', '--json');
    expect(JSON.parse(real.out)).toMatchObject({ matched: 2, deleted: 2 });
  });

  it('rotates a secret and prints stats', async () => {
    const client = await register();
    const rotated = await cli('rotate-secret', client.client_id, '--grace', '60', '--json');
    expect(JSON.parse(rotated.out).client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stats = await cli('stats', '--days', '7');
    expect(stats.out).toMatch(/active clients: \d+/);
    expect(stats.out).toMatch(/^DAY\s+REGISTERED\s+UPDATED\s+ROTATED/m);
    expect(stats.out).toMatch(
      new RegExp(`^${new Date().toISOString().slice(0, 10)}\\s+[1-9]`, 'm'),
    );
    const recount = await cli('recount-stats', '--json');
    expect(recount.code).toBe(0);
    expect(JSON.parse(recount.out).counted).toBeGreaterThan(0);
  });

  it('lists the blocked software_ids as a table and as JSON', async () => {
    const softwareId = `cli-blocked-${Date.now()}`;
    expect((await cli('block-software', softwareId)).code).toBe(0);
    const listed = await cli('blocked');
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/^SOFTWARE ID\s+BLOCKED\s+BY\s+FROM$/m);
    expect(listed.out).toMatch(
      new RegExp(`^${softwareId}\\s+\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\s+\\S+`, 'm'),
    );
    expect(listed.out).toMatch(/^\d+ blocked software_id\(s\)$/m);
    const asJson = JSON.parse((await cli('blocked', '--json')).out);
    expect(asJson).toContainEqual(expect.objectContaining({ software_id: softwareId }));
    expect((await cli('unblock-software', softwareId)).code).toBe(0);
    expect((await cli('blocked')).out).not.toContain(softwareId);
  });

  it('runs as the dcr-admin command', () => {
    const bin = fileURLToPath(new URL('../../bin/dcr-admin.js', import.meta.url));
    const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('usage: dcr-admin <command>');
    expect(spawnSync(process.execPath, [bin], { encoding: 'utf8' }).status).toBe(2);
  });

  it('fails clearly with a non-zero exit code', async () => {
    expect(await main(['frobnicate'], { out: () => {}, err: () => {} })).toBe(2);
    const said: string[] = [];
    const denied = await main(['list', '--url', app.issuer, '--token', 'wrong'], {
      out: () => {},
      err: (line) => said.push(line),
    });
    expect(denied).toBe(1);
    expect(said.join('\n')).toContain('check the admin credentials: DCR_ADMIN_TOKEN or --token');
    const unreachable = await main(['stats', '--url', 'http://127.0.0.1:9', '--token', 'x'], {
      out: () => {},
      err: () => {},
    });
    expect(unreachable).toBe(1);
  });
});
