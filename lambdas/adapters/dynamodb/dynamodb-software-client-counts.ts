import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SoftwareClientCounts } from '../../core/registration/ports.js';
import { callAwsIfCondition } from '../aws-errors.js';
import { expiryAttributes } from './table-schema.js';

const SERVICE = 'the software client counts';

/**
 * Item (see docs/architecture.md "Storage"): pk = "software#<software_id>", sk = "software"; activeClients
 * (number), and ttl (with expiryDay) = the latest claim's `keepUntil`, when there is one: by
 * then every client it counts has expired, so the item goes with them.
 */
const key = (softwareId: string) => ({ pk: `software#${softwareId}`, sk: 'software' });

export class DynamoDbSoftwareClientCounts implements SoftwareClientCounts {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** One conditional atomic add: below the cap, or refused (no read, no lost update). */
  async claim(softwareId: string, cap: number, keepUntil?: number): Promise<boolean> {
    const expiry = keepUntil === undefined ? undefined : expiryAttributes(keepUntil);
    const claimed = await callAwsIfCondition(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(softwareId),
          UpdateExpression: `ADD activeClients :one${expiry ? ' SET #ttl = :ttl, expiryDay = :day' : ''}`,
          ConditionExpression: 'attribute_not_exists(activeClients) OR activeClients < :cap',
          ExpressionAttributeValues: {
            ':one': 1,
            ':cap': cap,
            ...(expiry && { ':ttl': expiry.ttl, ':day': expiry.expiryDay }),
          },
          ...(expiry && { ExpressionAttributeNames: { '#ttl': 'ttl' } }),
        }),
      ),
      SERVICE,
    );
    return claimed !== undefined;
  }

  async release(softwareId: string): Promise<void> {
    await callAwsIfCondition(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(softwareId),
          UpdateExpression: 'ADD activeClients :less',
          ConditionExpression: 'activeClients > :none',
          ExpressionAttributeValues: { ':less': -1, ':none': 0 },
        }),
      ),
      SERVICE,
    );
  }
}
