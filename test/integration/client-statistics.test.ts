import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoDbClientRepository } from '../../lambdas/adapters/dynamodb/dynamodb-client-repository.js';
import { DynamoDbClientStatistics } from '../../lambdas/adapters/dynamodb/dynamodb-client-statistics.js';
import { DynamoDbExpirySweeper } from '../../lambdas/adapters/dynamodb/dynamodb-expiry-sweeper.js';
import { documentClient } from '../../lambdas/aws/dynamodb.js';
import { loadConfig } from '../../lambdas/config.js';
import { lastDays } from '../../lambdas/core/operator/client-statistics.js';
import { type LocalApp, startLocalApp } from '../../local/app.js';
import { type EmbeddedStore, startEmbeddedStore } from '../../local/embedded-store.js';
import { type Json, jsonPost, readJson } from '../support/server.js';

const TABLE = 'dcr-stats';
const AT = 1_800_000_000; // 2027-01-15T08:00:00Z

describe('statistics items in the embedded store', () => {
  let store: EmbeddedStore;
  let statistics: DynamoDbClientStatistics;
  let dynamo: DynamoDBDocumentClient;
  beforeAll(async () => {
    store = await startEmbeddedStore(TABLE);
    dynamo = documentClient(store.client);
    statistics = new DynamoDbClientStatistics(dynamo, TABLE);
  });
  afterAll(() => store.close());

  it('adds atomically: concurrent updates of one item all count', async () => {
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        statistics.add([
          { item: 'active', deltas: { 'active#open': 1 }, at: AT + i },
          { item: 'day#2027-01-15', deltas: { 'registered#open': 1 }, at: AT + i },
        ]),
      ),
    );
    await statistics.add([{ item: 'active', deltas: { 'active#open': -3 }, at: AT + 99 }]);
    const snapshot = await statistics.read(['2027-01-14', '2027-01-15']);
    expect(snapshot.active).toEqual({ 'active#open': 37 });
    expect(snapshot.days).toEqual({ '2027-01-15': { 'registered#open': 40 } });
    expect(snapshot.countingSince).toBeGreaterThanOrEqual(AT);
    expect(snapshot.countingSince).toBeLessThan(AT + 40);
  });

  it('runs of identical registrations: one within a day continues the run, later ones start again, concurrent ones all count', async () => {
    const day = 86_400;
    const note = (fingerprint: string, client: string, at: number) =>
      statistics.noteRegistration(fingerprint, client, at, day);
    expect(await note('fp-a', 'c1', AT)).toEqual({ registrations: 1, firstAt: AT, lastAt: AT });
    expect(await note('fp-a', 'c2', AT + 100)).toEqual({
      registrations: 2,
      firstAt: AT,
      lastAt: AT + 100,
      previousClientId: 'c1',
    });
    // A day after the last one: a new run.
    expect(await note('fp-a', 'c3', AT + 100 + day)).toMatchObject({ registrations: 1 });
    const runs = await Promise.all(
      Array.from({ length: 12 }, (_, i) => note('fp-b', `b${i}`, AT + i)),
    );
    expect(runs.map((run) => run.registrations).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    // What the admin reads: the run while it goes (the last registration less than a day ago).
    expect(await statistics.clientHealth('b0', 'fp-b', AT + 20)).toMatchObject({
      metadata_fingerprint: 'fp-b',
      same_metadata_registrations: 12,
      same_metadata_since: AT,
    });
    expect(await statistics.clientHealth('b0', 'fp-b', AT + 20 + day)).toMatchObject({
      same_metadata_registrations: 1,
    });
    const { Item } = await dynamo.send(
      new GetCommand({ TableName: TABLE, Key: { pk: 'stats#fingerprint#fp-a', sk: 'stats' } }),
    );
    expect(Item?.ttl).toBe(AT + 100 + day + 2 * day);
  });

  it('counts a client’s health counters on its own item, kept 400 days', async () => {
    await statistics.add([
      { item: 'client#h1', deltas: { reuse_absorbed: 1 }, at: AT },
      { item: 'client#h1', deltas: { reuse_absorbed: 1, family_revoked_by_reuse: 1 }, at: AT },
    ]);
    expect(await statistics.clientHealth('h1', undefined, AT)).toEqual({
      refresh_tokens_never_used: 0,
      refresh_reuse_absorbed: 2,
      refresh_families_revoked_by_reuse: 1,
    });
    const { Item } = await dynamo.send(
      new GetCommand({ TableName: TABLE, Key: { pk: 'stats#client#h1', sk: 'stats' } }),
    );
    expect(Item?.ttl).toBe(AT + 400 * 86_400);
  });

  it('keeps a day item 400 days, through TTL and the cleanup index', async () => {
    const { Item } = await dynamo.send(
      new GetCommand({ TableName: TABLE, Key: { pk: 'stats#day#2027-01-15', sk: 'stats' } }),
    );
    const ttl = Date.parse('2027-01-15T00:00:00Z') / 1000 + 401 * 86_400;
    expect(Item).toMatchObject({ ttl, expiryDay: 'expiry#2028-02-20' });
  });

  it('reads any window up to the retention, past BatchGetItem’s 100 keys', async () => {
    const days = lastDays(AT, 400);
    await statistics.add([{ item: `day#${days[0]}`, deltas: { 'expired#open': 2 }, at: AT }]);
    const snapshot = await statistics.read(days);
    expect(Object.keys(snapshot.days).sort()).toEqual([days[0], '2027-01-15']);
  });

  it('sets the active counters on a recount, keeping when counting began', async () => {
    const since = (await statistics.read([])).countingSince;
    await statistics.setActive({ 'active#open': 5, 'active#other': 0 }, AT + 500);
    expect(await statistics.read([])).toEqual({
      active: { 'active#open': 5, 'active#other': 0 },
      countingSince: since,
      recountedAt: AT + 500,
      days: {},
    });
  });

  it('records a recount that found no client at all (an empty registry)', async () => {
    const empty = await startEmbeddedStore(TABLE);
    try {
      const counters = new DynamoDbClientStatistics(documentClient(empty.client), TABLE);
      await counters.setActive({}, AT + 600);
      expect(await counters.read([])).toEqual({
        active: {},
        countingSince: AT + 600,
        recountedAt: AT + 600,
        days: {},
      });
    } finally {
      await empty.close();
    }
  });
});

