import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ChangeOrigin } from '../../core/clients/ports.js';
import type { BlockedSoftware, BlockedSoftwareIds } from '../../core/registration/ports.js';
import { callAws } from '../aws-errors.js';
import { prefixScanPage } from './prefix-scan.js';

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
  page(cursor: string | undefined, scanLimit: number) {
    const page = { cursor, scanLimit };
    return prefixScanPage(this.client, this.tableName, 'blocked#', page, SERVICE, blockedOf);
  }
}

const blockedOf = (item: Record<string, unknown>): BlockedSoftware => ({
  softwareId: item.softwareId as string,
  at: item.blockedAt as number,
  ...(item.actor !== undefined && { actor: item.actor as string }),
  ...(item.sourceIp !== undefined && { sourceIp: item.sourceIp as string }),
});
