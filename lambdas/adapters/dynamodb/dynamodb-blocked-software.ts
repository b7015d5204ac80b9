import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ChangeOrigin } from '../../core/clients/ports.js';
import { encodeCursor } from '../../core/cursor.js';
import type { BlockedSoftware, BlockedSoftwareIds } from '../../core/registration/ports.js';
import { callAws } from '../aws-errors.js';
import { tableKeyOf } from './dynamodb-client-repository.js';

const SERVICE = 'the blocked software store';

/**
 * The software_id kill switch (see docs/architecture.md "Storage"):
 *   pk = "blocked#<software_id>", sk = "blocked"; blockedAt, actor, sourceIp; no TTL.
 * Registration reads it (one GetItem); the admin API writes, deletes and lists it (a Scan).
 */
export class DynamoDbBlockedSoftwareIds implements BlockedSoftwareIds {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private key(softwareId: string) {
    return { pk: `blocked#${softwareId}`, sk: 'blocked' };
  }

  async isBlocked(softwareId: string): Promise<boolean> {
    const { Item } = await callAws(
      this.client.send(new GetCommand({ TableName: this.tableName, Key: this.key(softwareId) })),
      SERVICE,
    );
    return Item !== undefined;
  }

  async block(softwareId: string, origin: ChangeOrigin): Promise<void> {
    await callAws(
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...this.key(softwareId),
            softwareId,
            blockedAt: origin.at,
            ...(origin.actor !== undefined && { actor: origin.actor }),
            ...(origin.sourceIp !== undefined && { sourceIp: origin.sourceIp }),
          },
        }),
      ),
      SERVICE,
    );
  }

  async unblock(softwareId: string): Promise<boolean> {
    const { Attributes } = await callAws(
      this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: this.key(softwareId),
          ReturnValues: 'ALL_OLD',
        }),
      ),
      SERVICE,
    );
    return Attributes !== undefined;
  }

  /** The operator's listing: a paginated Scan filtered to blocked items (occasional use only). */
  async page(cursor: string | undefined, scanLimit: number) {
    const { Items, LastEvaluatedKey } = await callAws(
      this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: 'begins_with(pk, :blocked)',
          ExpressionAttributeValues: { ':blocked': 'blocked#' },
          Limit: scanLimit,
          ...(cursor !== undefined && { ExclusiveStartKey: tableKeyOf(cursor) }),
        }),
      ),
      SERVICE,
    );
    return {
      records: (Items ?? []).map(
        (item): BlockedSoftware => ({
          softwareId: item.softwareId,
          at: item.blockedAt,
          ...(item.actor !== undefined && { actor: item.actor }),
          ...(item.sourceIp !== undefined && { sourceIp: item.sourceIp }),
        }),
      ),
      ...(LastEvaluatedKey !== undefined && { cursor: encodeCursor(LastEvaluatedKey) }),
    };
  }
}
