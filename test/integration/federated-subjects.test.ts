import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbFederatedSubjects } from '../../lambdas/adapters/dynamodb/dynamodb-federated-subjects.js';
import { MemoryFederatedSubjects } from '../../lambdas/adapters/memory/memory-federated-subjects.js';
import { documentClient } from '../../lambdas/aws/dynamodb.js';
import {
  type FederatedSubjects,
  SUBJECT_KEPT_SECONDS,
  type SubjectUpdate,
} from '../../lambdas/core/federation/federated-tokens.js';
import { type EmbeddedStore, startEmbeddedStore } from '../../local/embedded-store.js';

const NOW = 1_800_000_000;
const TABLE = 'dcr-federated';
const CI = 'https://ci.example';

const update = (sub: string, overrides: Partial<SubjectUpdate> = {}): SubjectUpdate => ({
  sub: `${CI}#${sub}`,
  issuer: CI,
  issuerKind: 'workload',
  tokens: 1,
  firstAt: NOW,
  lastAt: NOW,
  rule: 1,
  scope: 'tools:read',
  aud: 'https://mcp.example/',
  clientId: `${CI}#${sub}`,
  ...overrides,
});

/** Every subject, a page of `limit` at a time. */
async function all(store: FederatedSubjects, limit: number, now = NOW) {
  const seen = [];
  let cursor: string | undefined;
  do {
    const page = await store.list(cursor, limit, now);
    expect(page.subjects.length).toBeLessThanOrEqual(limit);
    seen.push(...page.subjects);
    cursor = page.next_cursor;
  } while (cursor !== undefined);
  return seen;
}

let embedded: EmbeddedStore;
beforeAll(async () => {
  embedded = await startEmbeddedStore(TABLE);
});
afterAll(() => embedded.close());

// The same contract, for the adapter the audit function runs and the in-memory one.
describe.each<[string, () => FederatedSubjects]>([
  [
    'DynamoDbFederatedSubjects on the embedded store',
    () => new DynamoDbFederatedSubjects(documentClient(embedded.client), TABLE),
  ],
  ['MemoryFederatedSubjects', () => new MemoryFederatedSubjects()],
])('%s', (_, make) => {
  let store: FederatedSubjects;
  beforeAll(() => {
    store = make();
  });

  it('sums a subject’s tokens; a batch that arrives late adds its count, not its older facts', async () => {
    await store.record([update('a', { tokens: 2, lastAt: NOW + 10, scope: 'tools:write' })]);
    // Another shard's older batch, processed after.
    await store.record([update('a', { firstAt: NOW - 50, lastAt: NOW - 40, rule: 2 })]);
    await store.record([
      update('a', {
        lastAt: NOW + 20,
        scope: undefined,
        aud: ['https://x.example/', 'https://y.example/'],
      }),
    ]);
    const [a] = (await all(store, 10)).filter((s) => s.sub === `${CI}#a`);
    expect(a).toEqual({
      sub: `${CI}#a`,
      issuer: CI,
      issuer_kind: 'workload',
      rule: 1,
      first_seen: NOW - 50,
      last_seen: NOW + 20,
      tokens: 4,
      last_aud: ['https://x.example/', 'https://y.example/'],
      last_client_id: `${CI}#a`,
      expires_at: NOW + 20 + SUBJECT_KEPT_SECONDS,
    });
  });

  it('pages through every subject once, subjects too long for a sort key included, and drops the forgotten', async () => {
    const long = `repo:acme/${'x'.repeat(1100)}:ref:refs/heads/main`;
    await store.record([
      update('b'),
      update('c'),
      update(long),
      update('old', {
        firstAt: NOW - SUBJECT_KEPT_SECONDS - 10,
        lastAt: NOW - SUBJECT_KEPT_SECONDS - 5,
      }),
    ]);
    const subjects = (await all(store, 1)).map((s) => s.sub);
    expect(subjects.filter((s) => s !== `${CI}#a`).sort()).toEqual(
      [`${CI}#b`, `${CI}#c`, `${CI}#${long}`].sort(),
    );
    expect(new Set(subjects).size).toBe(subjects.length);
  });

  it('refuses a cursor it did not make: invalid_request', async () => {
    for (const cursor of ['not-a-cursor', Buffer.from('{"after":7}').toString('base64url')]) {
      await expect(store.list(cursor, 10, NOW)).rejects.toMatchObject({ error: 'invalid_request' });
    }
  });
});
