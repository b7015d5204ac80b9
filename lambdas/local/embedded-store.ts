import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { TABLE_SCHEMA } from '../adapters/table-schema.js';

export interface EmbeddedStore {
  /** A DynamoDB SDK client talking to the embedded store. */
  readonly client: DynamoDBClient;
  readonly endpoint: string;
  close(): Promise<void>;
}

/**
 * dynalite: a DynamoDB-compatible server running in this process on a loopback port, kept on
 * disk when `path` is given (in memory otherwise). The same repository code runs against it
 * and against real DynamoDB. It never expires items, which the code enforces itself anyway.
 */
export async function startEmbeddedStore(
  tableName: string,
  path?: string,
  /** The table to create; default: this project's (the stack's definition, in stack tests). */
  definition: Omit<CreateTableCommandInput, 'TableName'> = projectTable(),
): Promise<EmbeddedStore> {
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(path && { path }),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ensureTable(client, { ...definition, TableName: tableName });
  return {
    client,
    endpoint,
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function projectTable(): Omit<CreateTableCommandInput, 'TableName'> {
  const { expiryIndex } = TABLE_SCHEMA;
  return {
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: TABLE_SCHEMA.partitionKey, AttributeType: 'S' },
      { AttributeName: TABLE_SCHEMA.sortKey, AttributeType: 'S' },
      { AttributeName: expiryIndex.partitionKey, AttributeType: 'S' },
      { AttributeName: expiryIndex.sortKey, AttributeType: 'N' },
    ],
    KeySchema: [
      { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: expiryIndex.name,
        KeySchema: [
          { AttributeName: expiryIndex.partitionKey, KeyType: 'HASH' },
          { AttributeName: expiryIndex.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ],
  };
}

async function ensureTable(client: DynamoDBClient, table: CreateTableCommandInput): Promise<void> {
  try {
    await client.send(new CreateTableCommand(table));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
}
