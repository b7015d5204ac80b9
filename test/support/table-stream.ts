import { isDeepStrictEqual } from 'node:util';
import { type AttributeValue, type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import type { Upstream } from './synthesized-stack.js';

type Item = Record<string, AttributeValue>;

/** The single-item writes a stream reports; the functions of this stack make no other. */
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);
const NOT_STREAMED_HERE = new Set(['BatchWriteItem', 'TransactWriteItems']);

export interface TableStreamOptions {
  /** Reads the images, as the stream itself sees the table (not through the IAM gate). */
  readonly store: DynamoDBClient;
  readonly tableName: string;
  readonly keyAttributes: readonly string[];
  /** The stream's consumer: told of each change, in order per key, before the writer hears back. */
  readonly onRecord: (record: DynamoDBRecord) => Promise<void>;
}

/**
 * The table's DynamoDB stream (NEW_AND_OLD_IMAGES), which the embedded store lacks, around the
 * store's upstream: each single-item write is bracketed by consistent reads of the item, and a
 * write that changed it becomes a stream record (INSERT, MODIFY or REMOVE with the images), as
 * DynamoDB writes one. Writes to one key are serialised, as a stream orders one key's records.
 * The record is delivered before the writer gets its answer, so what reads the consumer's work
 * right after (statistics) sees it; in AWS that lag is about a second.
 */
export function streamed(upstream: Upstream, options: TableStreamOptions): Upstream {
  const turns = new Map<string, Promise<unknown>>();
  let sequence = 0;
  const read = async (Key: Item) =>
    (
      await options.store.send(
        new GetItemCommand({ TableName: options.tableName, Key, ConsistentRead: true }),
      )
    ).Item;

  const record = (keys: Item, before?: Item, after?: Item): DynamoDBRecord => {
    sequence += 1;
    return {
      eventID: String(sequence),
      eventName: before === undefined ? 'INSERT' : after === undefined ? 'REMOVE' : 'MODIFY',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'local',
      eventSourceARN: `arn:aws:dynamodb:local:000000000000:table/${options.tableName}/stream/local`,
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
        Keys: keys as never,
        ...(after && { NewImage: after as never }),
        ...(before && { OldImage: before as never }),
        SequenceNumber: String(sequence).padStart(21, '0'),
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    };
  };

  return async (request) => {
    if (NOT_STREAMED_HERE.has(request.operation)) {
      throw new Error(`${request.operation} is not streamed by the stack tests' table stream`);
    }
    if (!WRITES.has(request.operation)) return upstream(request);
    const input = JSON.parse(request.body.toString('utf8') || '{}');
    if (input.TableName !== options.tableName) return upstream(request);
    const written: Item = input.Item ?? input.Key ?? {};
    const keys = Object.fromEntries(
      options.keyAttributes.map((name) => [name, written[name] as AttributeValue]),
    );
    const id = JSON.stringify(keys);
    const turn = (turns.get(id) ?? Promise.resolve()).then(async () => {
      const before = await read(keys);
      const reply = await upstream(request);
      const after = await read(keys);
      if (!isDeepStrictEqual(before, after)) await options.onRecord(record(keys, before, after));
      return reply;
    });
    const done = turn.catch(() => undefined);
    turns.set(id, done);
    void done.then(() => {
      if (turns.get(id) === done) turns.delete(id);
    });
    return turn;
  };
}

/**
 * Whether a stream record passes a Lambda event filter pattern: nested objects of arrays of
 * rules, each rule a literal value or `{ prefix }` (what this stack's filters use; anything else
 * is refused rather than guessed).
 */
export function matchesFilter(pattern: unknown, value: unknown): boolean {
  if (Array.isArray(pattern)) return pattern.some((rule) => matchesRule(rule, value));
  if (typeof pattern === 'object' && pattern !== null) {
    return (
      typeof value === 'object' &&
      value !== null &&
      Object.entries(pattern).every(([name, inner]) =>
        matchesFilter(inner, (value as Record<string, unknown>)[name]),
      )
    );
  }
  throw new Error(`unsupported filter pattern ${JSON.stringify(pattern)}`);
}

function matchesRule(rule: unknown, value: unknown): boolean {
  if (typeof rule !== 'object' || rule === null) return rule === value;
  const { prefix, ...rest } = rule as { prefix?: unknown };
  if (typeof prefix !== 'string' || Object.keys(rest).length > 0) {
    throw new Error(`unsupported filter rule ${JSON.stringify(rule)}`);
  }
  return typeof value === 'string' && value.startsWith(prefix);
}
