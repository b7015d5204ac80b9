import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../cli/admin-client.js';
import { type Io, main } from '../../cli/dcr-admin.js';
import type { LocalApp } from '../../lambdas/local/app.js';
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
        grace_period_seconds: 2,
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

  it('runs as the dcr-admin command', () => {
    const bin = fileURLToPath(new URL('../../bin/dcr-admin.js', import.meta.url));
    const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('usage: dcr-admin <command>');
    expect(spawnSync(process.execPath, [bin], { encoding: 'utf8' }).status).toBe(2);
  });

  it('fails clearly with a non-zero exit code', async () => {
    expect(await main(['frobnicate'], { out: () => {}, err: () => {} })).toBe(2);
    const denied = await main(['list', '--url', app.issuer, '--token', 'wrong'], {
      out: () => {},
      err: () => {},
    });
    expect(denied).toBe(1);
    const unreachable = await main(['stats', '--url', 'http://127.0.0.1:9', '--token', 'x'], {
      out: () => {},
      err: () => {},
    });
    expect(unreachable).toBe(1);
  });
});
