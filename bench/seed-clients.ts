import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { clientItem } from '../lambdas/adapters/dynamodb/dynamodb-client-repository.js';
import type { ClientRecord } from '../lambdas/core/clients/ports.js';

const DAY = 86_400;

/** The i-th benchmark client, registered a day before `now`. */
export const benchClient = (
  i: number,
  now: number,
  overrides: Partial<ClientRecord> = {},
): ClientRecord => ({
  clientId: `bench-${i}`,
  metadata: {
    grant_types: ['client_credentials'],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
    application_type: 'web',
    client_name: `agent ${i}`,
  },
  clientIdIssuedAt: now - DAY,
  secretHash: 'x'.repeat(43),
  clientSecretExpiresAt: 0,
  registrationTokenHash: 'y'.repeat(43),
  version: 1,
  ...overrides,
});

/** Writes `total` client items straight into the table (25 per BatchWriteItem, 8 at a time). */
export async function seedClients(
  dynamo: DynamoDBDocumentClient,
  table: string,
  total: number,
  record: (i: number) => ClientRecord,
): Promise<void> {
  for (let start = 0; start < total; start += 25 * 8) {
    await Promise.all(
      Array.from({ length: 8 }, (_, b) => {
        const from = start + b * 25;
        const items = Array.from({ length: Math.max(0, Math.min(25, total - from)) }, (_, i) =>
          clientItem(record(from + i)),
        );
        return items.length === 0
          ? undefined
          : dynamo.send(
              new BatchWriteCommand({
                RequestItems: { [table]: items.map((Item) => ({ PutRequest: { Item } })) },
              }),
            );
      }),
    );
  }
}
