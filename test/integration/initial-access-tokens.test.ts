import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbInitialAccessTokens } from '../../lambdas/adapters/dynamodb/dynamodb-initial-access-tokens.js';
import { DynamoDbSoftwareClientCounts } from '../../lambdas/adapters/dynamodb/dynamodb-software-client-counts.js';
import { MemoryInitialAccessTokens } from '../../lambdas/adapters/memory/memory-initial-access-tokens.js';
import { MemorySoftwareClientCounts } from '../../lambdas/adapters/memory/memory-software-client-counts.js';
import { documentClient } from '../../lambdas/aws/dynamodb.js';
import type {
  InitialAccessTokenRecord,
  InitialAccessTokenStore,
  SoftwareClientCounts,
} from '../../lambdas/core/registration/ports.js';
import { newTokenId } from '../../lambdas/core/secrets.js';
import { type EmbeddedStore, startEmbeddedStore } from '../../local/embedded-store.js';

const NOW = 1_800_000_000;
const TABLE = 'dcr-iat';

const token = (overrides: Partial<InitialAccessTokenRecord> = {}): InitialAccessTokenRecord => ({
  id: newTokenId(),
  tokenHash: 'hash-1',
  createdAt: NOW,
  expiresAt: NOW + 3600,
  uses: 0,
  ...overrides,
});

let embedded: EmbeddedStore;
beforeAll(async () => {
  embedded = await startEmbeddedStore(TABLE);
});
afterAll(() => embedded.close());

// The same contract for the adapter AWS runs and the one unit tests and benchmarks use.
describe.each<[string, () => InitialAccessTokenStore]>([
  [
    'DynamoDbInitialAccessTokens on the embedded store',
    () => new DynamoDbInitialAccessTokens(documentClient(embedded.client), TABLE),
  ],
  ['MemoryInitialAccessTokens', () => new MemoryInitialAccessTokens()],
])('%s', (_, make) => {
  let store: InitialAccessTokenStore;
  beforeAll(() => {
    store = make();
  });

  it('with max_uses N, 3N concurrent uses succeed exactly N times', async () => {
    const n = 5;
    const t = token({ maxUses: n });
    await store.create(t);
    const results = await Promise.all(
      Array.from({ length: 3 * n }, () => store.use(t.id, t.tokenHash, NOW + 1)),
    );
    const used = results.filter((r) => r !== undefined);
    expect(used).toHaveLength(n);
    expect(used.map((r) => r?.uses).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([1, 2, 3, 4, 5]);
    expect((await store.get(t.id))?.uses).toBe(n);
  });

  it('with max_active_clients N, 3N concurrent uses take exactly N places; a release frees one', async () => {
    const n = 4;
    const t = token({ maxActiveClients: n });
    await store.create(t);
    const results = await Promise.all(
      Array.from({ length: 3 * n }, () => store.use(t.id, t.tokenHash, NOW + 1)),
    );
    expect(results.filter((r) => r !== undefined)).toHaveLength(n);
    expect(await store.get(t.id)).toMatchObject({ uses: n, activeClients: n });
    await store.release(t.id);
    expect(await store.use(t.id, t.tokenHash, NOW + 1)).toMatchObject({ activeClients: n });
    expect(await store.use(t.id, t.tokenHash, NOW + 1)).toBeUndefined();
  });

  it('a release never goes below zero and never brings a revoked token back', async () => {
    const t = token();
    await store.create(t);
    await store.use(t.id, t.tokenHash, NOW);
    await store.release(t.id);
    await store.release(t.id);
    expect((await store.get(t.id))?.activeClients ?? 0).toBe(0);
    await store.delete(t.id);
    await store.release(t.id);
    expect(await store.get(t.id)).toBeUndefined();
  });

  it('refuses an expired token, a wrong hash and an unknown id; counts nothing then', async () => {
    const t = token({ expiresAt: NOW + 10 });
    await store.create(t);
    expect(await store.use(t.id, t.tokenHash, NOW + 10)).toBeUndefined();
    expect(await store.use(t.id, 'another-hash', NOW + 1)).toBeUndefined();
    expect(await store.use(newTokenId(), t.tokenHash, NOW + 1)).toBeUndefined();
    expect((await store.get(t.id))?.uses).toBe(0);
    expect(await store.use(t.id, t.tokenHash, NOW + 9)).toMatchObject({ id: t.id, uses: 1 });
  });

  it('without max_uses a token is used until it expires', async () => {
    const t = token();
    await store.create(t);
    for (let i = 1; i <= 3; i++) {
      expect((await store.use(t.id, t.tokenHash, NOW))?.uses).toBe(i);
    }
  });

  it('never overwrites a token; deleting revokes it', async () => {
    const t = token({ maxUses: 2, scope: 'read', softwareId: 'sw', description: 'fleet' });
    await store.create(t);
    await expect(store.create({ ...t, tokenHash: 'other' })).rejects.toThrow();
    expect(await store.get(t.id)).toEqual(t);
    expect(await store.delete(t.id)).toBe(true);
    expect(await store.delete(t.id)).toBe(false);
    expect(await store.get(t.id)).toBeUndefined();
    expect(await store.use(t.id, t.tokenHash, NOW)).toBeUndefined();
  });

  it('lists tokens page by page', async () => {
    const ids = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await store.page(cursor, 2);
      for (const r of page.records) ids.add(r.id);
      cursor = page.cursor;
    } while (cursor !== undefined);
    expect(ids.size).toBeGreaterThanOrEqual(3);
  });
});

describe.each<[string, () => SoftwareClientCounts]>([
  [
    'DynamoDbSoftwareClientCounts on the embedded store',
    () => new DynamoDbSoftwareClientCounts(documentClient(embedded.client), TABLE),
  ],
  ['MemorySoftwareClientCounts', () => new MemorySoftwareClientCounts()],
])('%s', (_, make) => {
  let counts: SoftwareClientCounts;
  beforeAll(() => {
    counts = make();
  });

  it('with a cap of N, 3N concurrent claims succeed exactly N times; a release frees one', async () => {
    const software = `sw-${newTokenId()}`;
    const claims = await Promise.all(
      Array.from({ length: 15 }, () => counts.claim(software, 5, NOW + 3600)),
    );
    expect(claims.filter(Boolean)).toHaveLength(5);
    await counts.release(software);
    expect(await counts.claim(software, 5)).toBe(true);
    expect(await counts.claim(software, 5)).toBe(false);
    // Each software_id has its own count.
    expect(await counts.claim(`${software}-other`, 5)).toBe(true);
  });

  it('never counts below zero', async () => {
    const software = `sw-${newTokenId()}`;
    await counts.release(software);
    expect(await counts.claim(software, 1)).toBe(true);
    expect(await counts.claim(software, 1)).toBe(false);
  });
});
