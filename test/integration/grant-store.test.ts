import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbGrantStore } from '../../lambdas/adapters/dynamodb/dynamodb-grant-store.js';
import { MemoryGrantStore } from '../../lambdas/adapters/memory/memory-grant-store.js';
import { documentClient } from '../../lambdas/aws/dynamodb.js';
import { newTokenId } from '../../lambdas/core/secrets.js';
import type {
  AuthorizationCodeRecord,
  GrantRecord,
  GrantStore,
} from '../../lambdas/core/tokens/ports.js';
import { type EmbeddedStore, startEmbeddedStore } from '../../local/embedded-store.js';

const NOW = 1_800_000_000;
const TABLE = 'dcr-grants';

const code = (overrides: Partial<AuthorizationCodeRecord> = {}): AuthorizationCodeRecord => ({
  codeHash: newTokenId(),
  clientId: 'client-1',
  redirectUri: 'http://127.0.0.1:5000/cb',
  codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  resources: ['https://mcp.example.com/mcp'],
  scope: 'read',
  sub: 'dev:alice',
  authTime: NOW - 5,
  grantId: newTokenId(),
  issuedAt: NOW,
  expiresAt: NOW + 60,
  ...overrides,
});

const binding = (c: AuthorizationCodeRecord) => ({
  clientId: c.clientId,
  redirectUri: c.redirectUri,
  codeChallenge: c.codeChallenge,
  resources: [],
});

const grant = (overrides: Partial<GrantRecord> = {}): GrantRecord => ({
  grantId: newTokenId(),
  clientId: 'client-1',
  sub: 'dev:alice',
  scope: 'read',
  resources: ['https://mcp.example.com/mcp'],
  authTime: NOW,
  createdAt: NOW,
  absoluteExpiresAt: NOW + 86_400,
  lastUsedAt: NOW,
  generation: 1,
  currentHash: 'hash-1',
  previousHashes: [],
  ...overrides,
});

const rotation = (currentHash: string, previous: string[]) => ({
  currentHash,
  previousHashes: previous,
  generation: previous.length + 1,
  lastUsedAt: NOW + 10,
  expiresAt: NOW + 3600,
});

let embedded: EmbeddedStore;
beforeAll(async () => {
  embedded = await startEmbeddedStore(TABLE);
});
afterAll(() => embedded.close());

