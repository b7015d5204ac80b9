import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Io, main } from '../../cli/dcr-admin.js';
import type { AuditSink } from '../../lambdas/adapters/audited-client-repository.js';
import { loadConfig } from '../../lambdas/config.js';
import { type LocalApp, startLocalApp } from '../../local/app.js';
import { publicClientGrants, tokenRequest } from '../support/interactive.js';
import { type Json, jsonPost, readJson } from '../support/server.js';

/**
 * Backup, restore and migration (docs/operations.md): `dcr-admin export` reads the registry from
 * a running server, `dcr-admin import` loads it into a fresh one, where every client
 * authenticates with its original credentials and a user's refresh token still refreshes.
 */
const ADMIN = 'registry-export-admin-token-0123456789abcdef';
const REDIRECT = 'http://127.0.0.1:8765/callback';
/** A CI platform the operator stored through the admin API, and what its workloads may call. */
const CI = 'https://ci.export.example';
const RESOURCE = 'https://mcp.example/api';
const MAIN = 'repo:acme/app:ref:refs/heads/main';
const folders: string[] = [];
const folder = () => {
  const dir = mkdtempSync(join(tmpdir(), 'dcr-export-'));
  folders.push(dir);
  return dir;
};
const serverOn = (dataDir: string, auditSink?: AuditSink) =>
  startLocalApp(
    loadConfig({
      PORT: '0',
      DCR_DATA_DIR: dataDir,
      DCR_ADMIN_TOKEN: ADMIN,
      DCR_DEV_USERS: 'alice',
      DCR_RESOURCES: RESOURCE,
      DCR_ALLOWED_SCOPES: 'tools:read',
    }),
    { store: 'embedded', ...(auditSink && { auditSink }) },
  );
