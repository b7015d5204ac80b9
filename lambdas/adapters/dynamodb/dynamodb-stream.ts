import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import type { ClientChange } from '../../core/operator/audit.js';
import { toRecord } from './dynamodb-client-repository.js';

type Image = Record<string, AttributeValue>;

/** The client changes in a DynamoDB stream batch (other items — tokens, cursor — are skipped). */
export function clientChanges(event: DynamoDBStreamEvent): ClientChange[] {
  const changes: ClientChange[] = [];
  for (const record of event.Records) {
    const data = record.dynamodb;
    const kind = record.eventName;
    if (!data || !kind || !data.Keys?.pk?.S?.startsWith('client#')) continue;
    const image = (value: unknown) =>
      value === undefined ? undefined : toRecord(unmarshall(value as Image));
    const oldImage = image(data.OldImage);
    const newImage = image(data.NewImage);
    changes.push({
      kind,
      ...(oldImage && { oldImage }),
      ...(newImage && { newImage }),
      at: Math.floor(data.ApproximateCreationDateTime ?? Date.now() / 1000),
    });
  }
  return changes;
}