// The same contract, for the adapter AWS runs and the one unit tests and benchmarks use.
describe.each<[string, () => GrantStore]>([
  [
    'DynamoDbGrantStore on the embedded store',
    () => new DynamoDbGrantStore(documentClient(embedded.client), TABLE),
  ],
  ['MemoryGrantStore', () => new MemoryGrantStore()],
])('%s', (_, make) => {
  let store: GrantStore;
  beforeAll(() => {
    store = make();
  });

  it('files authorizations under their user: that user’s only, by client then newest first, at most the limit', async () => {
    const entry = (
      sub: string,
      createdAt: number,
      clientId = 'https://app.example.com/client.json',
    ) => ({
      sub,
      grantId: newTokenId(),
      clientId,
      clientName: 'App',
      redirectUri: 'http://127.0.0.1:5000/cb',
      createdAt,
    });
    const carol = [
      entry('dev:carol', NOW),
      entry('dev:carol', NOW + 20),
      entry('dev:carol', NOW + 10),
    ];
    // Another client of carol's, whose id the first one's is a prefix of.
    const other = entry('dev:carol', NOW + 30, 'https://app.example.com/client.json2');
    for (const e of [...carol, other, entry('dev:carolyn', NOW + 30), entry('carol', NOW + 40)]) {
      await store.recordUserGrant(e, NOW + 86_400);
    }
    expect(await store.userGrants('dev:carol', { limit: 10 })).toEqual([
      other,
      carol[1],
      carol[2],
      carol[0],
    ]);
    expect(await store.userGrants('dev:carol', { limit: 2 })).toEqual([other, carol[1]]);
    // One client's only (step-up), newest first.
    const clientId = 'https://app.example.com/client.json';
    expect(await store.userGrants('dev:carol', { clientId, limit: 10 })).toEqual([
      carol[1],
      carol[2],
      carol[0],
    ]);
    expect(await store.userGrants('dev:carol', { clientId, limit: 1 })).toEqual([carol[1]]);
    expect(await store.userGrants('dev:nobody', { limit: 10 })).toEqual([]);
  });

  it('answers a transaction’s consent once, even when many answers race', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () => store.consentOnce('tx-raced-0123456789ab', NOW + 600)),
    );
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    expect(await store.consentOnce('tx-another-0123456789', NOW + 600)).toBe(true);
  });

  it('spends a code made in another region only there (multi-region), and keeps it unspent elsewhere', async () => {
    const c = code({ homeRegion: 'eu-west-1' });
    await store.putCode(c);
    const elsewhere = { ...binding(c), region: 'us-east-1' };
    expect(await store.redeemCode(c.codeHash, elsewhere, NOW + 1)).toEqual({ outcome: 'refused' });
    // Refused twice, never taken for a reuse (which would revoke the grant from here).
    expect(await store.redeemCode(c.codeHash, elsewhere, NOW + 1)).toEqual({ outcome: 'refused' });
    const home = await store.redeemCode(
      c.codeHash,
      { ...binding(c), region: 'eu-west-1' },
      NOW + 1,
    );
    expect(home.outcome).toBe('redeemed');
    // A server with no region pins nothing; a code without a home region is spent anywhere.
    const unpinned = code();
    await store.putCode(unpinned);
    const anywhere = await store.redeemCode(
      unpinned.codeHash,
      { ...binding(unpinned), region: 'us-east-1' },
      NOW + 1,
    );
    expect(anywhere.outcome).toBe('redeemed');
  });

  it('redeems a code once; the second time it is recognised as reused', async () => {
    const c = code();
    await store.putCode(c);
    expect(await store.redeemCode(c.codeHash, binding(c), NOW + 1)).toEqual({
      outcome: 'redeemed',
      code: expect.objectContaining({ grantId: c.grantId, sub: 'dev:alice' }),
    });
    expect(await store.redeemCode(c.codeHash, binding(c), NOW + 2)).toMatchObject({
      outcome: 'reused',
      code: { grantId: c.grantId },
    });
  });

  it('lets exactly one of many concurrent redemptions win', async () => {
    const c = code();
    await store.putCode(c);
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () => store.redeemCode(c.codeHash, binding(c), NOW + 1)),
    );
    expect(outcomes.filter((o) => o.outcome === 'redeemed')).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'reused')).toHaveLength(7);
  });

  it.each([
    ['another client', { clientId: 'client-2' }],
    ['another redirect URI', { redirectUri: 'http://127.0.0.1:5000/other' }],
    ['another PKCE challenge', { codeChallenge: 'x'.repeat(43) }],
  ])('refuses %s and leaves the code unspent', async (_, wrong) => {
    const c = code();
    await store.putCode(c);
    expect(await store.redeemCode(c.codeHash, { ...binding(c), ...wrong }, NOW + 1)).toEqual({
      outcome: 'refused',
    });
    expect((await store.redeemCode(c.codeHash, binding(c), NOW + 1)).outcome).toBe('redeemed');
  });

  it('refuses a resource the code was not granted, says which, and leaves the code unspent', async () => {
    const c = code();
    await store.putCode(c);
    const asked = {
      ...binding(c),
      resources: ['https://mcp.example.com/mcp', 'https://other.example'],
    };
    expect(await store.redeemCode(c.codeHash, asked, NOW + 1)).toEqual({
      outcome: 'not-granted',
      resource: 'https://other.example',
    });
    const granted = { ...binding(c), resources: ['https://mcp.example.com/mcp'] };
    expect((await store.redeemCode(c.codeHash, granted, NOW + 1)).outcome).toBe('redeemed');
  });

  it('refuses an expired or unknown code', async () => {
    const c = code();
    await store.putCode(c);
    expect((await store.redeemCode(c.codeHash, binding(c), NOW + 60)).outcome).toBe('refused');
    expect((await store.redeemCode('unknown', binding(c), NOW)).outcome).toBe('refused');
  });

  it('never overwrites a code', async () => {
    const c = code();
    await store.putCode(c);
    await expect(store.putCode({ ...c, sub: 'dev:mallory' })).rejects.toThrow();
  });

  it('creates a grant once and rotates it only from its current hash', async () => {
    const g = grant();
    expect(await store.createGrant(g, NOW + 3600)).toBe(true);
    expect(await store.createGrant(g, NOW + 3600)).toBe(false);
    expect(await store.getGrant(g.grantId)).toEqual(g);
    expect(await store.rotateRefresh(g.grantId, 'stale', rotation('hash-2', ['hash-1']))).toBe(
      false,
    );
    expect(await store.rotateRefresh(g.grantId, 'hash-1', rotation('hash-2', ['hash-1']))).toBe(
      true,
    );
    expect(await store.getGrant(g.grantId)).toMatchObject({
      currentHash: 'hash-2',
      previousHashes: ['hash-1'],
      generation: 2,
      lastUsedAt: NOW + 10,
    });
  });

  it('lets exactly one of concurrent rotations of the same token win', async () => {
    const g = grant();
    await store.createGrant(g, NOW + 3600);
    const results = await Promise.all(
      ['a', 'b', 'c', 'd'].map((h) =>
        store.rotateRefresh(g.grantId, 'hash-1', rotation(h, ['hash-1'])),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('revokes a family (no rotation after), and leaves a tombstone for a grant never stored', async () => {
    const g = grant();
    await store.createGrant(g, NOW + 3600);
    await store.revokeGrant(g.grantId, NOW + 5, NOW + 700);
    expect(await store.getGrant(g.grantId)).toMatchObject({ revokedAt: NOW + 5, sub: 'dev:alice' });
    expect(await store.rotateRefresh(g.grantId, 'hash-1', rotation('x', ['hash-1']))).toBe(false);
    // Revoked again later: the first instant stays.
    await store.revokeGrant(g.grantId, NOW + 9, NOW + 700);
    expect((await store.getGrant(g.grantId))?.revokedAt).toBe(NOW + 5);

    const lone = newTokenId();
    await store.revokeGrant(lone, NOW, NOW + 700);
    expect(await store.getGrant(lone)).toEqual({ grantId: lone, revokedAt: NOW });
    expect(await store.createGrant(grant({ grantId: lone }), NOW + 3600)).toBe(false);
  });
});
