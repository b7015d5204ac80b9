import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambdas/config.js';
import { type LocalApp, startLocalApp } from '../../local/app.js';
import type { LevelDatabase } from '../../local/level-storage.js';
import { capturingLogs } from '../support/faults.js';
import { type Json, jsonPost, readJson } from '../support/server.js';

/**
 * The disk beneath the local server's store fails (full, read-only): the failure is made where
 * classic-level meets LevelDB — its private writers and its open reject as LevelDB does on
 * ENOSPC — and everything above, dynalite and this server, is the real code. Tests run as root
 * here, so a read-only folder (chmod) would not stop a write: the same LEVEL_IO_ERROR stands for it.
 */
class FailingDisk {
  full = false;
  /** The `sync` option of every write that reached LevelDB. */
  readonly syncs: boolean[] = [];

  attach(db: LevelDatabase): void {
    const fail = () =>
      Object.assign(
        new Error(`IO error: ${db.constructor.name}/000012.log: No space left on device`),
        { code: 'LEVEL_IO_ERROR' },
      );
    const { _put, _del, _batch, _open } = db;
    db._put = (key, value, options) => {
      this.syncs.push((options as { sync?: boolean }).sync === true);
      return this.full ? Promise.reject(fail()) : _put.call(db, key, value, options);
    };
    db._del = (key, options) => (this.full ? Promise.reject(fail()) : _del.call(db, key, options));
    db._batch = (operations, options) => {
      this.syncs.push((options as { sync?: boolean }).sync === true);
      return this.full ? Promise.reject(fail()) : _batch.call(db, operations, options);
    };
    db._open = (options) => (this.full ? Promise.reject(fail()) : _open.call(db, options));
  }
}

const register = (issuer: string, name: string) =>
  jsonPost(`${issuer}/register`, { client_name: name, grant_types: ['client_credentials'] });

const token = (issuer: string, client: Json) =>
  fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });

describe('a full or read-only disk under the local store', () => {
  let dir: string;
  let app: LocalApp;
  const disk = new FailingDisk();
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dcr-disk-'));
    app = await startLocalApp(loadConfig({ PORT: '0', DCR_DATA_DIR: dir, DCR_AUDIT_LOG: 'off' }), {
      store: 'embedded',
      instrumentStorage: (db) => disk.attach(db),
    });
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After while it lasts, recovers by itself, and loses nothing acknowledged', async () => {
    const before: Json[] = [];
    for (let i = 0; i < 3; i++) before.push(await readJson(await register(app.issuer, `b${i}`)));

    const { lines } = await capturingLogs(async () => {
      disk.full = true;
      const refused = await Promise.all(
        Array.from({ length: 6 }, (_, i) => register(app.issuer, `during-${i}`)),
      );
      for (const response of refused) {
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(await readJson(response)).toMatchObject({ error: 'temporarily_unavailable' });
      }
      disk.full = false;
      // The store is opened again within seconds: a client retrying as told gets through.
      let after: Response | undefined;
      for (let attempt = 0; attempt < 40; attempt++) {
        after = await register(app.issuer, 'after');
        if (after.status !== 503) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(after?.status).toBe(201);
      before.push(await readJson(after as Response));
    });

    // Every client acknowledged before and after the episode authenticates and gets tokens.
    for (const client of before) expect((await token(app.issuer, client)).status).toBe(200);
    // One line when it starts (the folder and the cause), one when writes succeed again.
    const store = lines.filter((line) => line.message.startsWith('store '));
    expect(store.map((line) => line.message)).toEqual([
      'store unavailable: answering 503 until it can be written again',
      'store available again',
    ]);
    expect(store[0]?.attributes).toMatchObject({
      folder: join(dir, 'dynamodb'),
      code: 'LEVEL_IO_ERROR',
    });
  });

  it('syncs every write to disk before acknowledging it, by default', () => {
    expect(disk.syncs.length).toBeGreaterThan(0);
    expect(disk.syncs.every(Boolean)).toBe(true);
  });
});

describe('DCR_LOCAL_SYNC_WRITES=off', () => {
  it('leaves writes to the OS cache', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcr-nosync-'));
    const disk = new FailingDisk();
    const app = await startLocalApp(
      loadConfig({
        PORT: '0',
        DCR_DATA_DIR: dir,
        DCR_AUDIT_LOG: 'off',
        DCR_LOCAL_SYNC_WRITES: 'off',
      }),
      { store: 'embedded', instrumentStorage: (db) => disk.attach(db) },
    );
    try {
      expect((await register(app.issuer, 'unsynced')).status).toBe(201);
      expect(disk.syncs.length).toBeGreaterThan(0);
      expect(disk.syncs.some(Boolean)).toBe(false);
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
