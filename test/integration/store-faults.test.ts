import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambdas/config.js';
import { hashSecret } from '../../lambdas/core/secrets.js';
import { type LocalApp, startLocalApp } from '../../local/app.js';
import {
  type AwsFault,
  capturingLogs,
  FAULT_MESSAGE_MARKER,
  FaultInjector,
} from '../support/faults.js';
import { publicClientGrants, tokenRequest } from '../support/interactive.js';
import { type Json, jsonPost, readJson } from '../support/server.js';

/**
 * Faults injected into the REAL DynamoDB adapters of a running local server (the embedded
 * store, over HTTP): each fault a client meets is a 503 `temporarily_unavailable` with
 * `Retry-After` and an RFC error body, leaves the table exactly as it was (or as documented),
 * and is logged as ONE structured line naming the service and the AWS error — never the
 * error's message, a body or a credential. Afterwards the same server serves normally.
 */
const ADMIN_TOKEN = 'local-admin-token-0123456789-abcdefghijklmnop';
const REDIRECT = 'http://127.0.0.1:8765/callback';
const RETRYABLE: AwsFault[] = [
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'InternalServerError',
  'TimeoutError',
];

const faults = new FaultInjector();
let store: DynamoDBDocumentClient;
let app: LocalApp;

beforeAll(async () => {
  app = await startLocalApp(
    loadConfig({
      PORT: '0',
      DCR_ADMIN_TOKEN: ADMIN_TOKEN,
      DCR_DEV_USERS: 'alice',
      DCR_AUDIT_LOG: 'off',
    }),
    {
      store: 'embedded',
      instrumentStore: (raw: DynamoDBClient) => {
        faults.attach(raw);
        store = DynamoDBDocumentClient.from(raw);
      },
    },
  );
});
afterAll(() => app.close());
beforeEach(() => faults.clear());

/**
 * Every item of the table, by key (read with no fault armed), but the statistics counters: they
 * follow the changes off the request path (docs/operations.md "Statistics"), so they may still be moving.
 */
