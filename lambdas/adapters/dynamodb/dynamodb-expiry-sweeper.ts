import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ClientRecord } from '../../core/clients/ports.js';
import type { Clock } from '../../core/clock.js';
import { callAws, callAwsIfCondition } from '../aws-errors.js';
import { toRecord } from './dynamodb-client-repository.js';
import { expiryDay, TABLE_SCHEMA } from './table-schema.js';

const SERVICE = 'the cleanup sweep';
const DAY = 86_400;
const PAGE_SIZE = 100;
/** The cursor item: the first expiry day that may still hold items (ISO date). */
const CURSOR_KEY = { pk: 'cleanup#cursor', sk: 'cursor' };

export interface SweepResult {
  /** Deleted items by kind (the pk prefix: client, revoked, assertion). */
  readonly deleted: Record<string, number>;
  readonly daysSwept: number;
  /** False when the deadline stopped the sweep; the next run resumes from the cursor. */
  readonly complete: boolean;
}

const isoDay = (epochSeconds: number) => expiryDay(epochSeconds).slice('expiry#'.length);
const nextIsoDay = (day: string) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + DAY * 1000).toISOString().slice(0, 10);

/**
 * Deletes what has expired but DynamoDB TTL has not removed yet. It reads only the expiry
 * index's partitions for days that have begun (from a persisted cursor to today), so its cost
 * follows the number of expired items, not the size of the table. Every delete is conditional
 * on the item still being expired, so runs are idempotent and may overlap; a day counts as done
 * only when a read from its start finds nothing, so what one run misses the next one finds.
 */
export class DynamoDbExpirySweeper {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock,
    /** Told of every client this sweep deleted (locally: audit and counters; AWS has the stream). */
    private readonly onClientExpired?: (record: ClientRecord) => Promise<void>,
  ) {}

  async sweep(deadline: number = Number.POSITIVE_INFINITY): Promise<SweepResult> {
    const now = this.clock.now();
    const today = isoDay(now);
    const deleted: Record<string, number> = {};
    let day = (await this.cursor()) ?? isoDay(now - DAY);
    let daysSwept = 0;
    for (; day <= today; day = nextIsoDay(day)) {
      let startKey: Record<string, unknown> | undefined;
      let clean = false;
      for (;;) {
        if (Date.now() >= deadline) return { deleted, daysSwept, complete: false };
        const page = await this.expiredPage(day, now, startKey);
        const items = page.Items ?? [];
        if (startKey === undefined && items.length === 0) {
          clean = true;
          break;
        }
        const removed = await Promise.all(items.map((item) => this.deleteIfExpired(item, now)));
        for (const kind of removed) if (kind) deleted[kind] = (deleted[kind] ?? 0) + 1;
        // Progress: read again from the start rather than resume after a key that is gone.
        // Nothing deletable on this page (another run took it, or the index lags): look further.
        if (removed.some(Boolean)) startKey = undefined;
        else if (page.LastEvaluatedKey) startKey = page.LastEvaluatedKey;
        else break;
      }
      daysSwept += 1;
      // Only a day before today that a read from its start found empty is finished for good.
      if (day < today && clean) await this.advanceCursor(nextIsoDay(day));
    }
    return { deleted, daysSwept, complete: true };
  }

  private expiredPage(day: string, now: number, startKey?: Record<string, unknown>) {
    return callAws(
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: TABLE_SCHEMA.expiryIndex.name,
          KeyConditionExpression: '#day = :day AND #ttl <= :now',
          ExpressionAttributeNames: { '#day': 'expiryDay', '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':day': `expiry#${day}`, ':now': now },
          Limit: PAGE_SIZE,
          ...(startKey && { ExclusiveStartKey: startKey }),
        }),
      ),
      SERVICE,
    );
  }

  /** The item's kind if this call deleted it; undefined if it was gone or extended meanwhile. */
  private async deleteIfExpired(item: Record<string, unknown>, now: number) {
    const deleted = await callAwsIfCondition(
      this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: item.pk, sk: item.sk },
          ConditionExpression: '#ttl <= :now',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':now': now },
          ...(this.onClientExpired && { ReturnValues: 'ALL_OLD' }),
        }),
      ),
      SERVICE,
    );
    if (!deleted) return undefined;
    const kind = String(item.pk).split('#')[0];
    const old = deleted.output.Attributes;
    if (kind === 'client' && old && this.onClientExpired) {
      await this.onClientExpired(toRecord(old));
    }
    return kind;
  }

  private async cursor(): Promise<string | undefined> {
    const { Item } = await callAws(
      this.client.send(
        new GetCommand({ TableName: this.tableName, Key: CURSOR_KEY, ConsistentRead: true }),
      ),
      SERVICE,
    );
    return Item?.day as string | undefined;
  }

  /** Only forwards: an overlapping run that is behind cannot move the cursor back. */
  private async advanceCursor(day: string): Promise<void> {
    await callAwsIfCondition(
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...CURSOR_KEY, day },
          ConditionExpression: 'attribute_not_exists(#day) OR #day < :day',
          ExpressionAttributeNames: { '#day': 'day' },
          ExpressionAttributeValues: { ':day': day },
        }),
      ),
      SERVICE,
    );
  }
}