const adminCall = async (app: LocalApp, method: string, path: string, body?: unknown) => {
  const response = await fetch(`${app.issuer}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: response.status === 204 ? {} : await readJson(response) };
};
const issuerPath = (issuer: string) => `/trusted-issuers/${encodeURIComponent(issuer)}`;

async function cli(app: LocalApp, ...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (l) => out.push(l), err: (l) => err.push(l) };
  const code = await main([...args, '--url', app.issuer, '--token', ADMIN], io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** Imports the file into the server; the summary line says `summary`. */
async function expectImport(app: LocalApp, file: string, summary: string) {
  expect(await cli(app, 'import', file)).toMatchObject({
    code: 0,
    out: expect.stringContaining(summary),
  });
}

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const clientCredentials = (issuer: string, id: string, secret: string) =>
  tokenRequest(issuer, { grant_type: 'client_credentials' }, { authorization: basic(id, secret) });

let source: LocalApp;
let secretClient: Json;
let iatClient: Json;
let keyClient: Json;
let publicClient: Json;
let parentToken: string;
let refreshToken: string;
let initialAccessToken: string;
let privateKey: Parameters<SignJWT['sign']>[0];
let ciKey: Parameters<SignJWT['sign']>[0];
let ciDefinition: Json;
const exported = join(folder(), 'registry.jsonl');

beforeAll(async () => {
  source = await serverOn(folder());
  const register = async (metadata: Json, headers: Record<string, string> = {}) => {
    const response = await jsonPost(`${source.issuer}/register`, metadata, headers);
    expect(response.status).toBe(201);
    return readJson(response);
  };
  secretClient = await register({ grant_types: ['client_credentials'], client_name: 'secret' });
  const keys = await generateKeyPair('ES256', { extractable: true });
  privateKey = keys.privateKey;
  keyClient = await register({
    grant_types: ['client_credentials'],
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [{ ...(await exportJWK(keys.publicKey)), alg: 'ES256', use: 'sig' }] },
  });
  const iat = await jsonPost(
    `${source.issuer}/admin/initial-access-tokens`,
    { max_uses: 5 },
    { authorization: `Bearer ${ADMIN}` },
  );
  initialAccessToken = (await readJson(iat)).initial_access_token;
  iatClient = await register(
    { grant_types: ['client_credentials'], client_name: 'by token' },
    { authorization: `Bearer ${initialAccessToken}` },
  );
  publicClient = await register({
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'none',
  });
  const grants = await publicClientGrants(source.issuer, publicClient.client_id, REDIRECT);
  parentToken = (await readJson(await grants.redeem(await grants.signIn()))).refresh_token;
  // One rotation: the family now keeps its successor sealed under the parent.
  refreshToken = (await readJson(await grants.refresh(parentToken))).refresh_token;
  expect(refreshToken).toEqual(expect.any(String));
  expect((await cli(source, 'block-software', 'banned-agent')).code).toBe(0);
  const ci = await generateKeyPair('ES256', { extractable: true });
  ciKey = ci.privateKey;
  ciDefinition = {
    kind: 'workload',
    jwks: { keys: [{ ...(await exportJWK(ci.publicKey)), kid: 'ci-1', alg: 'ES256' }] },
    rules: [{ claims: { sub: MAIN }, resources: [RESOURCE] }],
  };
  expect((await adminCall(source, 'PUT', issuerPath(CI), ciDefinition)).status).toBe(201);
  // Online: the source server keeps running and serving while it is exported.
  const result = await cli(source, 'export', exported);
  expect(result).toMatchObject({ code: 0 });
});
afterAll(async () => {
  await source?.close();
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

const lines = () => readFileSync(exported, 'utf8').trimEnd().split('\n');

describe('dcr-admin export', () => {
  it('writes a header and every registry item, while the server runs', async () => {
    const [header, ...items] = lines().map((l) => JSON.parse(l));
    expect(header).toMatchObject({
      format: 'serverless-dcr-registry',
      version: 1,
      issuer: source.issuer,
      exported_at: expect.any(Number),
      counts: { client: 4, grant: 1, user: 1, iat: 1, blocked: 1, 'trusted-issuer': 1 },
    });
    expect(items.map((i) => i.pk.split('#')[0]).sort()).toEqual(
      [
        'blocked',
        'client',
        'client',
        'client',
        'client',
        'grant',
        'iat',
        'trusted-issuer',
        'user',
      ].sort(),
    );
    // The source still serves.
    expect(
      (await clientCredentials(source.issuer, secretClient.client_id, secretClient.client_secret))
        .status,
    ).toBe(200);
  });

  it('holds no secret in clear', () => {
    const text = readFileSync(exported, 'utf8');
    // The successor sealed under its parent is there; the key to open it (the parent) is not.
    expect(text).toContain('"sealedSuccessor"');
    // Hashes only, but the registry still: readable by its owner alone.
    expect(statSync(exported).mode & 0o777).toBe(0o600);
    for (const secret of [
      secretClient.client_secret,
      secretClient.registration_access_token,
      iatClient.client_secret,
      keyClient.registration_access_token,
      publicClient.registration_access_token,
      refreshToken,
      // Its first part names the grant (the family's id, public); the rest is the secret.
      ...[parentToken, refreshToken].map((token) => token.slice(token.indexOf('.') + 1)),
      initialAccessToken,
      ADMIN,
    ])
      expect(text).not.toContain(secret);
  });
});

describe('dcr-admin import into a fresh store', () => {
  let target: LocalApp;
  const audited: Record<string, unknown>[] = [];
  beforeAll(async () => {
    target = await serverOn(folder(), (event) => audited.push({ ...event }));
  });
  afterAll(() => target?.close());

  it('resumes an interrupted import, then a second run imports nothing', async () => {
    const partial = join(folder(), 'partial.jsonl');
    writeFileSync(partial, `${lines().slice(0, 4).join('\n')}\n`);
    await expectImport(target, partial, 'imported 3, already present 0');
    await expectImport(target, exported, 'imported 6, already present 3');
    await expectImport(target, exported, 'imported 0, already present 9');
  });

  it('the stored trusted issuer carries over: its workloads get tokens there, and it is audited as created', async () => {
    const there = await adminCall(target, 'GET', issuerPath(CI));
    expect(there.body).toEqual((await adminCall(source, 'GET', issuerPath(CI))).body);
    expect(there.body).toMatchObject({ issuer: CI, source: 'admin', ...ciDefinition });
    const assertion = await new SignJWT({ sub: MAIN, jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: 'ci-1' })
      .setIssuer(CI)
      .setAudience(`${target.issuer}/token`)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(ciKey);
    const granted = await tokenRequest(target.issuer, {
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion,
      resource: RESOURCE,
    });
    expect(granted.status).toBe(200);
    const changes = audited.filter((e) => String(e.type).startsWith('trusted_issuer.'));
    expect(changes).toEqual([
      expect.objectContaining({
        type: 'trusted_issuer.created',
        issuer: CI,
        issuer_kind: 'workload',
        jwks_kids: ['ci-1'],
        actor: 'admin-token',
      }),
    ]);
  });

  it('every client authenticates with its original credentials', async () => {
    for (const client of [secretClient, iatClient]) {
      const response = await clientCredentials(
        target.issuer,
        client.client_id,
        client.client_secret,
      );
      expect(response.status).toBe(200);
      expect((await readJson(response)).access_token).toEqual(expect.any(String));
    }
    const assertion = await new SignJWT({ jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(keyClient.client_id)
      .setSubject(keyClient.client_id)
      .setAudience(target.issuer)
      .setIssuedAt()
      .setExpirationTime('60s')
      .sign(privateKey);
    const byKey = await tokenRequest(target.issuer, {
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    });
    expect(byKey.status).toBe(200);
    // RFC 7592: the registration access token still reads the client's configuration.
    const configuration = await fetch(`${target.issuer}/register/${secretClient.client_id}`, {
      headers: { authorization: `Bearer ${secretClient.registration_access_token}` },
    });
    expect(configuration.status).toBe(200);
  });

  it('the user’s refresh token still refreshes', async () => {
    const grants = await publicClientGrants(target.issuer, publicClient.client_id, REDIRECT);
    const response = await grants.refresh(refreshToken);
    expect(response.status).toBe(200);
    expect((await readJson(response)).refresh_token).toEqual(expect.any(String));
  });

  it('the initial access token and the blocked software_id carry over', async () => {
    const withToken = await jsonPost(
      `${target.issuer}/register`,
      { grant_types: ['client_credentials'] },
      { authorization: `Bearer ${initialAccessToken}` },
    );
    expect(withToken.status).toBe(201);
    const blocked = await jsonPost(`${target.issuer}/register`, {
      grant_types: ['client_credentials'],
      software_id: 'banned-agent',
    });
    expect(blocked.status).toBe(400);
  });

  it('refuses a file of another format or version, or with a garbage line, writing nothing', async () => {
    const dir = folder();
    const [header = '', ...items] = lines();
    const fresh = await serverOn(folder());
    try {
      const cases: [string, string, RegExp][] = [
        [
          'version.jsonl',
          [header.replace('"version":1', '"version":2'), ...items].join('\n'),
          /not a serverless-dcr-registry export of version 1/,
        ],
        [
          'other.jsonl',
          ['{"format":"other"}', ...items].join('\n'),
          /not a serverless-dcr-registry/,
        ],
        [
          'garbage.jsonl',
          [header, items[0], '{"pk":"client#x', ...items.slice(1)].join('\n'),
          /line 3: not JSON/,
        ],
        [
          'foreign.jsonl',
          [header, '{"pk":"keyring#signing","sk":"keyring"}'].join('\n'),
          /line 2: not a registry item/,
        ],
      ];
      for (const [name, text, message] of cases) {
        const file = join(dir, name);
        writeFileSync(file, text);
        const result = await cli(fresh, 'import', file);
        expect(result.code).toBe(2);
        expect(result.err).toMatch(message);
      }
      // Through the admin API: items no export holds are a 400, never a 5xx.
      const client = JSON.parse(items.find((l) => l.startsWith('{"pk":"client#')) as string);
      const { metadata: _, ...withoutMetadata } = client;
      for (const item of [
        { pk: 'keyring#signing', sk: 'keyring' },
        { ...client, pk: `client#${'x'.repeat(2000)}`, clientId: 'x'.repeat(2000) },
        { ...client, pk: 'client#another' },
        withoutMetadata,
        { ...client, version: 'one' },
        { ...client, count: 1e200 },
        { ...client, ttl: 'never' },
        // Nested deeper than DynamoDB's 32 levels (which the embedded store does not check).
        { ...client, deep: JSON.parse(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`) },
        'client#s',
      ]) {
        const response = await jsonPost(
          `${fresh.issuer}/admin/import`,
          { items: [item] },
          { authorization: `Bearer ${ADMIN}` },
        );
        expect({ status: response.status, error: (await readJson(response)).error }).toEqual({
          status: 400,
          error: 'invalid_request',
        });
      }
      // An item whose TTL has passed is not brought back.
      const expired = join(dir, 'expired.jsonl');
      const gone = { ...client, pk: 'client#gone', clientId: 'gone', ttl: 1 };
      writeFileSync(expired, [header, JSON.stringify(gone)].join('\n'));
      await expectImport(fresh, expired, 'imported 0, already present 0, expired (left out) 1');
      // A stored trusted issuer is checked as the admin API's PUT checks it: a bad one (or one
      // the server configures) stops the whole file, before any item of it is written.
      const issuerLine = items.find((l) => l.startsWith('{"pk":"trusted-issuer#')) as string;
      const issuerItem = JSON.parse(issuerLine);
      const badIssuers: [Json, RegExp][] = [
        [
          { ...issuerItem, definition: JSON.stringify({ ...ciDefinition, kind: 'saml' }) },
          /line 104: .*the trusted issuer https:\/\/ci\.export\.example: kind: must be one of/,
        ],
        [
          {
            ...issuerItem,
            definition: JSON.stringify({
              ...ciDefinition,
              rules: [{ claims: { sub: MAIN }, resources: ['https://elsewhere.example/api'] }],
            }),
          },
          /line 104: .*does not serve: https:\/\/elsewhere\.example\/api/,
        ],
        [{ ...issuerItem, definition: '{"kind":' }, /line 104: .*definition: not JSON/],
      ];
      for (const [bad, message] of badIssuers) {
        const file = join(dir, 'bad-issuer.jsonl');
        const others = items.filter((l) => l !== issuerLine);
        // The refused item in a later batch than good ones: the server checks every batch first.
        const filler = Array.from({ length: 100 }, (_, n) =>
          JSON.stringify({ ...client, pk: `client#filler-${n}`, clientId: `filler-${n}` }),
        );
        const refused = [header, ...others.slice(0, 2), ...filler, JSON.stringify(bad)];
        writeFileSync(file, [...refused, ...others.slice(2)].join('\n'));
        const result = await cli(fresh, 'import', file);
        expect(result.code).toBe(1);
        expect(result.err).toMatch(message);
        expect(result.err).toMatch(/nothing was imported/);
      }
      // Nothing was written: the whole file still imports every item.
      await expectImport(fresh, exported, 'imported 9, already present 0');
    } finally {
      await fresh.close();
    }
  });
});
