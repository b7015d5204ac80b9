import { createHash } from 'node:crypto';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { clientItem } from '../../lambdas/adapters/dynamodb/dynamodb-client-repository.js';
import { auditedClient } from '../support/fakes.js';

const eventBridge = mockClient(EventBridgeClient);
const dynamo = mockClient(DynamoDBDocumentClient);
let handler: (event: DynamoDBStreamEvent) => Promise<void>;

beforeAll(async () => {
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('DCR_AUDIT_BUS_NAME', 'dcr-audit');
  vi.stubEnv('DCR_TABLE_NAME', 'dcr-test');
  ({ handler } = await import('../../lambdas/functions/audit/handler.js'));
});
beforeEach(() => {
  eventBridge.reset();
  dynamo.reset();
  dynamo.on(UpdateCommand).resolves({});
});

const client = auditedClient({
  secretHash: 'secret-hash',
  activeUntil: 1_800_086_400,
  metadata: { ...auditedClient().metadata, software_id: undefined },
});

const image = (record: object) => marshall(record, { removeUndefinedValues: true }) as never;

function streamRecord(
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE',
  item: { pk: string } & Record<string, unknown>,
  images: { old?: object; new?: object },
  extra: Partial<DynamoDBRecord> = {},
): DynamoDBRecord {
  return {
    eventName,
    dynamodb: {
      Keys: image({ pk: item.pk, sk: item.sk }),
      ...(images.old && { OldImage: image(images.old) }),
      ...(images.new && { NewImage: image(images.new) }),
      ApproximateCreationDateTime: 1_800_090_000,
    },
    ...extra,
  };
}

