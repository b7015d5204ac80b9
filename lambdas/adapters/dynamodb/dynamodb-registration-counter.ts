import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { RegistrationCounter } from '../../core/registration/ports.js';
import { callAws } from '../aws-errors.js';
import { expiryAttributes } from './table-schema.js';

const SERVICE = 'the registration counter';

/**
 * Item (see docs/architecture.md "Storage"): pk = "ratelimit#<source>#<window start>", sk = "ratelimit";
 * hits (number), ttl = the window's end + a margin (and expiryDay, so cleanup deletes it).
 * One UpdateItem per anonymous registration (ADD creates the item on the first hit), returning
 * the new count: no read, no condition, no lost update under concurrency.
 */
export class DynamoDbRegistrationCounter implements RegistrationCounter {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async hit(key: string, expiresAt: number): Promise<number> {
    const { ttl, expiryDay } = expiryAttributes(expiresAt);
    const { Attributes } = await callAws(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: key, sk: 'ratelimit' },
          UpdateExpression: 'ADD hits :one SET #ttl = :ttl, expiryDay = :day',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':one': 1, ':ttl': ttl, ':day': expiryDay },
          ReturnValues: 'UPDATED_NEW',
        }),
      ),
      SERVICE,
    );
    return Number(Attributes?.hits ?? 1);
  }
}
