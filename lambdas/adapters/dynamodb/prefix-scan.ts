import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { encodeCursor } from '../../core/cursor.js';
import { callAws } from '../aws-errors.js';
import { tableKeyOf } from './dynamodb-client-repository.js';

/**
 * One page of an operator's listing of the items whose partition key starts with `prefix`: a
 * Scan filtered to them (occasional use only), `scanLimit` items read per page whatever matches.
 */
export async function prefixScanPage<T>(
  client: DynamoDBDocumentClient,
  tableName: string,
  prefix: string,
  page: { readonly cursor: string | undefined; readonly scanLimit: number },
  service: string,
  recordOf: (item: Record<string, unknown>) => T,
): Promise<{ records: T[]; cursor?: string }> {
  const { Items, LastEvaluatedKey } = await callAws(
    client.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: 'begins_with(pk, :prefix)',
        ExpressionAttributeValues: { ':prefix': prefix },
        Limit: page.scanLimit,
        ...(page.cursor !== undefined && { ExclusiveStartKey: tableKeyOf(page.cursor) }),
      }),
    ),
    service,
  );
  return {
    records: (Items ?? []).map(recordOf),
    ...(LastEvaluatedKey !== undefined && { cursor: encodeCursor(LastEvaluatedKey) }),
  };
}
