import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AttributeValue, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbClientRepository } from '../../lambdas/adapters/dynamodb/dynamodb-client-repository.js';
import { documentClient } from '../../lambdas/aws/dynamodb.js';
import type { ClientRecord } from '../../lambdas/core/clients/ports.js';
import { type EmbeddedStore, startEmbeddedStore } from '../../local/embedded-store.js';
import { FaultInjector } from '../support/faults.js';

const TABLE = 'dcr-integration';

const record = (clientId: string, overrides: Partial<ClientRecord> = {}): ClientRecord => ({
  clientId,
  metadata: {
    grant_types: ['client_credentials'],
    response_types: [],
    token_endpoint_auth_method: 'private_key_jwt',
    application_type: 'web',
    jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] },
    client_name: 'agent',
  },
  clientIdIssuedAt: 1_800_000_000,
  clientSecretExpiresAt: 0,
  registrationTokenHash: 'hash',
  expiresAt: 1_900_000_000,
  activeUntil: 1_900_000_000,
  version: 1,
  ...overrides,
});

describe('DynamoDbClientRepository against the embedded store', () => {
  let store: EmbeddedStore;
  let repository: DynamoDbClientRepository;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dcr-repo-'));
    store = await startEmbeddedStore(TABLE, dir);
    repository = new DynamoDbClientRepository(documentClient(store.client), TABLE);
  });

  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips a record, nested metadata included', async () => {
    await repository.create(record('round-trip'));
    expect(await repository.get('round-trip')).toEqual(record('round-trip'));
  });

  it('returns undefined for an unknown client', async () => {
    expect(await repository.get('unknown')).toBeUndefined();
  });

  it('never overwrites an existing client_id', async () => {
    await repository.create(record('taken'));
    await expect(
      repository.create(record('taken', { registrationTokenHash: 'other' })),
    ).rejects.toThrow();
    expect((await repository.get('taken'))?.registrationTokenHash).toBe('hash');
  });

  it('replaces only from the version it read', async () => {
    await repository.create(record('versioned'));
    await repository.replace(record('versioned', { version: 2, registrationTokenHash: 'v2' }));
    await expect(
      repository.replace(record('versioned', { version: 2, registrationTokenHash: 'stale' })),
    ).rejects.toMatchObject({ status: 409 });
    expect((await repository.get('versioned'))?.registrationTokenHash).toBe('v2');
  });

  it('lets exactly one of many concurrent replaces win', async () => {
    await repository.create(record('race'));
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        repository.replace(record('race', { version: 2, registrationTokenHash: `w${i}` })),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((await repository.get('race'))?.version).toBe(2);
  });

  it('refuses to replace a deleted client', async () => {
    await repository.create(record('gone'));
    await repository.delete('gone', { by: 'client', at: 1_800_000_000 });
    expect(await repository.get('gone')).toBeUndefined();
    await expect(repository.replace(record('gone', { version: 2 }))).rejects.toMatchObject({
      status: 409,
    });
  });

  it('refuses to replace a client used since it was read (its last use would be lost)', async () => {
    await repository.create(record('used-meanwhile'));
    await repository.touch('used-meanwhile', 1_800_000_100, 1_900_000_000, 1_800_000_000);
    // Read before the use: same version, no lastUsedAt.
    await expect(
      repository.replace(record('used-meanwhile', { version: 2 })),
    ).rejects.toMatchObject({
      status: 409,
    });
    await repository.replace(record('used-meanwhile', { version: 2, lastUsedAt: 1_800_000_100 }));
    expect(await repository.get('used-meanwhile')).toMatchObject({
      version: 2,
      lastUsedAt: 1_800_000_100,
    });
  });

  it('refuses to replace a client marked deleted whose removal has not happened (yet)', async () => {
    await repository.create(record('half-gone'));
    const faults = new FaultInjector();
    faults.attach(store.client);
    faults.fail('DeleteItem', 'TimeoutError');
    const deletion = { by: 'client' as const, at: 1_800_000_000 };
    await expect(repository.delete('half-gone', deletion)).rejects.toMatchObject({ status: 503 });
    // An update that read the client before the marker: its version still matches.
    await expect(repository.replace(record('half-gone', { version: 2 }))).rejects.toMatchObject({
      status: 409,
    });
    expect(await repository.get('half-gone')).toMatchObject({ version: 1, deletion });
  });

  it('refuses a second store on a data folder in use, with a clear message', async () => {
    await expect(startEmbeddedStore(TABLE, dir)).rejects.toThrow(
      `the data folder ${dir} is in use by another server (its store's lock, ${join(dir, 'LOCK')}, is held)`,
    );
  });

  it('keeps data on disk across a restart of the store', async () => {
    await repository.create(record('durable'));
    await store.close();
    store = await startEmbeddedStore(TABLE, dir);
    repository = new DynamoDbClientRepository(documentClient(store.client), TABLE);
    expect((await repository.get('durable'))?.clientId).toBe('durable');
  });

  it('records a use once per interval and moves the TTL, without touching the version', async () => {
    await repository.create(record('used', { activeUntil: 1_800_086_400 }));
    await repository.touch('used', 1_800_000_100, 1_807_776_100, 1_800_000_100 - 300);
    // Within the interval: refused by the condition, the first write stands.
    await repository.touch('used', 1_800_000_200, 1_807_776_200, 1_800_000_200 - 300);
    const { Item } = await store.client.send(
      new GetItemCommand({
        TableName: TABLE,
        Key: { pk: { S: 'client#used' }, sk: { S: 'client' } },
      }),
    );
    expect(Item).toMatchObject({
      lastUsedAt: { N: '1800000100' },
      activeUntil: { N: '1807776100' },
      ttl: { N: '1807776100' },
      expiryDay: { S: 'expiry#2027-04-15' },
      version: { N: '1' },
    });
    // A deleted client is not brought back by a late use.
    await repository.delete('used', { by: 'operator', at: 1_800_000_500 });
    await repository.touch('used', 1_800_001_000, 1_807_777_000, 1_800_000_700);
    expect(await repository.get('used')).toBeUndefined();
  });

  it('sets the TTL attribute to the instant the client stops existing', async () => {
    await repository.create(record('ttl', { activeUntil: 1_850_000_000 }));
    const { Item } = await store.client.send(
      new GetItemCommand({
        TableName: TABLE,
        Key: { pk: { S: 'client#ttl' }, sk: { S: 'client' } },
      }),
    );
    expect(Item?.ttl).toEqual({ N: '1850000000' });
  });

  it('turns a throw inside the store into a failed request, not a crash of the process', async () => {
    // dynalite's validation recurses once per level: a map nested this deep overflows its stack.
    let nested: AttributeValue = { S: 'x' };
    for (let i = 0; i < 1000; i++) nested = { M: { a: nested } };
    await expect(
      store.client.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { pk: { S: 'client#deep' }, sk: { S: 'client' }, nested },
        }),
      ),
    ).rejects.toThrow();
    await repository.create(record('after-deep'));
    expect(await repository.get('after-deep')).toMatchObject({ clientId: 'after-deep' });
  });
});
