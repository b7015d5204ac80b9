import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchClient, seedClients } from '../../bench/seed-clients.js';
import { DynamoDbClientRepository } from '../../lambdas/adapters/dynamodb/dynamodb-client-repository.js';
import { DynamoDbClientStatistics } from '../../lambdas/adapters/dynamodb/dynamodb-client-statistics.js';
import { MemoryClientStatistics } from '../../lambdas/adapters/memory/memory-client-statistics.js';
import { documentClient } from '../../lambdas/aws/dynamodb.js';
import { loadConfig } from '../../lambdas/config.js';
import { ClientLifecycle } from '../../lambdas/core/clients/client-lifecycle.js';
import { AdminService } from '../../lambdas/core/operator/admin.js';
import type { AuditEvent, AuditEventType } from '../../lambdas/core/operator/audit.js';
import { countEvents, counterUpdatesFor } from '../../lambdas/core/operator/client-statistics.js';
import type { ClientStatistics } from '../../lambdas/core/operator/ports.js';
import { type EmbeddedStore, startEmbeddedStore } from '../../local/embedded-store.js';

/**
 * The software_ids' active clients (the dashboard's "top software_ids"): counted from the change
 * events like the other statistics, one partition of counters read by one Query, rebuilt by the
 * recount. The same behaviour in the embedded store and in memory.
 */
const AT = 1_800_000_000;
const event = (type: AuditEventType, softwareId?: string): AuditEvent => ({
  type,
  client_id: 'c1',
  registration_method: 'open',
  client_id_issued_at: AT,
  occurred_at: AT,
  ...(softwareId !== undefined && { software_id: softwareId }),
});

describe('the counting rule for software_ids', () => {
  it('moves a software_id’s active clients on registration, deletion and expiry only', () => {
    expect(counterUpdatesFor(event('client.registered', 'fleet'))).toContainEqual({
      item: 'software#fleet',
      deltas: { active: 1 },
      at: AT,
    });
    for (const type of [
      'client.deleted_by_client',
      'client.deleted_by_operator',
      'client.expired',
    ] as const) {
      expect(counterUpdatesFor(event(type, 'fleet'))).toContainEqual({
        item: 'software#fleet',
        deltas: { active: -1 },
        at: AT,
      });
    }
    for (const type of ['client.updated', 'client.secret_rotated'] as const) {
      expect(counterUpdatesFor(event(type, 'fleet')).map((u) => u.item)).not.toContain(
        'software#fleet',
      );
    }
    expect(
      counterUpdatesFor(event('client.registered')).some((u) => u.item.startsWith('software#')),
    ).toBe(false);
  });
});

let store: EmbeddedStore;
beforeAll(async () => {
  store = await startEmbeddedStore('dcr-software-stats');
});
afterAll(() => store.close());

const targets: [string, () => ClientStatistics][] = [
  [
    'embedded store',
    () => new DynamoDbClientStatistics(documentClient(store.client), 'dcr-software-stats'),
  ],
  ['memory', () => new MemoryClientStatistics()],
];

describe.each(targets)('software_id counters (%s)', (_, make) => {
  it('ranks software_ids by active clients, most first, ties by name, none at zero, at most the limit', async () => {
    const statistics = make();
    await statistics.resetSoftware();
    const events = [
      ...Array.from({ length: 5 }, () => event('client.registered', 'alpha')),
      ...Array.from({ length: 3 }, () => event('client.registered', 'beta')),
      ...Array.from({ length: 3 }, () => event('client.registered', 'gamma')),
      event('client.registered', 'gone'),
      event('client.expired', 'gone'),
      event('client.deleted_by_operator', 'alpha'),
    ];
    // Concurrent batches: each counter moves atomically.
    await Promise.all(events.map((e) => countEvents(statistics, [e])));
    expect(await statistics.topSoftware(10)).toEqual([
      { softwareId: 'alpha', active: 4 },
      { softwareId: 'beta', active: 3 },
      { softwareId: 'gamma', active: 3 },
    ]);
    expect(await statistics.topSoftware(2)).toHaveLength(2);
    // The software counters are not active-client counters of a registration method.
    expect((await statistics.read([])).active).not.toHaveProperty('active');
    await statistics.resetSoftware();
    expect(await statistics.topSoftware(10)).toEqual([]);
  });
});

describe('the recount', () => {
  it('rebuilds the software_ids’ counts from the clients themselves', async () => {
    const table = 'dcr-software-recount';
    const recountStore = await startEmbeddedStore(table);
    try {
      const dynamo = documentClient(recountStore.client);
      await seedClients(dynamo, table, 1200, (i) => {
        const client = benchClient(i, AT);
        return {
          ...client,
          metadata: { ...client.metadata, ...(i % 3 !== 0 && { software_id: `fleet-${i % 3}` }) },
        };
      });
      const statistics = new DynamoDbClientStatistics(dynamo, table);
      // Counts from before: wrong, and a software_id with no client left.
      await statistics.add([
        { item: 'software#fleet-1', deltas: { active: 7 }, at: AT },
        { item: 'software#retired', deltas: { active: 9 }, at: AT },
      ]);
      const repository = new DynamoDbClientRepository(dynamo, table);
      const admin = new AdminService(
        new ClientLifecycle(repository, { now: () => AT }, loadConfig({})),
        repository,
        statistics,
      );
      let cursor: string | undefined;
      do {
        const step = await admin.recount(cursor);
        cursor = 'next_cursor' in step ? step.next_cursor : undefined;
      } while (cursor);
      expect((await admin.topSoftware(10)).software_ids).toEqual([
        { software_id: 'fleet-1', active_clients: 400 },
        { software_id: 'fleet-2', active_clients: 400 },
      ]);
    } finally {
      await recountStore.close();
    }
  });
});
