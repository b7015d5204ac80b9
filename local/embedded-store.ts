import { EventEmitter } from 'node:events';
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
// Types only (the SDK's own request handler contract), nothing loaded at run time.
import type { HttpHandlerOptions, HttpRequest, HttpResponse, RequestHandler } from '@smithy/types';
import dynalite from 'dynalite';
import { TABLE_SCHEMA } from '../lambdas/adapters/dynamodb/table-schema.js';
import {
  checkStore,
  GuardedLevel,
  type LevelDatabase,
  markCleanStop,
  openLevel,
  syncEveryWrite,
} from './level-storage.js';

export interface EmbeddedStore {
  /** A DynamoDB SDK client talking to the embedded store, in process. */
  readonly client: DynamoDBClient;
  /**
   * dynalite's HTTP request listener. For the stack emulation tests only
   * (test/support/synthesized-stack.ts): their bundled handlers run in worker threads and reach
   * DynamoDB over HTTP, so they serve it on a loopback port. Nothing else may: dynalite accepts
   * any credentials and answers any Origin, so any local process or web page could use it.
   */
  readonly listener: RequestListener;
  /** False after a crash, a kill or a store failure: counters kept off the request path may be off. */
  readonly previousStopClean: boolean;
  /**
   * After an unclean stop, says that what it can leave behind has been reconciled: this store's
   * clean close then marks the stop clean again. Until then a clean close keeps it unclean, so a
   * tool that opens the store in between (npm run cleanup) does not hide it from the server.
   */
  reconciled(): void;
  /** Rewrites the store's files without what deleted and replaced items left behind. */
  compact(): Promise<void>;
  close(): Promise<void>;
}

export interface EmbeddedStoreOptions {
  /** The table to create; default: this project's (the stack's definition, in stack tests). */
  readonly definition?: Omit<CreateTableCommandInput, 'TableName'>;
  /** On disk only: fsync every write before it is acknowledged (default true). */
  readonly syncWrites?: boolean;
  /** Tests: sees the LevelDB database before it opens (to make its disk fail beneath it). */
  readonly instrumentStorage?: (db: LevelDatabase) => void;
}

/**
 * dynalite: a DynamoDB-compatible store driven in this process, with no socket and no port,
 * kept on disk when `path` is given (in memory otherwise). The same repository code runs against
 * it and against real DynamoDB. It never expires items, which the code enforces itself anyway.
 */
export async function startEmbeddedStore(
  tableName: string,
  path?: string,
  options: EmbeddedStoreOptions = {},
): Promise<EmbeddedStore> {
  // Only this user may read the store (client secrets' hashes) or take its lock.
  if (path !== undefined) {
    mkdirSync(path, { recursive: true, mode: 0o700 });
    chmodSync(path, 0o700);
    // Earlier versions' lock file, which named a process: LevelDB's own lock replaces it.
    rmSync(join(path, 'server.lock'), { force: true });
  }
  // Before dynalite: its LevelDB starts opening as soon as it exists.
  const { fresh } = path === undefined ? { fresh: true } : await checkStore(path);
  const { listener, database } = openDynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(path && { path }),
  });
  let guard: GuardedLevel | undefined;
  let previousStopClean = true;
  let consistent = true;
  if (path !== undefined) {
    const db = database.db as LevelDatabase;
    options.instrumentStorage?.(db);
    if (options.syncWrites ?? true) syncEveryWrite(db);
    ({ previousStopClean } = await openLevel(db, path, fresh));
    consistent = previousStopClean;
    guard = new GuardedLevel(db, path);
  }
  const client = new DynamoDBClient({
    // Never dialled (the handler answers every request); `.invalid` cannot resolve anyway.
    endpoint: 'http://embedded-store.invalid',
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    requestHandler: new InProcessHandler(listener),
  });
  const close = async () => {
    client.destroy();
    await guard?.stop();
    await database.lifecycleManager.gracefulClose();
    if (path !== undefined && consistent && guard?.troubled === false) markCleanStop(path);
  };
  try {
    await ensureTable(client, { ...(options.definition ?? projectTable()), TableName: tableName });
  } catch (error) {
    await close();
    throw error;
  }
  return {
    client,
    listener,
    previousStopClean,
    reconciled: () => {
      consistent = true;
    },
    compact: () => guard?.compact('cleanup') ?? Promise.resolve(),
    close,
  };
}

