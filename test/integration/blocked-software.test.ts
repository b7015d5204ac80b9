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
});

describe('the blocked item on the table', () => {
  it('is blocked#<software_id>, never seen by the client listing', async () => {
    await new DynamoDbBlockedSoftwareIds(dynamo, TABLE).block('listed?', { at: 5, actor: 'ops' });
    const page = await new DynamoDbClientRepository(dynamo, TABLE).page({}, undefined, 100);
    expect(page.records).toEqual([]);
  });
});