describe('audit stream handler', () => {
  it('turns client changes into EventBridge events, a TTL deletion into client.expired', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const item = clientItem(client);
    await handler({
      Records: [
        streamRecord('INSERT', item, { new: item }),
        streamRecord('MODIFY', { pk: 'revoked#j', sk: 'revoked' }, { new: { pk: 'revoked#j' } }),
        streamRecord(
          'REMOVE',
          item,
          { old: item },
          // What DynamoDB's TTL deletions look like in the stream.
          { userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' } },
        ),
      ],
    });
    const entries = eventBridge
      .commandCalls(PutEventsCommand)
      .flatMap((c) => c.args[0].input.Entries ?? []);
    expect(entries.map((e) => e.DetailType)).toEqual(['client.registered', 'client.expired']);
    expect(entries[0]).toMatchObject({ EventBusName: 'dcr-audit', Source: 'serverless-dcr' });
    const detail = JSON.parse(entries[0]?.Detail as string);
    expect(detail).toMatchObject({ client_id: 'c1', client_name: 'agent', source_ip: '192.0.2.1' });
    for (const entry of entries) {
      expect(entry.Detail).not.toContain('secret-hash');
      expect(entry.Detail).not.toContain('rat-hash');
    }
  });

  it('counts the batch after publishing it: one atomic ADD per statistics item', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const principal = 'arn:aws:iam::123456789012:user/alice';
    const inserted = (id: string) => {
      const item = clientItem({ ...client, clientId: id });
      return streamRecord('INSERT', item, { new: item });
    };
    const removed = clientItem({
      ...client,
      clientId: 'c3',
      deletion: { by: 'operator', at: 1_800_089_999, sourceIp: '192.0.2.7', actor: principal },
    });
    await handler({
      Records: [inserted('c1'), inserted('c2'), streamRecord('REMOVE', removed, { old: removed })],
    });
    const detail = eventBridge
      .commandCalls(PutEventsCommand)
      .flatMap((c) => c.args[0].input.Entries ?? [])
      .map((e) => JSON.parse(e.Detail as string))
      .find((d) => d.type === 'client.deleted_by_operator');
    expect(detail).toMatchObject({ client_id: 'c3', actor: principal, source_ip: '192.0.2.7' });

    const updates = dynamo.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(updates).toHaveLength(2);
    // 1_800_090_000 is 2027-01-16T09:00:00Z; the day item is kept 400 days after that day.
    const dayTtl = Date.parse('2027-01-16T00:00:00Z') / 1000 + 401 * 86_400;
    expect(updates).toContainEqual({
      TableName: 'dcr-test',
      Key: { pk: 'stats#day#2027-01-16', sk: 'stats' },
      UpdateExpression: 'ADD #c0 :c0, #c1 :c1 SET #ttl = :ttl, expiryDay = :expiryDay',
      ExpressionAttributeNames: {
        '#c0': 'registered#open',
        '#c1': 'deleted_by_operator#open',
        '#ttl': 'ttl',
      },
      ExpressionAttributeValues: {
        ':c0': 2,
        ':c1': 1,
        ':ttl': dayTtl,
        ':expiryDay': `expiry#${new Date(dayTtl * 1000).toISOString().slice(0, 10)}`,
      },
    });
    expect(updates).toContainEqual({
      TableName: 'dcr-test',
      Key: { pk: 'stats#active', sk: 'stats' },
      UpdateExpression: 'ADD #c0 :c0 SET countingSince = if_not_exists(countingSince, :at)',
      ExpressionAttributeNames: { '#c0': 'active#open' },
      ExpressionAttributeValues: { ':c0': 1, ':at': 1_800_090_000 },
    });
  });

  it("gives back the cap places of a client that left: its token's and its software_id's", async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const capped = clientItem({
      ...client,
      clientId: 'c4',
      initialAccessTokenId: 'token-1',
      countedSoftwareId: 'fleet',
    });
    const uncapped = clientItem({ ...client, clientId: 'c5' });
    await handler({
      Records: [
        streamRecord('INSERT', capped, { new: capped }),
        streamRecord('REMOVE', capped, { old: capped }),
        streamRecord('REMOVE', uncapped, { old: uncapped }),
      ],
    });
    const releases = dynamo
      .commandCalls(UpdateCommand)
      .map((c) => c.args[0].input)
      .filter((input) => !String(input.Key?.pk).startsWith('stats#'));
    expect(releases).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Key: { pk: 'iat#token-1', sk: 'iat' },
          UpdateExpression: 'ADD activeClients :less',
          ConditionExpression: 'attribute_exists(pk) AND activeClients > :none',
        }),
        expect.objectContaining({
          Key: { pk: 'software#fleet', sk: 'software' },
          UpdateExpression: 'ADD activeClients :less',
          ConditionExpression: 'activeClients > :none',
        }),
      ]),
    );
    expect(releases).toHaveLength(2);
  });

  it('fails the batch when the counters cannot be written, so Lambda retries it', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    dynamo
      .on(UpdateCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const item = clientItem(client);
    await expect(
      handler({ Records: [streamRecord('INSERT', item, { new: item })] }),
    ).rejects.toThrow(/statistics store is busy/);
  });

  it('counts refresh token families per client: created, and first rotated; a tombstone or a later rotation not', async () => {
    const grant = (generation: number) => ({
      pk: 'grant#g1',
      sk: 'grant',
      clientId: 'c9',
      generation,
      currentHash: `h${generation}`,
    });
    await handler({
      Records: [
        streamRecord('INSERT', grant(1), { new: grant(1) }),
        streamRecord('MODIFY', grant(2), { old: grant(1), new: grant(2) }),
        // The revocation of a family at generation 2: no new use.
        streamRecord('MODIFY', grant(2), { old: grant(2), new: { ...grant(2), revokedAt: 5 } }),
        // A revocation tombstone (a code replayed before the family existed): no client.
        streamRecord('INSERT', { pk: 'grant#g2' }, { new: { pk: 'grant#g2', revokedAt: 5 } }),
      ],
    });
    const updates = dynamo.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(updates).toEqual([
      expect.objectContaining({
        Key: { pk: 'stats#client#c9', sk: 'stats' },
        UpdateExpression: expect.stringMatching(/^ADD #c0 :c0, #c1 :c1 SET /),
        ExpressionAttributeNames: expect.objectContaining({
          '#c0': 'refresh_families',
          '#c1': 'refresh_families_used',
        }),
        ExpressionAttributeValues: expect.objectContaining({ ':c0': 1, ':c1': 1 }),
      }),
    ]);
  });

  it('publishes the tokens that spent assertions and exchanges carry, and sums each federated subject once per batch', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const sub = 'https://ci.example#repo:acme/app:ref:refs/heads/main';
    const issued = (jti: string, at: number, scope: string) => ({
      type: 'token.workload_identity',
      issuer: 'https://ci.example',
      issuer_kind: 'workload',
      rule: 2,
      sub,
      client_id: sub,
      aud: 'https://mcp.example/',
      scope,
      jti,
      exp: at + 600,
      assertion_jti: `a-${jti}`,
      occurred_at: at,
    });
    const spent = (event: Record<string, unknown>) => {
      const item = {
        pk: `federated#https://ci.example#a-${event.jti}`,
        sk: 'federated',
        event: JSON.stringify(event),
      };
      return streamRecord('INSERT', item, { new: item });
    };
    const exchanged = {
      type: 'token.exchanged',
      sub,
      client_id: 'rs-a',
      aud: 'https://b.example/',
      act: { sub: 'rs-a' },
      jti: 'x1',
      exp: 1_800_090_600,
      subject_jti: 't2',
      subject_client_id: sub,
      occurred_at: 1_800_090_010,
    };
    const exchangeItem = { pk: 'exchange#x1', sk: 'exchange', event: JSON.stringify(exchanged) };
    const expired = { pk: 'federated#https://ci.example#a-t0', sk: 'federated', event: '{}' };
    await handler({
      Records: [
        spent(issued('t1', 1_800_090_000, 'tools:read')),
        spent(issued('t2', 1_800_090_005, 'tools:write')),
        streamRecord('INSERT', exchangeItem, { new: exchangeItem }),
        // Its TTL's removal is no event.
        streamRecord('REMOVE', expired, { old: expired }),
      ],
    });
    const entries = eventBridge
      .commandCalls(PutEventsCommand)
      .flatMap((c) => c.args[0].input.Entries ?? []);
    expect(entries.map((e) => [e.DetailType, JSON.parse(e.Detail as string).jti])).toEqual([
      ['token.workload_identity', 't1'],
      ['token.workload_identity', 't2'],
      ['token.exchanged', 'x1'],
    ]);
    expect(JSON.parse(entries[2]?.Detail as string)).toEqual(exchanged);
    // One write for the subject: two tokens, the later one's facts (the exchange is not counted).
    const updates = dynamo.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({
      Key: { pk: 'stats#federated', sk: sub },
      ExpressionAttributeValues: {
        ':n': 2,
        ':first': 1_800_090_000,
        ':last': 1_800_090_005,
        ':rule': 2,
        ':scope': 'tools:write',
        ':ttl': 1_800_090_005 + 30 * 86_400,
      },
    });
  });

  it('publishes the operator’s changes to stored trusted issuers: who, the keys’ place, the rules digested; the removal mark and an unchanged replacement are none', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const issuer = 'https://ci.example';
    const definition = (scope: string) =>
      JSON.stringify({
        kind: 'workload',
        jwks_uri: 'https://ci.example/jwks',
        rules: [{ claims: { sub: 'repo:acme/app' }, scope, resources: ['https://mcp.example/'] }],
      });
    const item = (scope: string, at: number, extra: Record<string, unknown> = {}) => ({
      pk: `trusted-issuer#${issuer}`,
      sk: 'trusted-issuer',
      issuer,
      definition: definition(scope),
      updatedAt: at,
      actor: 'arn:aws:iam::1:role/ops',
      sourceIp: '192.0.2.1',
      ...extra,
    });
    const created = item('read', 1_800_090_000);
    const replaced = item('read write', 1_800_090_100);
    const touched = item('read write', 1_800_090_200);
    const marked = item('read write', 1_800_090_200, {
      removal: { id: 'r1', at: 1_800_090_300, actor: 'arn:aws:iam::1:role/other' },
    });
    await handler({
      Records: [
        streamRecord('INSERT', created, { new: created }),
        streamRecord('MODIFY', created, { old: created, new: replaced }),
        streamRecord('MODIFY', replaced, { old: replaced, new: touched }),
        streamRecord('MODIFY', touched, { old: touched, new: marked }),
        streamRecord('REMOVE', marked, { old: marked }),
      ],
    });
    const entries = eventBridge
      .commandCalls(PutEventsCommand)
      .flatMap((c) => c.args[0].input.Entries ?? []);
    const digest = (scope: string) =>
      createHash('sha256')
        .update(JSON.stringify(JSON.parse(definition(scope)).rules))
        .digest('base64url');
    const common = {
      issuer,
      issuer_kind: 'workload',
      jwks_uri: 'https://ci.example/jwks',
      rules: 1,
    };
    expect(entries.map((e) => [e.DetailType, JSON.parse(e.Detail as string)])).toEqual([
      [
        'trusted_issuer.created',
        {
          type: 'trusted_issuer.created',
          ...common,
          rules_digest: digest('read'),
          actor: 'arn:aws:iam::1:role/ops',
          source_ip: '192.0.2.1',
          occurred_at: 1_800_090_000,
        },
      ],
      [
        'trusted_issuer.updated',
        {
          type: 'trusted_issuer.updated',
          ...common,
          rules_digest: digest('read write'),
          previous_rules_digest: digest('read'),
          actor: 'arn:aws:iam::1:role/ops',
          source_ip: '192.0.2.1',
          occurred_at: 1_800_090_100,
        },
      ],
      [
        'trusted_issuer.deleted',
        {
          type: 'trusted_issuer.deleted',
          ...common,
          rules_digest: digest('read write'),
          actor: 'arn:aws:iam::1:role/other',
          occurred_at: 1_800_090_300,
        },
      ],
    ]);
  });

  it('writes no counter for changes that are not events', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const item = clientItem(client);
    const used = { ...item, lastUsedAt: 1_800_090_000 };
    await handler({ Records: [streamRecord('MODIFY', item, { old: item, new: used })] });
    expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('sends at most 10 entries per call', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const records = Array.from({ length: 23 }, (_, i) => {
      const item = clientItem({ ...client, clientId: `c${i}` });
      return streamRecord('INSERT', item, { new: item });
    });
    await handler({ Records: records });
    const sizes = eventBridge
      .commandCalls(PutEventsCommand)
      .map((c) => c.args[0].input.Entries?.length);
    expect(sizes).toEqual([10, 10, 3]);
  });

  it('fails the batch when EventBridge refuses entries, so Lambda retries it', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [] });
    const item = clientItem(client);
    await expect(
      handler({ Records: [streamRecord('INSERT', item, { new: item })] }),
    ).rejects.toThrow(/refused/);
  });
});
