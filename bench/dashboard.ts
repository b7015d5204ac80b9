/**
 * The operator dashboard with 10k clients in the embedded store (on disk, as `npm start` keeps
 * it): sequential page loads over HTTP, signed in, p50/p99 per page. The seeded clients are
 * written straight into the table and then recounted once, so the overview shows them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { documentClient } from '../lambdas/aws/dynamodb.js';
import { loadConfig } from '../lambdas/config.js';
import { startLocalApp } from '../local/app.js';
import { startEmbeddedStore } from '../local/embedded-store.js';
import { benchClient, seedClients } from './seed-clients.js';

const TOTAL = Number(process.env.BENCH_CLIENTS ?? 10_000);
const RUNS = 40;
const TOKEN = 'bench-dashboard-admin-token-0123456789-abcdef';

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] as number;

export async function dashboardBench(): Promise<string[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dcr-bench-dashboard-'));
  try {
    const config = loadConfig({
      PORT: '0',
      DCR_DATA_DIR: dataDir,
      DCR_ADMIN_TOKEN: TOKEN,
      DCR_AUDIT_LOG: 'off',
      DCR_CLEANUP_INTERVAL_SECONDS: '0',
    });
    const now = Math.floor(Date.now() / 1000);
    const seeding = await startEmbeddedStore(config.tableName, join(dataDir, 'dynamodb'));
    const started = performance.now();
    // Every 50th client registered an hour ago and was never used: it expires within 24 hours
    // (the unused lifetime). The others were used an hour ago: 90 days left (the idle lifetime).
    await seedClients(documentClient(seeding.client), config.tableName, TOTAL, (i) => {
      const metadata = { ...benchClient(i, now).metadata, software_id: `fleet-${i % 7}` };
      return i % 50 === 0
        ? benchClient(i, now, { metadata, clientIdIssuedAt: now - 3600, activeUntil: now + 82_800 })
        : benchClient(i, now, { metadata, lastUsedAt: now - 3600, activeUntil: now + 89 * 86_400 });
    });
    const seedMs = performance.now() - started;
    await seeding.close();

    const app = await startLocalApp(config, { store: 'embedded' });
    try {
      const admin = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
      let cursor: string | undefined;
      do {
        const step = await fetch(`${app.issuer}/admin/stats/recount`, {
          method: 'POST',
          headers: admin,
          body: JSON.stringify(cursor ? { cursor } : {}),
        });
        cursor = ((await step.json()) as { next_cursor?: string }).next_cursor;
      } while (cursor);

      const signIn = await fetch(`${app.issuer}/dashboard/sign-in`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: app.issuer },
        body: `admin_token=${TOKEN}`,
      });
      const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] as string;
      const pages: [string, string][] = [
        ['overview', '/dashboard'],
        ['clients, first page', '/dashboard/clients'],
        ['client page', '/dashboard/clients/bench-4242'],
        ['search by client_id', '/dashboard/clients?search=bench-4242'],
        ['search by name prefix', '/dashboard/clients?search=agent%2042'],
        ['search by software_id', '/dashboard/clients?search=fleet-3'],
      ];
      const lines = [
        `dashboard: ${TOTAL} clients in the embedded store (seeded in ${(seedMs / 1000).toFixed(0)} s), ${RUNS} sequential loads per page`,
      ];
      for (const [name, path] of pages) {
        const times: number[] = [];
        let status = 0;
        let bytes = 0;
        for (let i = 0; i < RUNS; i++) {
          const t = performance.now();
          const response = await fetch(`${app.issuer}${path}`, { headers: { cookie } });
          bytes = (await response.text()).length;
          times.push(performance.now() - t);
          status = response.status;
        }
        times.sort((a, b) => a - b);
        lines.push(
          `  ${name.padEnd(24)} ${path.padEnd(42)} p50 ${percentile(times, 50).toFixed(1)} ms  p99 ${percentile(times, 99).toFixed(1)} ms  (${status}, ${(bytes / 1024).toFixed(0)} KB)`,
        );
      }
      return lines;
    } finally {
      await app.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
