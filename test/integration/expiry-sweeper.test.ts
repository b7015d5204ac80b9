import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbClientRepository } from '../../lambdas/adapters/dynamodb/dynamodb-client-repository.js';
import { DynamoDbExpirySweeper } from '../../lambdas/adapters/dynamodb/dynamodb-expiry-sweeper.js';
import { DynamoDbTokenStore } from '../../lambdas/adapters/dynamodb/dynamodb-token-store.js';
import { documentClient } from '../../lambdas/aws/dynamodb.js';
import type { ClientRecord } from '../../lambdas/core/clients/ports.js';
import { type EmbeddedStore, startEmbeddedStore } from '../../local/embedded-store.js';
import { FakeClock } from '../support/fakes.js';
import { FaultInjector } from '../support/faults.js';

const HOUR = 3600;

const client = (clientId: string, expiresAt: number): ClientRecord => ({
  clientId,
  metadata: {
    grant_types: ['client_credentials'],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
    application_type: 'web',
  },
  clientIdIssuedAt: expiresAt - 10 * HOUR,
  secretHash: 'h',
  clientSecretExpiresAt: 0,
  registrationTokenHash: 'h',
  expiresAt,
  activeUntil: expiresAt,
  version: 1,
});

/** Runs the tasks with at most `width` in flight (dynalite serialises writes anyway). */
async function inBatches<T>(tasks: (() => Promise<T>)[], width = 50): Promise<void> {
  for (let i = 0; i < tasks.length; i += width) {
    await Promise.all(tasks.slice(i, i + width).map((t) => t()));
  }
}

describe('DynamoDbExpirySweeper against the embedded store', () => {
  let store: EmbeddedStore;
  let table = 0;
  beforeAll(async () => {
    store = await startEmbeddedStore('unused');
  });
  afterAll(() => store.close());

  async function fresh() {
    const name = `sweep-${++table}`;
    await store.close();
    store = await startEmbeddedStore(name);
    const dynamo = documentClient(store.client);
    const clock = new FakeClock(Date.parse('2026-11-27T12:00:00Z') / 1000);
    return {
      clock,
      dynamo,
      name,
      repository: new DynamoDbClientRepository(dynamo, name),
      tokens: new DynamoDbTokenStore(dynamo, name),
      sweeper: () => new DynamoDbExpirySweeper(dynamo, name, clock),
      count: async () =>
        (await dynamo.send(new ScanCommand({ TableName: name, Select: 'COUNT' }))).Count,
    };
  }

  // Expiry instants are distinct here: dynalite tells apart index entries with equal index keys
  // by a 24-bit hash of the table key, so among thousands of items sharing one instant two can
  // collide and one drop out of its index (a dynalite limitation; DynamoDB keeps them all).
  it('deletes thousands of expired items, keeps the live ones, and overlapping runs agree', async () => {
    const t = await fresh();
    const now = t.clock.now();
    await inBatches<unknown>([
      ...Array.from(
        { length: 1000 },
        (_, i) => () => t.repository.create(client(`expired-${i}`, now - 1 - i * 40)),
      ),
      ...Array.from(
        { length: 1000 },
        (_, i) => () => t.repository.create(client(`live-${i}`, now + 1 + i * 40)),
      ),
      ...Array.from({ length: 200 }, (_, i) => () => t.tokens.revoke(`jti-${i}`, now - 60)),
      ...Array.from(
        { length: 200 },
        (_, i) => () => t.tokens.useAssertionId('c', `a-${i}`, now - 60),
      ),
    ]);

    const overlapping = await Promise.all([t.sweeper().sweep(), t.sweeper().sweep()]);
    // Whatever overlapping runs leave (each delete is conditional, so nothing is counted twice),
    // the next run finishes.
    const runs = [...overlapping, await t.sweeper().sweep()];
    const deleted = (kind: string) => runs.reduce((sum, r) => sum + (r.deleted[kind] ?? 0), 0);
    expect(deleted('client')).toBe(1000);
    expect(deleted('revoked')).toBe(200);
    expect(deleted('assertion')).toBe(200);
    expect(runs.every((r) => r.complete)).toBe(true);

    expect(await t.repository.get('expired-7')).toBeUndefined();
    expect(await t.repository.get('live-7')).toBeDefined();
    expect(await t.count()).toBe(1000 + 1); // the live clients and the cursor

    const again = await t.sweeper().sweep();
    expect(again.deleted).toEqual({});
  });

  it('never deletes a client whose expiry was extended after the index was read', async () => {
    const t = await fresh();
    const now = t.clock.now();
    await t.repository.create(client('extended', now - 10));
    // Extended meanwhile: the conditional delete sees the new expiry and leaves it.
    await t.repository.replace({ ...client('extended', now + HOUR), version: 2 });
    const result = await t.sweeper().sweep();
    expect(result.deleted).toEqual({});
    expect(await t.repository.get('extended')).toBeDefined();
  });

  it('finishes a deletion interrupted after its marker, reporting the deletion (not an expiry)', async () => {
    const t = await fresh();
    const now = t.clock.now();
    // A client that never expires, marked deleted by a request that then died before removing it.
    const { expiresAt: _, activeUntil: __, ...forever } = client('interrupted', now + HOUR);
    await t.repository.create(forever);
    const deletion = { by: 'client' as const, at: now };
    // The removal that follows the marker is what dies (after the SDK gave up on it).
    const faults = new FaultInjector();
    faults.attach(store.client);
    faults.fail('DeleteItem', 'TimeoutError');
    await expect(t.repository.delete('interrupted', deletion)).rejects.toMatchObject({
      status: 503,
    });
    expect(await t.repository.get('interrupted')).toMatchObject({ deletion });
    t.clock.advance(1);
    const reported: (ClientRecord | undefined)[] = [];
    const sweeper = new DynamoDbExpirySweeper(t.dynamo, t.name, t.clock, async (record) => {
      reported.push(record);
    });
    expect((await sweeper.sweep()).deleted).toEqual({ client: 1 });
    expect(await t.repository.get('interrupted')).toBeUndefined();
    expect(reported).toEqual([expect.objectContaining({ clientId: 'interrupted', deletion })]);
  });

  it('moves its cursor over finished days and reads only from there', async () => {
    const t = await fresh();
    await t.sweeper().sweep();
    t.clock.advance(3 * 24 * HOUR);
    const now = t.clock.now();
    await t.repository.create(client('two-days-ago', now - 2 * 24 * HOUR));
    await t.repository.create(client('today', now - 1));
    const result = await t.sweeper().sweep();
    expect(result.deleted).toEqual({ client: 2 });
    expect(result.daysSwept).toBe(4); // from the cursor (the first run's today) to today
    expect((await t.sweeper().sweep()).daysSwept).toBe(1);
  });

  it('stops at its deadline and the next run finishes the work', async () => {
    const t = await fresh();
    const now = t.clock.now();
    await inBatches(
      Array.from({ length: 50 }, (_, i) => () => t.repository.create(client(`e-${i}`, now - 5))),
    );
    const stopped = await t.sweeper().sweep(Date.now());
    expect(stopped.complete).toBe(false);
    const resumed = await t.sweeper().sweep();
    expect(resumed.complete).toBe(true);
    expect((stopped.deleted.client ?? 0) + (resumed.deleted.client ?? 0)).toBe(50);
  });
});
