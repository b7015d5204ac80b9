import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ChangeOrigin } from '../../core/clients/ports.js';
import type { BlockedSoftwareIds } from '../../core/registration/ports.js';
import { callAws } from '../aws-errors.js';

const SERVICE = 'the blocked software store';

/**
 * The software_id kill switch (see docs/architecture.md "Storage"):
 *   pk = "blocked#<software_id>", sk = "blocked"; blockedAt, actor, sourceIp; no TTL.
 * Registration reads it (one GetItem); the admin API writes and deletes it.
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
}