async function table(): Promise<Map<string, Json>> {
  const items = new Map<string, Json>();
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await store.send(
      new ScanCommand({ TableName: 'serverless-dcr', ExclusiveStartKey }),
    );
    for (const item of page.Items ?? []) {
      if (!String(item.pk).startsWith('stats#')) items.set(`${item.pk} ${item.sk}`, item);
    }
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

const machine = { grant_types: ['client_credentials'], client_name: 'agent' };
const register = async (body: Json = machine, headers: Record<string, string> = {}) => {
  const response = await jsonPost(`${app.issuer}/register`, body, headers);
  expect(response.status).toBe(201);
  return readJson(response);
};
const form = (params: Record<string, string>, headers: Record<string, string> = {}) =>
  tokenRequest(app.issuer, params, headers);
type Grants = Awaited<ReturnType<typeof publicClientGrants>>;
const basic = (c: Json) =>
  `Basic ${Buffer.from(`${encodeURIComponent(c.client_id)}:${encodeURIComponent(c.client_secret)}`).toString('base64')}`;
const clientCredentials = (c: Json) =>
  form({ grant_type: 'client_credentials' }, { authorization: basic(c) });

/**
 * The request, with the fault armed: its answer is the retryable 503, and it logs exactly one
 * line — the dependency failure — free of the injected message and of every given secret.
 */
async function expectUnavailable(
  request: () => Promise<Response>,
  error: AwsFault,
  secrets: readonly string[] = [],
) {
  const { result: response, lines } = await capturingLogs(request);
  expect(response.status).toBe(503);
  expect(response.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
  expect(response.headers.get('cache-control')).toBe('no-store');
  const body = await readJson(response);
  expect(body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
  expect(JSON.stringify(body)).not.toContain(FAULT_MESSAGE_MARKER);
  expect(faults.fired).toEqual([expect.stringContaining(error)]);
  expect(lines).toEqual([
    {
      level: 'warn',
      message: 'dependency unavailable',
      attributes: expect.objectContaining({ service: expect.any(String), errorName: error }),
    },
  ]);
  const logged = JSON.stringify(lines);
  for (const secret of [FAULT_MESSAGE_MARKER, ...secrets]) expect(logged).not.toContain(secret);
}

describe.each(RETRYABLE)('the DynamoDB store answers %s', (error) => {
  it('registration: 503, no client item, nothing logged but the fault', async () => {
    const before = await table();
    faults.fail('PutItem', error, { touching: 'client#' });
    await expectUnavailable(() => jsonPost(`${app.issuer}/register`, machine), error);
    expect(await table()).toEqual(before);
    await register(); // the client's retry
  });

  it('token (client_credentials): 503 while the client cannot be read, then a token', async () => {
    const agent = await register();
    faults.fail('GetItem', error, { touching: agent.client_id });
    await expectUnavailable(() => clientCredentials(agent), error, [agent.client_secret]);
    expect((await clientCredentials(agent)).status).toBe(200);
  });

  it('RFC 7592 update: 503 and the stored registration unchanged', async () => {
    const agent = await register();
    const auth = { authorization: `Bearer ${agent.registration_access_token}` };
    const before = await table();
    faults.fail('PutItem', error, { touching: agent.client_id });
    const put = () =>
      fetch(agent.registration_client_uri, {
        method: 'PUT',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ ...machine, client_id: agent.client_id, client_name: 'renamed' }),
      });
    await expectUnavailable(put, error, [agent.registration_access_token]);
    expect(await table()).toEqual(before);
    expect((await put()).status).toBe(200);
  });

  it('RFC 7592 delete: 503 before the deletion is marked, and the client still works', async () => {
    const agent = await register();
    const before = await table();
    const remove = () =>
      fetch(agent.registration_client_uri, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${agent.registration_access_token}` },
      });
    faults.fail('UpdateItem', error, { touching: agent.client_id });
    await expectUnavailable(remove, error, [agent.registration_access_token]);
    expect(await table()).toEqual(before);
    expect((await clientCredentials(agent)).status).toBe(200);
    expect((await remove()).status).toBe(204);
  });
});

describe('a delete interrupted between its marker and its removal', () => {
  it('is finished by the retry (204), and the item is gone', async () => {
    const agent = await register();
    const remove = () =>
      fetch(agent.registration_client_uri, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${agent.registration_access_token}` },
      });
    faults.fail('DeleteItem', 'TimeoutError', { touching: agent.client_id });
    await expectUnavailable(remove, 'TimeoutError', [agent.registration_access_token]);
    // Marked: gone for every purpose at once.
    expect((await clientCredentials(agent)).status).toBe(401);
    const retried = await remove();
    expect(retried.status).toBe(204);
    expect([...(await table()).keys()].filter((k) => k.includes(agent.client_id))).toEqual([]);
    expect((await remove()).status).toBe(401);
  });
});

