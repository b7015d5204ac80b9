import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../lambdas/config.js';
import { type LocalApp, startLocalApp } from '../../local/app.js';
import { type Json, jsonPost, readJson } from '../support/server.js';

/**
 * The local data folder follows the live data: what deleted and replaced clients left in the
 * store's files is compacted away after each cleanup sweep, so it does not only grow.
 */
let dir: string;
let app: LocalApp;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dcr-size-'));
  app = await startLocalApp(
    loadConfig({
      PORT: '0',
      DCR_DATA_DIR: dir,
      DCR_AUDIT_LOG: 'off',
      DCR_CLEANUP_INTERVAL_SECONDS: '1',
    }),
    { store: 'embedded' },
  );
});
afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

const storeBytes = () => {
  const store = join(dir, 'dynamodb');
  return readdirSync(store).reduce((sum, file) => sum + statSync(join(store, file)).size, 0);
};

it('shrinks back once clients are deleted and the cleanup has run', async () => {
  const clients: Json[] = [];
  for (let i = 0; i < 8; i++) {
    const batch = await Promise.all(
      Array.from({ length: 10 }, () =>
        jsonPost(`${app.issuer}/register`, {
          client_name: 'short-lived',
          grant_types: ['client_credentials'],
        }).then(readJson),
      ),
    );
    clients.push(...batch);
  }
  for (const client of clients) {
    const response = await fetch(`${app.issuer}/register/${client.client_id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${client.registration_access_token}` },
    });
    expect(response.status).toBe(204);
  }
  // Uncompacted, the store's log keeps every registration and deletion (about 280 KB here);
  // compacted, what is left (the statistics, the signing key) takes about 10 KB.
  await expect.poll(storeBytes, { timeout: 15_000, interval: 250 }).toBeLessThan(40_000);
});
