import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { clientItem } from '../../lambdas/adapters/dynamodb/dynamodb-client-repository.js';
import type { LambdaHandler } from '../../lambdas/http/lambda.js';
import { logger } from '../../lambdas/log.js';
import { apiEvent } from '../support/apigw.js';
import { auditedClient } from '../support/fakes.js';

const dynamo = mockClient(DynamoDBDocumentClient);
const PRINCIPAL = 'arn:aws:iam::123456789012:assumed-role/operators/alice';

let admin: LambdaHandler;

beforeAll(async () => {
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('DCR_TABLE_NAME', 'dcr-test');
  ({ handler: admin } = await import('../../lambdas/functions/admin/handler.js'));
});
beforeEach(() => {
  dynamo.reset();
  dynamo.on(GetCommand).resolves({ Item: clientItem(auditedClient()) });
});
afterEach(() => vi.restoreAllMocks());

const asOperator = (method: string, target: string, body?: unknown) => {
  const [path, query] = target.split('?') as [string, string | undefined];
  return admin(
    apiEvent(method, path, {
      principal: PRINCIPAL,
      ...(query !== undefined && { query }),
      ...(body !== undefined && { body }),
    }),
  );
};

describe('admin handler: who acted', () => {
  it('records the IAM principal on an operator deletion and logs it on the request line', async () => {
    const info = vi.spyOn(logger, 'info');
    const result = await asOperator('DELETE', '/admin/clients/c1');
    expect(result.statusCode).toBe(204);
    const [marker] = dynamo.commandCalls(UpdateCommand);
    expect(marker?.args[0].input.ExpressionAttributeValues?.[':deletion']).toEqual({
      by: 'operator',
      at: expect.any(Number),
      sourceIp: '192.0.2.1',
      actor: PRINCIPAL,
    });
    expect(dynamo.commandCalls(DeleteCommand)).toHaveLength(1);
    expect(info).toHaveBeenCalledWith('request', {
      method: 'DELETE',
      path: '/admin/clients/c1',
      status: 204,
      latencyMs: expect.any(Number),
      clientId: 'c1',
      actor: PRINCIPAL,
    });
  });

  it('records the principal on a forced rotation, and never logs the new secret', async () => {
    dynamo.on(PutCommand).resolves({});
    const info = vi.spyOn(logger, 'info');
    const result = await asOperator('POST', '/admin/clients/c1/rotate-secret', {
      grace_period_seconds: 60,
    });
    expect(result.statusCode).toBe(200);
    const item = dynamo.commandCalls(PutCommand)[0]?.args[0].input.Item;
    expect(item?.lastChange).toEqual({
      at: expect.any(Number),
      sourceIp: '192.0.2.1',
      actor: PRINCIPAL,
    });
    const secret = JSON.parse(result.body ?? '{}').client_secret;
    expect(JSON.stringify(info.mock.calls)).not.toContain(secret);
  });

  it('records the principal on every client a bulk deletion removes', async () => {
    dynamo.on(ScanCommand).resolves({
      Items: [clientItem(auditedClient()), clientItem(auditedClient({ clientId: 'c2' }))],
    });
    const result = await asOperator('POST', '/admin/bulk-delete', {
      software_id: 'sw-1',
      dry_run: false,
    });
    expect(JSON.parse(result.body ?? '{}')).toMatchObject({ matched: 2, deleted: 2 });
    const actors = dynamo
      .commandCalls(UpdateCommand)
      .map(
        (c) =>
          (
            c.args[0].input.ExpressionAttributeValues?.[':deletion'] as
              | { actor?: string }
              | undefined
          )?.actor,
      );
    expect(actors).toEqual([PRINCIPAL, PRINCIPAL]);
  });
});

describe('admin handler: statistics', () => {
  it('reads the stats items with one BatchGetItem, never a scan', async () => {
    dynamo.on(BatchGetCommand).callsFake((input) => {
      const keys = input.RequestItems['dcr-test'].Keys as { pk: string }[];
      const today = keys.at(-1)?.pk as string;
      return {
        Responses: {
          'dcr-test': [
            { pk: 'stats#active', sk: 'stats', 'active#open': 41, countingSince: 1_800_000_000 },
            { pk: today, sk: 'stats', 'registered#open': 5, expired: 'not a counter' },
          ],
        },
      };
    });
    const result = await asOperator('GET', '/admin/stats');
    expect(result.statusCode).toBe(200);
    const body = JSON.parse(result.body ?? '{}');
    expect(body).toMatchObject({
      active_clients: 41,
      active_clients_by_registration_method: { open: 41 },
      counting_since: 1_800_000_000,
    });
    expect(body.per_day).toHaveLength(30);
    expect(body.per_day.at(-1)).toMatchObject({ registered: 5, expired: 0 });
    expect(dynamo.commandCalls(ScanCommand)).toHaveLength(0);
    const [batch] = dynamo.commandCalls(BatchGetCommand);
    expect(batch?.args[0].input.RequestItems?.['dcr-test']?.Keys).toHaveLength(31);
    expect(dynamo.commandCalls(BatchGetCommand)).toHaveLength(1);
  });

  it('asks again for keys DynamoDB left unprocessed', async () => {
    dynamo
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { 'dcr-test': [] },
        UnprocessedKeys: { 'dcr-test': { Keys: [{ pk: 'stats#active', sk: 'stats' }] } },
      })
      .resolves({
        Responses: { 'dcr-test': [{ pk: 'stats#active', sk: 'stats', 'active#open': 2 }] },
      });
    const result = await asOperator('GET', '/admin/stats?days=1');
    expect(JSON.parse(result.body ?? '{}').active_clients).toBe(2);
    expect(dynamo.commandCalls(BatchGetCommand)[1]?.args[0].input.RequestItems).toEqual({
      'dcr-test': { Keys: [{ pk: 'stats#active', sk: 'stats' }] },
    });
  });

  it('refuses a window beyond what the day items keep', async () => {
    const result = await asOperator('GET', '/admin/stats?days=401');
    expect(result.statusCode).toBe(400);
  });
});