describe('local server counts from the changes, audit log or not', () => {
  const ADMIN_TOKEN = 'stats-admin-token-0123456789-abcdefghijkl';
  let app: LocalApp;
  beforeAll(async () => {
    app = await startLocalApp(
      loadConfig({
        PORT: '0',
        DCR_AUDIT_LOG: 'off',
        DCR_ADMIN_TOKEN: ADMIN_TOKEN,
        DCR_CLEANUP_INTERVAL_SECONDS: '1',
      }),
      { store: 'embedded' },
    );
  });
  afterAll(() => app.close());
  afterEach(() => vi.restoreAllMocks());

  const asAdmin = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const stats = async (): Promise<Json> =>
    readJson(await fetch(`${app.issuer}/admin/stats?days=2`, { headers: asAdmin }));
  const register = async (extra: Json = {}) =>
    readJson(
      await jsonPost(`${app.issuer}/register`, { grant_types: ['client_credentials'], ...extra }),
    );

  it('counts registrations, deletions and sweeper expiries, and reads them without a scan', async () => {
    // The sweep runs every second on the same client as the stats read: watched from the start,
    // so that it can be stopped and its last run awaited before the read's calls are counted.
    const sweep = vi.spyOn(DynamoDbExpirySweeper.prototype, 'sweep');
    const kept = await register();
    const byClient = await register();
    const byOperator = await register();
    await fetch(byClient.registration_client_uri, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${byClient.registration_access_token}` },
    });
    await fetch(`${app.issuer}/admin/clients/${byOperator.client_id}`, {
      method: 'DELETE',
      headers: asAdmin,
    });
    await register({ expires_at: Math.floor(Date.now() / 1000) + 1 });
    // The in-process sweep (every second here) removes it and counts the expiry.
    await expect
      .poll(async () => (await stats()).active_clients, { timeout: 10_000, interval: 250 })
      .toBe(1);
    expect(kept.client_id).toBeDefined();
    const started = sweep.mock.results.map((result) => result.value);
    sweep.mockResolvedValue({ deleted: {}, daysSwept: 0, complete: true });
    await Promise.allSettled(started);

    const page = vi.spyOn(DynamoDbClientRepository.prototype, 'page');
    const send = vi.spyOn(DynamoDBDocumentClient.prototype, 'send');
    const body = await stats();
    expect(page).not.toHaveBeenCalled();
    expect(send.mock.calls.map(([command]) => command.constructor.name)).toEqual([
      'BatchGetCommand',
    ]);
    expect(body.active_clients_by_registration_method).toEqual({ open: 1 });
    expect(body.per_day.at(-1)).toMatchObject({
      day: new Date().toISOString().slice(0, 10),
      registered: 4,
      deleted_by_client: 1,
      deleted_by_operator: 1,
      expired: 1,
    });
  });
});
