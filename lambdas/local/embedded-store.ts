import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
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
  if (path !== undefined) mkdirSync(path, { recursive: true });
  const unlock = path === undefined ? () => {} : lockDataFolder(path);
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
      unlock();
    },
  };
}

/**
 * One process per data folder: dynalite's storage cannot be shared, and fails late and loudly
 * when it is. A lock file names the holder; a stale one (its process gone) is taken over.
 */
function lockDataFolder(path: string): () => void {
  const lock = join(path, 'server.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => rmSync(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(lock, 'utf8'));
      if (isRunning(holder)) {
        throw new Error(`the data folder ${path} is in use by process ${holder}`);
      }
      rmSync(lock, { force: true });
    }
  }
  throw new Error(`cannot lock the data folder ${path}`);
}

function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
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
