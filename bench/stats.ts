/**
 * Statistics with 50k clients in the embedded store: the full walk of the registry the stats
 * used to make (and a recount still makes, once, in steps) against the counter items read now.
 */
import { DynamoDbClientRepository } from '../lambdas/adapters/dynamodb/dynamodb-client-repository.js';
import { DynamoDbClientStatistics } from '../lambdas/adapters/dynamodb/dynamodb-client-statistics.js';
import { documentClient } from '../lambdas/aws/dynamodb.js';
import { loadConfig } from '../lambdas/config.js';
import { ClientLifecycle } from '../lambdas/core/clients/client-lifecycle.js';
import { AdminService } from '../lambdas/core/operator/admin.js';
import { startEmbeddedStore } from '../local/embedded-store.js';
import { benchClient, seedClients } from './seed-clients.js';

const TOTAL = Number(process.env.BENCH_CLIENTS ?? 50_000);
const TABLE = 'bench-stats';

const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function timed<T>(run: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await run();
  return [result, performance.now() - started];
}

export async function statsBench(): Promise<string[]> {
  const store = await startEmbeddedStore(TABLE);
  try {
    const dynamo = documentClient(store.client);
    const now = Math.floor(Date.now() / 1000);
    const [, seedMs] = await timed(() =>
      seedClients(dynamo, TABLE, TOTAL, (i) =>
        benchClient(i, now, { registrationMethod: i % 10 === 0 ? 'initial_access_token' : 'open' }),
      ),
    );
    const repository = new DynamoDbClientRepository(dynamo, TABLE);
    const clock = { now: () => now };
    const admin = new AdminService(
      new ClientLifecycle(repository, clock, loadConfig({})),
      repository,
      new DynamoDbClientStatistics(dynamo, TABLE),
    );

    // What GET /admin/stats did before the counters: every page of the registry.
    const [pages, scanMs] = await timed(async () => {
      let count = 0;
      let cursor: string | undefined;
      do {
        const page = await repository.page({}, cursor, 500);
        count += 1;
        cursor = page.cursor;
      } while (cursor !== undefined);
      return count;
    });

    // The one-off recount (clients from before the counters): the same walk, in bounded steps.
    const [steps, recountMs] = await timed(async () => {
      let count = 0;
      let cursor: string | undefined;
      do {
        const step = await admin.recount(cursor);
        count += 1;
        cursor = 'next_cursor' in step ? step.next_cursor : undefined;
      } while (cursor !== undefined);
      return count;
    });

    const statsMs = async (days: number) => {
      const runs: number[] = [];
      for (let i = 0; i < 7; i++) runs.push((await timed(() => admin.stats(days)))[1]);
      return median(runs) as number;
    };
    const [report] = await timed(() => admin.stats(30));
    return [
      `stats: ${TOTAL} clients in the embedded store (seeded in ${(seedMs / 1000).toFixed(0)} s)`,
      `  before, a walk of the whole registry: ${scanMs.toFixed(0)} ms (${pages} scan pages), grows with the clients`,
      `  one-off recount: ${recountMs.toFixed(0)} ms in ${steps} steps of at most 5000 clients`,
      `  now, GET /admin/stats (counter items, median of 7): ${(await statsMs(30)).toFixed(1)} ms for 30 days, ${(await statsMs(400)).toFixed(1)} ms for 400 days; active ${report.active_clients}`,
    ];
  } finally {
    await store.close();
  }
}
