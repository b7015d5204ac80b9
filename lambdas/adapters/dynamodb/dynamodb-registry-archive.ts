import { type DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { encodeCursor } from '../../core/cursor.js';
import { invalidRequest } from '../../core/errors.js';
import {
  REGISTRY_PREFIXES,
  type RegistryArchive,
  type RegistryItem,
} from '../../core/operator/registry-archive.js';
import { callAws, callAwsIfCondition } from '../aws-errors.js';
import { tableKeyOf } from './dynamodb-client-repository.js';

const SERVICE = 'the registry archive';

/** Export and import of the registry's items (docs/operations.md "Backup, restore and migration to AWS"). */
export class DynamoDbRegistryArchive implements RegistryArchive {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** A consistent Scan page: every write acknowledged before the read is in it. */
  async page(cursor: string | undefined, scanLimit: number) {
    const prefixes = Object.fromEntries(REGISTRY_PREFIXES.map((p, i) => [`:p${i}`, p]));
    const { Items, LastEvaluatedKey } = await callAws(
      this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          ConsistentRead: true,
          FilterExpression: Object.keys(prefixes)
            .map((name) => `begins_with(pk, ${name})`)
            .join(' OR '),
          ExpressionAttributeValues: prefixes,
          Limit: scanLimit,
          ...(cursor !== undefined && { ExclusiveStartKey: tableKeyOf(cursor) }),
        }),
      ),
      SERVICE,
    );
    return {
      items: (Items ?? []) as RegistryItem[],
      ...(LastEvaluatedKey !== undefined && { cursor: encodeCursor(LastEvaluatedKey) }),
    };
  }

  async restore(item: RegistryItem): Promise<boolean> {
    try {
      const written = await callAwsIfCondition(
        this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
        SERVICE,
      );
      return written !== undefined;
    } catch (error) {
      // An item no export holds (a number or key out of DynamoDB's bounds): the caller's error.
      if ((error as Error).name === 'ValidationException')
        throw invalidRequest(`the store refused the item ${JSON.stringify(item.pk.slice(0, 80))}`);
      throw error;
    }
  }
}