/** The parts of dynalite's internal store we use: its LevelDB, and closing it. */
interface DynaliteDatabase {
  readonly db: unknown;
  readonly lifecycleManager: { gracefulClose(): Promise<void> };
}

/** `npm start`'s and `npm run cleanup`'s data folder unless DCR_DATA_DIR says otherwise: `.dcr-data/` in the repository (git-ignored). */
export const DEFAULT_DATA_DIR = fileURLToPath(new URL('../.dcr-data', import.meta.url));

const dynaliteDb = createRequire(import.meta.url)('dynalite/db') as {
  create(options: object): DynaliteDatabase;
};

/**
 * dynalite(options) returns an http.Server whose 'request' listener does all the work: we take
 * the listener and never call listen. Its close() closes the database only after closing a
 * listening server, so catch the database dynalite creates (with its db module's `create`,
 * looked up at call time) and close that ourselves.
 */
function openDynalite(options: Parameters<typeof dynalite>[0]) {
  const create = dynaliteDb.create;
  let database: DynaliteDatabase | undefined;
  dynaliteDb.create = (o) => {
    database = create(o);
    return database;
  };
  try {
    const [listener] = dynalite(options).listeners('request') as [RequestListener];
    if (database === undefined || listener === undefined) {
      throw new Error('dynalite did not build its store as expected');
    }
    return { listener, database };
  } finally {
    dynaliteDb.create = create;
  }
}

/**
 * The SDK's request handler, answering from dynalite's listener in process. The request is an
 * event emitter carrying method, url and lower-case headers, whose body this handler emits
 * itself (all the listener reads of it), and the response a small object collecting
 * statusCode, setHeader and end (all it calls). Simpler and cheaper than node:http's
 * IncomingMessage/ServerResponse on a stub socket, which would write the response as HTTP bytes
 * only for us to parse them back.
 */
class InProcessHandler implements RequestHandler<HttpRequest, HttpResponse, HttpHandlerOptions> {
  readonly metadata = { handlerProtocol: 'in-process' };

  constructor(private readonly listener: RequestListener) {}

  handle(
    request: HttpRequest,
    options: HttpHandlerOptions = {},
  ): Promise<{ response: HttpResponse }> {
    if (options.abortSignal?.aborted) {
      return Promise.reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      headers[name.toLowerCase()] = value;
    }
    const req = Object.assign(new EventEmitter(), {
      method: request.method,
      url: request.path,
      headers,
    });
    return new Promise((resolve, reject) => {
      const responseHeaders: Record<string, string> = {};
      const res = {
        statusCode: 200,
        setHeader(name: string, value: number | string) {
          responseHeaders[name.toLowerCase()] = String(value);
        },
        end(chunk?: string) {
          resolve({
            response: {
              statusCode: res.statusCode,
              headers: responseHeaders,
              body: Buffer.from(chunk ?? ''),
            },
          });
        },
      };
      // dynalite validates and parses the request synchronously in its 'end' listener, and
      // throws there on input it cannot handle (a stack overflow on deeply nested items): a
      // stream emitting the body would make that an uncaught exception that ends the process.
      // Emitted here, the throw fails this one request.
      try {
        this.listener(req as unknown as IncomingMessage, res as unknown as ServerResponse);
        if (request.body !== undefined) req.emit('data', bytes(request.body));
        req.emit('end');
      } catch (error) {
        reject(error);
      }
    });
  }

  // Called by the SDK's configuration extensions; there is nothing to configure.
  updateHttpClientConfig(): void {}
  httpHandlerConfigs(): Record<string, never> {
    return {};
  }
}

/**
 * The SDK's body (a string, or bytes) as a Buffer. Bytes are wrapped, not copied: the SDK's JSON
 * body is a Uint8Array whose valueOf() gives a string, which Buffer.from(body) would take.
 */
function bytes(body: string | Uint8Array): Buffer {
  return typeof body === 'string'
    ? Buffer.from(body)
    : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
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
  // A new table is CREATING until a timer of dynalite's fires; in process, the next request
  // comes sooner than that, and would not find it.
  const TableName = table.TableName;
  while (
    (await client.send(new DescribeTableCommand({ TableName }))).Table?.TableStatus !== 'ACTIVE'
  ) {
    await sleep(1);
  }
}
