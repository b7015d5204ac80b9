import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../cli/admin-client.js';
import { loadConfig } from '../../lambdas/config.js';
import { type LocalApp, startLocalApp } from '../../local/app.js';
import { publicClientGrants, tokenRequest } from '../support/interactive.js';
import { type Json, jsonPost, readJson } from '../support/server.js';

/**
 * Two regions of one deployment on one machine (docs/deployment.md "Multi-region"): two servers, each with
 * its own embedded store and DCR_REGION, sharing the signing key material (as a KMS multi-Region
 * key's replicas do). `replicate` plays the global table: it applies the items one region
 * changed since the last replication to the other, whole items, last writer wins.
 */
const ADMIN_TOKEN = 'multi-region-admin-token-0123456789abcdef';
const REDIRECT = 'http://127.0.0.1:43210/callback';

type Item = NonNullable<import('@aws-sdk/client-dynamodb').ScanCommandOutput['Items']>[number];

interface Region {
  readonly name: string;
  readonly app: LocalApp;
  readonly store: DynamoDBClient;
  readonly dataDir: string;
  /** The items as of the last replication. */
  seen: Map<string, string>;
}

const keyOf = (item: Item) => `${item.pk?.S}|${item.sk?.S}`;

async function scan(store: DynamoDBClient): Promise<Map<string, Item>> {
  const items = new Map<string, Item>();
  let start: Item | undefined;
  do {
    const page = await store.send(
      new ScanCommand({ TableName: 'dcr', ...(start && { ExclusiveStartKey: start }) }),
    );
    for (const item of page.Items ?? []) items.set(keyOf(item), item);
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

/** What `from` changed since the last replication, applied to `to`; returns how many items. */
async function replicate(from: Region, to: Region): Promise<number> {
  const current = await scan(from.store);
  let applied = 0;
  for (const [key, item] of current) {
    if (from.seen.get(key) === JSON.stringify(item)) continue;
    await to.store.send(new PutItemCommand({ TableName: 'dcr', Item: item }));
    applied++;
  }
  for (const key of from.seen.keys()) {
    if (current.has(key)) continue;
    const [pk, sk] = key.split('|') as [string, string];
    await to.store.send(
      new DeleteItemCommand({ TableName: 'dcr', Key: { pk: { S: pk }, sk: { S: sk } } }),
    );
    applied++;
  }
  for (const region of [from, to]) {
    region.seen = new Map(
      [...(await scan(region.store))].map(([key, item]) => [key, JSON.stringify(item)]),
    );
  }
  return applied;
}

async function startRegion(name: string, signingKeyFrom?: string): Promise<Region> {
  const dataDir = mkdtempSync(join(tmpdir(), `dcr-${name}-`));
  // The same key material in both regions: what a multi-Region KMS key (or the wrapped mode's
  // replicated keyring under a multi-Region wrapping key) gives.
  if (signingKeyFrom !== undefined) {
    for (const file of readdirSync(signingKeyFrom).filter((f) => f.startsWith('signing-key'))) {
      copyFileSync(join(signingKeyFrom, file), join(dataDir, file));
    }
  }
  let store: DynamoDBClient | undefined;
  const app = await startLocalApp(
    loadConfig({
      PORT: '0',
      DCR_TABLE_NAME: 'dcr',
      DCR_DATA_DIR: dataDir,
      DCR_REGION: name,
      DCR_ADMIN_TOKEN: ADMIN_TOKEN,
      DCR_AUDIT_LOG: 'off',
      DCR_CLEANUP_INTERVAL_SECONDS: '0',
      DCR_REGISTRATION_RATE_LIMIT: 'off',
    }),
    { store: 'embedded', instrumentStore: (client) => (store = client) },
  );
  if (store === undefined) throw new Error('no store');
  return { name, app, store, dataDir, seen: new Map() };
}

let a: Region;
let b: Region;

beforeAll(async () => {
  a = await startRegion('eu-west-1');
  b = await startRegion('us-east-1', a.dataDir);
});

afterAll(async () => {
  for (const region of [a, b]) {
    await region.app.close();
    rmSync(region.dataDir, { recursive: true, force: true });
  }
});

const register = async (region: Region, body: Json, headers: Record<string, string> = {}) =>
  jsonPost(`${region.app.issuer}/register`, body, headers);

const clientCredentials = (region: Region, client: Json) =>
  tokenRequest(
    region.app.issuer,
    { grant_type: 'client_credentials' },
    {
      authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
    },
  );

const jwks = async (region: Region) =>
  createLocalJWKSet(
    (await readJson(await fetch(`${region.app.issuer}/.well-known/jwks.json`))) as JSONWebKeySet,
  );

describe('two regions: registration, tokens and deletion replicate', () => {
  it('serves a client registered in one region from the other once replicated, signing with the same key', async () => {
    const registered = await register(a, {
      client_name: 'agent',
      grant_types: ['client_credentials'],
    });
    expect(registered.status).toBe(201);
    const client = await readJson(registered);

    // Not replicated yet: the other region does not know it.
    expect((await clientCredentials(b, client)).status).toBe(401);
    expect(await replicate(a, b)).toBeGreaterThan(0);

    const fromB = await readJson(await clientCredentials(b, client));
    const fromA = await readJson(await clientCredentials(a, client));
    expect(fromB.token_type).toBe('Bearer');
    // One key in two regions: the same kid, and a token from one verifies with the other's JWKS.
    const kid = decodeProtectedHeader(fromB.access_token).kid;
    expect(kid).toBe(decodeProtectedHeader(fromA.access_token).kid);
    const { payload } = await jwtVerify(fromB.access_token, await jwks(a));
    expect(payload.sub).toBe(client.client_id);
  });

  it('makes a client deleted in one region unknown in the other once replicated', async () => {
    const client = await readJson(
      await register(b, { client_name: 'short-lived', grant_types: ['client_credentials'] }),
    );
    await replicate(b, a);
    expect((await clientCredentials(a, client)).status).toBe(200);
    await replicate(a, b); // A's "last used" write, as the global table would carry it

    const deleted = await fetch(client.registration_client_uri, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${client.registration_access_token}` },
    });
    expect(deleted.status).toBe(204);
    expect((await clientCredentials(a, client)).status).toBe(200); // replication lag
    await replicate(b, a);

    const refused = await clientCredentials(a, client);
    expect(refused.status).toBe(401);
    expect((await readJson(refused)).error).toBe('invalid_client');
    const read = await fetch(`${a.app.issuer}/register/${client.client_id}`, {
      headers: { authorization: `Bearer ${client.registration_access_token}` },
    });
    expect(read.status).toBe(401);
  });
});

describe('two regions: what is pinned to its home region', () => {
  const publicClient = async () => {
    const client = await readJson(
      await register(a, {
        client_name: 'mcp client',
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      }),
    );
    await replicate(a, b);
    return {
      client,
      inA: await publicClientGrants(a.app.issuer, client.client_id, REDIRECT),
      inB: await publicClientGrants(b.app.issuer, client.client_id, REDIRECT),
    };
  };

  it('rotates a refresh token in the region that issued it, and refuses it in the other without a write', async () => {
    const { inA, inB } = await publicClient();
    const issued = await inA.redeem(await inA.signIn());
    expect(issued.status).toBe(200);
    const first = (await readJson(issued)).refresh_token as string;
    await replicate(a, b);

    const elsewhere = await inB.refresh(first);
    expect(elsewhere.status).toBe(400);
    expect(await readJson(elsewhere)).toEqual({
      error: 'invalid_grant',
      error_description:
        'the refresh token belongs to region eu-west-1; use it there or authorize again',
    });
    // Nothing was written in B (no rotation, no revocation) for A to receive.
    expect(await replicate(b, a)).toBe(0);

    const rotated = await inA.refresh(first);
    expect(rotated.status).toBe(200);
    const second = (await readJson(rotated)).refresh_token as string;
    expect(second).not.toBe(first);
    // The grace window (a concurrent refresh) answers in the home region only.
    expect((await readJson(await inA.refresh(first))).refresh_token).toBe(second);
    await replicate(a, b);
    expect((await inB.refresh(first)).status).toBe(400);
    expect(await replicate(b, a)).toBe(0);
    // Rotation is still single use in the home region: once the successor was used, the old
    // token is a reuse there.
    const third = (await readJson(await inA.refresh(second))).refresh_token as string;
    expect((await inA.refresh(first)).status).toBe(400);
    expect((await inA.refresh(third)).status).toBe(400); // the reuse revoked the family
  });

  it('redeems an authorization code only in the region that issued it; refused elsewhere, it stays unspent', async () => {
    const { inA, inB } = await publicClient();
    const code = await inA.signIn();
    await replicate(a, b);

    const elsewhere = await inB.redeem(code);
    expect(elsewhere.status).toBe(400);
    expect((await readJson(elsewhere)).error).toBe('invalid_grant');
    expect(await replicate(b, a)).toBe(0);

    const home = await inA.redeem(code);
    expect(home.status).toBe(200);
    expect((await readJson(home)).refresh_token).toMatch(/\./);
  });

  it('accepts an initial access token only in the region that issued it', async () => {
    const admin = new AdminClient({ url: a.app.issuer, token: ADMIN_TOKEN });
    const created = await admin.request('POST', '/initial-access-tokens', {
      expires_in: 3600,
      max_uses: 1,
    });
    expect(created.status).toBe(201);
    const token = (created.body as Json).initial_access_token as string;
    await replicate(a, b);
    const body = { client_name: 'with a token', grant_types: ['client_credentials'] };

    const elsewhere = await register(b, body, { authorization: `Bearer ${token}` });
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(await readJson(elsewhere)).toEqual({
      error: 'invalid_token',
      error_description: 'the initial access token is accepted in its home region eu-west-1 only',
    });
    expect(await replicate(b, a)).toBe(0);

    // Its one use is still there in its home region, and counted there once.
    expect((await register(a, body, { authorization: `Bearer ${token}` })).status).toBe(201);
    expect((await register(a, body, { authorization: `Bearer ${token}` })).status).toBe(401);
  });
});
