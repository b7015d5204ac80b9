import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../cli/admin-client.js';
import { main } from '../../cli/dcr-admin.js';
import { loadConfig } from '../../lambdas/config.js';
import { type LocalApp, startLocalApp } from '../../local/app.js';
import { publicClientGrants, tokenRequest } from '../support/interactive.js';
import { auditEvents } from '../support/secret-hygiene.js';
import {
  type Json,
  jsonPost,
  operatorAdmin,
  operatorCli,
  readJson,
  startTestServer,
} from '../support/server.js';

/**
 * Migration (docs/operations.md "Backup, restore and migration to AWS"): a registry exported from
 * a local server and imported into the server under test — on the stack, its table, through the
 * IAM-authorized admin function — where its clients get tokens with their original secrets.
 */
const ADMIN_TOKEN = 'local-admin-token-0123456789-abcdefghijklmnop';
const folder = mkdtempSync(join(tmpdir(), 'dcr-migrate-'));
const file = join(folder, 'registry.jsonl');
let source: LocalApp;
let target: LocalApp;
const clients: Json[] = [];
const REDIRECT = 'http://127.0.0.1:8765/callback';
let publicClientId: string;
let refreshToken: string;
/** What both servers serve: a stored issuer's rules must name it there too. */
const SERVED = { DCR_RESOURCES: 'https://mcp.example/api', DCR_ALLOWED_SCOPES: 'tools:read' };
/** A CI platform the operator stored through the admin API on the source: it moves too. */
const CI = 'https://ci.migrated.example';
const ciDefinition = {
  kind: 'workload',
  jwks_uri: 'https://ci.migrated.example/.well-known/jwks',
  rules: [
    {
      claims: { sub: 'repo:acme/app:ref:refs/heads/main' },
      resources: ['https://mcp.example/api'],
    },
  ],
};

beforeAll(async () => {
  source = await startLocalApp(
    loadConfig({ PORT: '0', DCR_ADMIN_TOKEN: ADMIN_TOKEN, DCR_DEV_USERS: 'alice', ...SERVED }),
    { store: 'embedded' },
  );
  for (const client_name of ['first agent', 'second agent']) {
    const response = await jsonPost(`${source.issuer}/register`, {
      grant_types: ['client_credentials'],
      client_name,
    });
    clients.push(await readJson(response));
  }
  // A user's refresh token family (and its entry in the user's index) moves too.
  const registered = await readJson(
    await jsonPost(`${source.issuer}/register`, {
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    }),
  );
  publicClientId = registered.client_id;
  const grants = await publicClientGrants(source.issuer, publicClientId, REDIRECT);
  refreshToken = (await readJson(await grants.redeem(await grants.signIn()))).refresh_token;
  // The source is a local server on both targets: its admin token, whatever the target.
  const stored = await new AdminClient({ url: source.issuer, token: ADMIN_TOKEN }).request(
    'PUT',
    `/trusted-issuers/${encodeURIComponent(CI)}`,
    ciDefinition,
  );
  expect(stored.status).toBe(201);
  const io = { out: () => {}, err: () => {} };
  expect(await main(['export', file, '--url', source.issuer, '--token', ADMIN_TOKEN], io)).toBe(0);
  target = await startTestServer({ DCR_ADMIN_TOKEN: ADMIN_TOKEN, ...SERVED });
  // On the stack: the operator's AWS credentials, which `--sigv4` reads from the environment.
  operatorAdmin(target.issuer, ADMIN_TOKEN);
});
afterAll(async () => {
  await source?.close();
  await target?.close();
  rmSync(folder, { recursive: true, force: true });
});

describe('a registry moved to another server', () => {
  it('imports, and every client gets tokens there with its original secret', async () => {
    const imported = await operatorCli(target.issuer, ADMIN_TOKEN)('import', file, '--json');
    expect(imported).toMatchObject({ code: 0 });
    expect(JSON.parse(imported.out)).toEqual({ imported: 6, present: 0, expired: 0 });
    for (const client of clients) {
      const response = await tokenRequest(
        target.issuer,
        { grant_type: 'client_credentials' },
        {
          authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
        },
      );
      expect(response.status).toBe(200);
    }
  });

  it('the stored trusted issuer is there, as it was, and its arrival is audited', async () => {
    const there = await operatorAdmin(target.issuer, ADMIN_TOKEN).request(
      'GET',
      `/trusted-issuers/${encodeURIComponent(CI)}`,
    );
    expect(there.body).toMatchObject({ issuer: CI, source: 'admin', ...ciDefinition });
    const arrived = (await auditEvents()).filter(
      (e) => e.issuer === CI && e.type === 'trusted_issuer.created',
    );
    // The source's own creation, then the import's.
    expect(arrived.map((e) => e.jwks_uri)).toEqual([ciDefinition.jwks_uri, ciDefinition.jwks_uri]);
  });

  it('the user’s refresh token refreshes there', async () => {
    const grants = await publicClientGrants(target.issuer, publicClientId, REDIRECT);
    const response = await grants.refresh(refreshToken);
    expect(response.status).toBe(200);
    expect((await readJson(response)).refresh_token).toEqual(expect.any(String));
  });
});
