import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbTrustedIssuers } from '../../lambdas/adapters/dynamodb/dynamodb-trusted-issuers.js';
import { documentClient } from '../../lambdas/aws/dynamodb.js';
import type { StoredTrustedIssuer } from '../../lambdas/core/federation/ports.js';
import { type EmbeddedStore, startEmbeddedStore } from '../../local/embedded-store.js';

/**
 * Stored trusted issuers in the table: a removal marks who removes the issuer, then deletes it
 * only if it is still the item it marked, so the stream's removal record names the remover and
 * a replacement made in between is never removed unseen.
 */
const TABLE = 'trusted-issuers-test';
const ISSUER = 'https://ci.example';
let store: EmbeddedStore;
let dynamo: ReturnType<typeof documentClient>;

beforeAll(async () => {
  // Conditional writes are what is under test, not durability: the store lives in memory.
  store = await startEmbeddedStore(TABLE);
  dynamo = documentClient(store.client);
});
afterAll(() => store.close());

const record = (scope: string, at: number): StoredTrustedIssuer => ({
  issuer: ISSUER,
  definition: { kind: 'workload', jwks_uri: `${ISSUER}/jwks`, rules: [{ scope }] },
  updated: { at, actor: 'admin-token', sourceIp: '127.0.0.1' },
});

describe('DynamoDbTrustedIssuers', () => {
  it('a removal returns what it removed, marked with who removed it; a second finds nothing', async () => {
    const issuers = new DynamoDbTrustedIssuers(dynamo, TABLE);
    expect(await issuers.put(record('read', 100))).toBeUndefined();
    expect(await issuers.put(record('write', 200))).toEqual(record('read', 100));
    const removed = await issuers.remove(ISSUER, { at: 300, actor: 'arn:aws:iam::1:role/ops' });
    expect(removed).toEqual({
      ...record('write', 200),
      removed: { at: 300, actor: 'arn:aws:iam::1:role/ops' },
    });
    expect(await issuers.get(ISSUER)).toBeUndefined();
    expect(await issuers.remove(ISSUER, { at: 301 })).toBeUndefined();
  });

  it('a replacement put between the mark and the delete is kept, and the removal answers 409', async () => {
    // A client whose marking write lets another operator's replacement land right after it.
    const racing = Object.create(dynamo) as typeof dynamo;
    const issuers = new DynamoDbTrustedIssuers(racing, TABLE);
    const other = new DynamoDbTrustedIssuers(dynamo, TABLE);
    racing.send = (async (command: unknown) => {
      const output = await dynamo.send(command as never);
      if (command instanceof UpdateCommand) await other.put(record('replaced', 400));
      return output;
    }) as typeof dynamo.send;
    await other.put(record('read', 100));
    await expect(issuers.remove(ISSUER, { at: 300 })).rejects.toMatchObject({
      status: 409,
      error: 'invalid_request',
    });
    expect(await other.get(ISSUER)).toEqual(record('replaced', 400));
  });
});