describe('registration with an initial access token', () => {
  it('a failed client write gives the active-client place back; the use stays burned (documented)', async () => {
    const created = await fetch(`${app.issuer}/admin/initial-access-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ max_uses: 2, max_active_clients: 1 }),
    }).then(readJson);
    const bearer = { authorization: `Bearer ${created.initial_access_token}` };
    faults.fail('PutItem', 'ProvisionedThroughputExceededException', { touching: 'client#' });
    await expectUnavailable(
      () => jsonPost(`${app.issuer}/register`, machine, bearer),
      'ProvisionedThroughputExceededException',
      [created.initial_access_token],
    );
    const clients = [...(await table()).values()].filter(
      (item) => item.initialAccessTokenId === created.id,
    );
    expect(clients).toEqual([]);
    const item = (await table()).get(`iat#${created.id} iat`);
    expect(item).toMatchObject({ uses: 1, activeClients: 0 });
    // The place came back: the one active client the token allows can still register.
    const admitted = await register(machine, bearer);
    expect(admitted.initial_access_token_id ?? created.id).toBe(created.id);
  });
});

describe('user grants', () => {
  let signIn: Grants['signIn'];
  let redeem: Grants['redeem'];
  let refresh: Grants['refresh'];
  beforeAll(async () => {
    const publicClient = await register({
      client_name: 'mcp',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    });
    ({ signIn, redeem, refresh } = await publicClientGrants(
      app.issuer,
      publicClient.client_id,
      REDIRECT,
    ));
  });

  it('code redemption throttled before it applies: 503, the code unspent, the retry succeeds', async () => {
    const grant = await signIn();
    const before = await table();
    faults.fail('UpdateItem', 'ThrottlingException', { touching: 'code#' });
    await expectUnavailable(() => redeem(grant), 'ThrottlingException', [grant.code]);
    expect(await table()).toEqual(before);
    expect((await redeem(grant)).status).toBe(200);
  });

  it('code redemption that timed out after it applied: 503, then the retry is a reuse (invalid_grant, grant revoked)', async () => {
    const grant = await signIn();
    faults.fail('UpdateItem', 'TimeoutError', { touching: 'code#', afterApplied: true });
    await expectUnavailable(() => redeem(grant), 'TimeoutError', [grant.code]);
    const retried = await redeem(grant);
    expect(retried.status).toBe(400);
    expect(await readJson(retried)).toMatchObject({ error: 'invalid_grant' });
    // The code is spent and its grant a revocation tombstone: no refresh family, ever.
    const items = await table();
    const spent = items.get(`code#${hashSecret(grant.code)} code`);
    expect(spent).toMatchObject({ redeemedAt: expect.any(Number) });
    const family = items.get(`grant#${spent?.grantId} grant`);
    expect(family).toMatchObject({ revokedAt: expect.any(Number) });
    expect(family).not.toHaveProperty('currentHash');
  });

  it('refresh rotation throttled: 503, the presented token still current, the retry rotates', async () => {
    const tokens = await readJson(await redeem(await signIn()));
    const before = await table();
    faults.fail('UpdateItem', 'ProvisionedThroughputExceededException', { touching: 'grant#' });
    await expectUnavailable(
      () => refresh(tokens.refresh_token),
      'ProvisionedThroughputExceededException',
      [tokens.refresh_token, tokens.access_token],
    );
    expect(await table()).toEqual(before);
    const rotated = await refresh(tokens.refresh_token);
    expect(rotated.status).toBe(200);
  });

  it('refresh rotation that timed out after it applied: the retry within the grace window gets the successor the lost answer carried', async () => {
    const tokens = await readJson(await redeem(await signIn()));
    faults.fail('UpdateItem', 'TimeoutError', { touching: 'grant#', afterApplied: true });
    await expectUnavailable(() => refresh(tokens.refresh_token), 'TimeoutError', [
      tokens.refresh_token,
    ]);
    const retried = await refresh(tokens.refresh_token);
    expect(retried.status).toBe(200);
    const successor = (await readJson(retried)).refresh_token as string;
    const grantId = (tokens.refresh_token as string).split('.')[0];
    const stored = (await table()).get(`grant#${grantId} grant`);
    expect(stored).not.toHaveProperty('revokedAt');
    expect(JSON.stringify(stored)).not.toContain(successor.split('.')[1]);
    // It is the family's current token: it refreshes, and the family carries on.
    expect((await refresh(successor)).status).toBe(200);
  });
});

describe('the local server survives its store failing', () => {
  it('answers 503 on every store-backed endpoint while it is down, and serves again after', async () => {
    const agent = await register();
    faults.failAll('InternalServerError');
    const { lines } = await capturingLogs(async () => {
      const down = await Promise.all([
        jsonPost(`${app.issuer}/register`, machine),
        clientCredentials(agent),
        fetch(agent.registration_client_uri, {
          headers: { authorization: `Bearer ${agent.registration_access_token}` },
        }),
        fetch(`${app.issuer}/admin/clients`, {
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        }),
      ]);
      expect(down.map((r) => r.status)).toEqual([503, 503, 503, 503]);
      // Discovery and the JWKS do not touch the store.
      expect((await fetch(`${app.issuer}/.well-known/oauth-authorization-server`)).status).toBe(
        200,
      );
      expect((await fetch(`${app.issuer}/.well-known/jwks.json`)).status).toBe(200);
    });
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
    faults.clear();
    expect((await clientCredentials(agent)).status).toBe(200);
    await register();
  });
});
