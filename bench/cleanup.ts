/**
 * The cleanup's cost with 100k clients in the embedded store, 1k of them expired: its work
 * follows the expired items (the expiry index), not the table's size.
 */
import { DynamoDbExpirySweeper } from '../lambdas/adapters/dynamodb/dynamodb-expiry-sweeper.js';
import { documentClient } from '../lambdas/aws/dynamodb.js';
import { startEmbeddedStore } from '../local/embedded-store.js';
import { benchClient, seedClients } from './seed-clients.js';

const TOTAL = Number(process.env.BENCH_CLIENTS ?? 100_000);
const EXPIRED = Number(process.env.BENCH_EXPIRED ?? 1_000);
const TABLE = 'bench-cleanup';
const DAY = 86_400;

export async function cleanupBench(): Promise<string[]> {
  const store = await startEmbeddedStore(TABLE);
  try {
    const dynamo = documentClient(store.client);
    const now = Math.floor(Date.now() / 1000);
    // Expired ones spread over the last hour; live ones over the next 90 days.
    const record = (i: number) =>
      benchClient(i, now, {
        activeUntil: i < EXPIRED ? now - 1 - (i % 3600) : now + 60 + (i % (90 * DAY)),
      });
    const seeding = performance.now();
    await seedClients(dynamo, TABLE, TOTAL, record);
    const seeded = (performance.now() - seeding) / 1000;

    const sweeper = new DynamoDbExpirySweeper(dynamo, TABLE, { now: () => now });
    const started = performance.now();
    const result = await sweeper.sweep();
    const ms = performance.now() - started;
    const again = performance.now();
    const second = await sweeper.sweep();
    const idleMs = performance.now() - again;
    return [
      `cleanup: ${TOTAL} clients in the embedded store (seeded in ${seeded.toFixed(0)} s), ${EXPIRED} expired`,
      `  first run: deleted ${JSON.stringify(result.deleted)} in ${ms.toFixed(0)} ms (${((result.deleted.client ?? 0) / (ms / 1000)).toFixed(0)} deletes/s), ${result.daysSwept} day partitions read`,
      `  second run (nothing expired): ${idleMs.toFixed(0)} ms, deleted ${JSON.stringify(second.deleted)}`,
    ];
  } finally {
    await store.close();
  }
}
