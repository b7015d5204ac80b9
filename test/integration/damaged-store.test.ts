import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedStore } from '../../local/embedded-store.js';

/**
 * A store damaged on disk (a log cut short by a power cut or a full disk, a corrupt CURRENT) is
 * refused at start with a message naming the folder and the way out, never opened with
 * acknowledged writes silently gone; `npm run store:repair` then keeps every whole record.
 */
const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
const TABLE = 'damaged-store';
const ITEMS = 40;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A store holding ITEMS items, all in its write-ahead log (closed before any compaction). */
async function storeWithItems(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'dcr-damaged-'));
  dirs.push(dir);
  const store = await startEmbeddedStore(TABLE, dir);
  for (let i = 0; i < ITEMS; i++) {
    await store.client.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { pk: { S: `client#${i}` }, sk: { S: 'client' }, name: { S: 'x'.repeat(200) } },
      }),
    );
  }
  await store.close();
  return dir;
}

const log = (dir: string) => join(dir, readdirSync(dir).find((f) => f.endsWith('.log')) as string);

async function itemsAfterRepair(dir: string): Promise<number> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', 'local/repair-store.ts', dir],
    { cwd: projectRoot },
  );
  expect(stdout).toContain(`repaired ${dir}`);
  const store = await startEmbeddedStore(TABLE, dir);
  try {
    const { Items } = await store.client.send(new ScanCommand({ TableName: TABLE }));
    return Items?.length ?? 0;
  } finally {
    await store.close();
  }
}

describe('a damaged local store', () => {
  it('a log cut short inside a record: refused at start, naming the folder and the repair', async () => {
    const dir = await storeWithItems();
    const file = log(dir);
    truncateSync(file, statSync(file).size - 50);
    await expect(startEmbeddedStore(TABLE, dir)).rejects.toThrow(
      new RegExp(
        `^the store in ${dir} is damaged \\(\\d+\\.log ends inside a record\\)\\. To recover: stop every server using it, copy the folder aside .*npm run store:repair -- ${dir}`,
      ),
    );
    // Refused again, not healed by the refusal: the second start says the same.
    await expect(startEmbeddedStore(TABLE, dir)).rejects.toThrow(/ends inside a record/);
    // The repair keeps every whole record: all but the one cut.
    expect(await itemsAfterRepair(dir)).toBe(ITEMS - 1);
  });

  it('a corrupt CURRENT: refused at start, naming the folder and the repair', async () => {
    const dir = await storeWithItems();
    writeFileSync(join(dir, 'CURRENT'), 'MANIFEST-999999\n');
    await expect(startEmbeddedStore(TABLE, dir)).rejects.toThrow(
      new RegExp(`^the store in ${dir} is damaged \\(.*MANIFEST-999999.*npm run store:repair`),
    );
    expect(await itemsAfterRepair(dir)).toBe(ITEMS);
  });

  it('a missing CURRENT beside the store files: refused, not started empty', async () => {
    const dir = await storeWithItems();
    rmSync(join(dir, 'CURRENT'));
    await expect(startEmbeddedStore(TABLE, dir)).rejects.toThrow(
      `the store in ${dir} is damaged (its CURRENT file is missing)`,
    );
  });
});
