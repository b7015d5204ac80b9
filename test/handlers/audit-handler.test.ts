import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { clientItem } from '../../lambdas/adapters/dynamodb-client-repository.js';
import { auditedClient } from '../support/fakes.js';

const eventBridge = mockClient(EventBridgeClient);
let handler: (event: DynamoDBStreamEvent) => Promise<void>;

beforeAll(async () => {
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('DCR_AUDIT_BUS_NAME', 'dcr-audit');
  ({ handler } = await import('../../lambdas/audit/handler.js'));
});
beforeEach(() => eventBridge.reset());

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
