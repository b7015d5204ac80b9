/**
 * The cleanup's cost with 100k clients in the embedded store, 1k of them expired: its work
 * follows the expired items (the expiry index), not the table's size.
 */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { clientItem } from '../lambdas/adapters/dynamodb-client-repository.js';
import { DynamoDbExpirySweeper } from '../lambdas/adapters/dynamodb-expiry-sweeper.js';
import { documentClient } from '../lambdas/aws/dynamodb.js';
import type { ClientRecord } from '../lambdas/core/ports.js';
import { startEmbeddedStore } from '../lambdas/local/embedded-store.js';

const TOTAL = Number(process.env.BENCH_CLIENTS ?? 100_000);
const EXPIRED = Number(process.env.BENCH_EXPIRED ?? 1_000);
const TABLE = 'bench-cleanup';
const DAY = 86_400;

export async function cleanupBench(): Promise<string[]> {
  const store = await startEmbeddedStore(TABLE);
  try {
    const dynamo = documentClient(store.client);
    const now = Math.floor(Date.now() / 1000);
    const record = (i: number): ClientRecord => {
      // Expired ones spread over the last hour; live ones over the next 90 days.
      const activeUntil = i < EXPIRED ? now - 1 - (i % 3600) : now + 60 + (i % (90 * DAY));
      return {
        clientId: `bench-${i}`,
        metadata: {
          grant_types: ['client_credentials'],
          response_types: [],
          token_endpoint_auth_method: 'client_secret_basic',
          application_type: 'web',
          client_name: `agent ${i}`,
        },
        clientIdIssuedAt: now - DAY,
        secretHash: 'x'.repeat(43),
        clientSecretExpiresAt: 0,
        registrationTokenHash: 'y'.repeat(43),
        activeUntil,
        version: 1,
      };
    };
    const seeding = performance.now();
    for (let start = 0; start < TOTAL; start += 25 * 8) {
      await Promise.all(
        Array.from({ length: 8 }, (_, b) => {
          const from = start + b * 25;
          const items = Array.from({ length: Math.max(0, Math.min(25, TOTAL - from)) }, (_, i) =>
            clientItem(record(from + i)),
          );
          return items.length === 0
            ? undefined
            : dynamo.send(
                new BatchWriteCommand({
                  RequestItems: { [TABLE]: items.map((Item) => ({ PutRequest: { Item } })) },
                }),
              );
        }),
      );
    }
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
