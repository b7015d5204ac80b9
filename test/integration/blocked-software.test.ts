import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbBlockedSoftwareIds } from '../../lambdas/adapters/dynamodb/dynamodb-blocked-software.js';
import { DynamoDbClientRepository } from '../../lambdas/adapters/dynamodb/dynamodb-client-repository.js';
import { MemoryBlockedSoftwareIds } from '../../lambdas/adapters/memory/memory-blocked-software.js';
import { documentClient } from '../../lambdas/aws/dynamodb.js';
import type { BlockedSoftwareIds } from '../../lambdas/core/registration/ports.js';
import { type EmbeddedStore, startEmbeddedStore } from '../../local/embedded-store.js';

const TABLE = 'blocked-software-test';
let store: EmbeddedStore;
let dir: string;
let dynamo: ReturnType<typeof documentClient>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dcr-blocked-'));
  store = await startEmbeddedStore(TABLE, dir);
  dynamo = documentClient(store.client);
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const stores: [string, () => BlockedSoftwareIds][] = [
  ['memory', () => new MemoryBlockedSoftwareIds()],
  ['embedded DynamoDB', () => new DynamoDbBlockedSoftwareIds(dynamo, TABLE)],
];

describe.each(stores)('BlockedSoftwareIds (%s)', (_, make) => {
  it('blocks idempotently, unblocks once, and knows nothing else', async () => {
    const blocked = make();
    const id = `fleet/agent #${Math.random()}`;
    expect(await blocked.isBlocked(id)).toBe(false);
    await blocked.block(id, { at: 1, actor: 'ops' });
    await blocked.block(id, { at: 2, actor: 'ops' });
    expect(await blocked.isBlocked(id)).toBe(true);
    expect(await blocked.isBlocked(`${id}-other`)).toBe(false);
    expect(await blocked.unblock(id)).toBe(true);
    expect(await blocked.unblock(id)).toBe(false);
    expect(await blocked.isBlocked(id)).toBe(false);
  });

  it('lists the blocked software_ids page by page, with who blocked each, when and from where', async () => {
    const blocked = make();
    const run = `list-${Math.random()}`;
    const ids = [1, 2, 3].map((n) => `${run}/${n}`);
    for (const [i, id] of ids.entries()) {
      await blocked.block(id, { at: 100 + i, actor: 'ops', sourceIp: '192.0.2.7' });
    }
    await blocked.unblock(ids[1] as string);
    const seen: unknown[] = [];
    let cursor: string | undefined;
    do {
      const page = await blocked.page(cursor, 1);
      seen.push(...page.records.filter((r) => r.softwareId.startsWith(run)));
      cursor = page.cursor;
    } while (cursor !== undefined);
    expect(seen).toHaveLength(2);
    expect(seen).toEqual(
      expect.arrayContaining([
        { softwareId: ids[0], at: 100, actor: 'ops', sourceIp: '192.0.2.7' },
        { softwareId: ids[2], at: 102, actor: 'ops', sourceIp: '192.0.2.7' },
      ]),
    );
  });
});

describe('the blocked item on the table', () => {
  it('is blocked#<software_id>, never seen by the client listing', async () => {
    await new DynamoDbBlockedSoftwareIds(dynamo, TABLE).block('listed?', { at: 5, actor: 'ops' });
    const page = await new DynamoDbClientRepository(dynamo, TABLE).page({}, undefined, 100);
    expect(page.records).toEqual([]);
  });
});
