import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbRegistrationCounter } from '../../lambdas/adapters/dynamodb/dynamodb-registration-counter.js';
import { expiryDay } from '../../lambdas/adapters/dynamodb/table-schema.js';
import { MemoryRegistrationCounter } from '../../lambdas/adapters/memory/memory-registration-counter.js';
import { documentClient } from '../../lambdas/aws/dynamodb.js';
import {
  RegistrationRateLimiter,
  rateLimitKey,
} from '../../lambdas/core/registration/abuse-control.js';
import type { RegistrationCounter } from '../../lambdas/core/registration/ports.js';
import { newTokenId } from '../../lambdas/core/secrets.js';
import { type EmbeddedStore, startEmbeddedStore } from '../../local/embedded-store.js';
import { FakeClock } from '../support/fakes.js';

const TABLE = 'dcr-ratelimit';
let embedded: EmbeddedStore;

beforeAll(async () => {
  embedded = await startEmbeddedStore(TABLE);
});
afterAll(() => embedded.close());

const clock = new FakeClock(1_800_000_000);

describe.each([
  [
    'DynamoDbRegistrationCounter on the embedded store',
    () => new DynamoDbRegistrationCounter(documentClient(embedded.client), TABLE),
  ],
  ['MemoryRegistrationCounter', () => new MemoryRegistrationCounter(clock)],
])('%s', (_name, make: () => RegistrationCounter) => {
  it('counts concurrent hits exactly', async () => {
    const counter = make();
    const key = rateLimitKey(`test-${newTokenId()}`, clock.now());
    const counts = await Promise.all(
      Array.from({ length: 25 }, () => counter.hit(key, clock.now() + 120)),
    );
    expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  });

  it('rolls over to a new window with the clock', async () => {
    const counter = make();
    const windowClock = new FakeClock(1_800_000_000 + 30);
    const limit = new RegistrationRateLimiter(counter, windowClock, {
      limit: 2,
      windowSeconds: 60,
    });
    const ip = `198.51.100.${Math.floor(Math.random() * 250)}`;
    await limit.admit(ip);
    await limit.admit(ip);
    await expect(limit.admit(ip)).rejects.toMatchObject({
      status: 429,
      headers: { 'retry-after': '30' },
    });
    windowClock.advance(30);
    await limit.admit(ip);
    await limit.admit(ip);
    await expect(limit.admit(ip)).rejects.toMatchObject({ status: 429 });
  });
});

describe('DynamoDbRegistrationCounter', () => {
  it('stores one item per source and window that expires after it (TTL, expiry index)', async () => {
    const dynamo = documentClient(embedded.client);
    const counter = new DynamoDbRegistrationCounter(dynamo, TABLE);
    const key = rateLimitKey('192.0.2.99', 1_800_000_000);
    await counter.hit(key, 1_800_000_120);
    const { Item } = await dynamo.send(
      new GetCommand({ TableName: TABLE, Key: { pk: key, sk: 'ratelimit' } }),
    );
    expect(Item).toEqual({
      pk: 'ratelimit#192.0.2.99#1800000000',
      sk: 'ratelimit',
      hits: 1,
      ttl: 1_800_000_120,
      expiryDay: expiryDay(1_800_000_120),
    });
  });

  it('is one UpdateItem with ADD, no read, no condition', async () => {
    const dynamo = documentClient(embedded.client);
    const mock = mockClient(dynamo);
    mock.onAnyCommand().resolves({ Attributes: { hits: 7 } });
    const counter = new DynamoDbRegistrationCounter(dynamo, TABLE);
    expect(await counter.hit('ratelimit#x#1', 100)).toBe(7);
    const calls = mock.calls();
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input as Record<string, unknown>;
    expect(calls[0]?.args[0].constructor.name).toBe('UpdateCommand');
    expect(input.UpdateExpression).toMatch(/^ADD hits :one/);
    expect(input.ReturnValues).toBe('UPDATED_NEW');
    expect(input).not.toHaveProperty('ConditionExpression');
    mock.restore();
  });

  it('maps throttling to a 503 (which the limiter admits: fail-open)', async () => {
    const dynamo = documentClient(embedded.client);
    const mock = mockClient(dynamo);
    mock
      .onAnyCommand()
      .rejects(
        Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' }),
      );
    const counter = new DynamoDbRegistrationCounter(dynamo, TABLE);
    await expect(counter.hit('ratelimit#x#1', 100)).rejects.toMatchObject({ status: 503 });
    const limiter = new RegistrationRateLimiter(counter, clock, { limit: 1, windowSeconds: 60 });
    await expect(limiter.admit('192.0.2.1')).resolves.toBeUndefined();
    mock.restore();
  });
});
