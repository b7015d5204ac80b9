import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { temporarilyUnavailable } from '../../core/errors.js';
import { clientHealth, HEALTH_KEPT_SECONDS } from '../../core/operator/client-health.js';
import { rankSoftware, STATS_DAYS_KEPT } from '../../core/operator/client-statistics.js';
import type {
  ClientStatistics,
  CounterUpdate,
  MetadataRun,
  SoftwareCount,
  StatsItem,
  StatsSnapshot,
} from '../../core/operator/ports.js';
import { callAws, callAwsIfCondition } from '../aws-errors.js';
import { expiryAttributes, STATS_KEY_PREFIX } from './table-schema.js';

const SERVICE = 'the statistics store';

const DAY_SECONDS = 86_400;
/** BatchGetItem takes at most 100 keys; what it leaves unprocessed is asked for again. */
const BATCH_KEYS = 100;
const BATCH_ATTEMPTS = 4;

/**
 * Item layout (single table, see docs/architecture.md "Storage"): `pk = stats#active` (all time) and
 * `pk = stats#day#<YYYY-MM-DD>` (one UTC day, expiring STATS_DAYS_KEPT days later), `sk = stats`;
 * one number attribute per counter (`active#open`, `registered#open`, …), added to atomically.
 */
const SOFTWARE = 'software#';
/** All software_ids' counters share one partition, so that one Query lists them. */
const SOFTWARE_PK = `${STATS_KEY_PREFIX}software`;
/** Pages of software counters one read takes at most (1 MB each: tens of thousands of ids). */
const SOFTWARE_PAGES = 10;

/**
 * `stats#active`, `stats#day#<date>` with `sk = stats`; a software_id's counter is
 * `pk = stats#software`, `sk = <software_id>`.
 */
const statsKey = (item: StatsItem) =>
  item.startsWith(SOFTWARE)
    ? { pk: SOFTWARE_PK, sk: item.slice(SOFTWARE.length) }
    : { pk: `${STATS_KEY_PREFIX}${item}`, sk: 'stats' };

/** A metadata fingerprint's run: `pk = stats#fingerprint#<fingerprint>`, `sk = stats`. */
const runKey = (fingerprint: string) => ({
  pk: `${STATS_KEY_PREFIX}fingerprint#${fingerprint}`,
  sk: 'stats',
});

/** How many times a run's write is tried when another registration changes it meanwhile. */
const RUN_ATTEMPTS = 4;

/** A TTL (and the cleanup's index) as an update's SET clause. */
const expiresAt = (at: number) => {
  const { ttl, expiryDay } = expiryAttributes(at);
  return {
    expression: '#ttl = :ttl, expiryDay = :expiryDay',
    names: { '#ttl': 'ttl' },
    values: { ':ttl': ttl, ':expiryDay': expiryDay },
  };
};

/** What an item holds beside its counters. */
const NOT_COUNTERS = new Set(['pk', 'sk', 'ttl', 'expiryDay', 'countingSince', 'recountedAt']);

const counters = (item: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(item).filter(
      ([name, value]) => !NOT_COUNTERS.has(name) && typeof value === 'number',
    ),
  ) as Record<string, number>;

/** `#c0 :c0, #c1 :c1` with the names and values those placeholders stand for. */
function placeholders(values: Readonly<Record<string, number>>, separator: string) {
  const names: Record<string, string> = {};
  const bound: Record<string, number> = {};
  const clauses = Object.entries(values).map(([name, value], i) => {
    names[`#c${i}`] = name;
    bound[`:c${i}`] = value;
    return `#c${i}${separator}:c${i}`;
  });
  return { clauses, names, values: bound };
}

/** The active item remembers when counting began (its first update). */
const countingSince = (at: number) => ({
  expression: 'countingSince = if_not_exists(countingSince, :at)',
  names: {},
  values: { ':at': at },
});

/** A day item expires STATS_DAYS_KEPT days after its day: TTL, and the cleanup's index. */
function dayExpiry(item: StatsItem) {
  const dayStart = Date.parse(`${item.slice('day#'.length)}T00:00:00Z`) / 1000;
  return expiresAt(dayStart + (STATS_DAYS_KEPT + 1) * DAY_SECONDS);
}

/** Each update as one UpdateItem ADD on its item (with its TTL, or when counting began). */
export async function addCounters(
  client: DynamoDBDocumentClient,
  tableName: string,
  updates: readonly CounterUpdate[],
): Promise<void> {
  await Promise.all(
    updates.map(({ item, deltas, at }) => {
      const add = placeholders(deltas, ' ');
      const set = item.startsWith(SOFTWARE)
        ? { expression: '', names: {}, values: {} }
        : item === 'active'
          ? countingSince(at)
          : item.startsWith('client#')
            ? expiresAt(at + HEALTH_KEPT_SECONDS)
            : dayExpiry(item);
      return callAws(
        client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: statsKey(item),
            UpdateExpression: `ADD ${add.clauses.join(', ')}${set.expression && ` SET ${set.expression}`}`,
            ExpressionAttributeNames: { ...add.names, ...set.names },
            ExpressionAttributeValues: { ...add.values, ...set.values },
          }),
        ),
        SERVICE,
      );
    }),
  );
}

/** The counters of ClientStatistics on the table: UpdateItem ADD to write, BatchGetItem to read. */
export class DynamoDbClientStatistics implements ClientStatistics {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async add(updates: readonly CounterUpdate[]): Promise<void> {
    await addCounters(this.client, this.tableName, updates);
  }

  async read(days: readonly string[]): Promise<StatsSnapshot> {
    const items = await this.batchGet([
      statsKey('active'),
      ...days.map((d) => statsKey(`day#${d}`)),
    ]);
    const active = items.find((item) => item.pk === statsKey('active').pk) ?? {};
    const byDay: Record<string, Record<string, number>> = {};
    for (const item of items) {
      const pk = String(item.pk);
      if (pk.startsWith('stats#day#')) byDay[pk.slice('stats#day#'.length)] = counters(item);
    }
    return {
      active: counters(active),
      ...(typeof active.countingSince === 'number' && { countingSince: active.countingSince }),
      ...(typeof active.recountedAt === 'number' && { recountedAt: active.recountedAt }),
      days: byDay,
    };
  }

  async setActive(values: Readonly<Record<string, number>>, at: number): Promise<void> {
    const set = placeholders(values, ' = ');
    await callAws(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: statsKey('active'),
          UpdateExpression: `SET ${[
            ...set.clauses,
            'recountedAt = :at',
            'countingSince = if_not_exists(countingSince, :at)',
          ].join(', ')}`,
          // DynamoDB refuses an empty map (a recount of an empty registry sets no counter).
          ...(set.clauses.length > 0 && { ExpressionAttributeNames: set.names }),
          ExpressionAttributeValues: { ...set.values, ':at': at },
        }),
      ),
      SERVICE,
    );
  }

  /** Every software counter item: one Query of their partition, at most SOFTWARE_PAGES pages. */
  private async softwareItems(): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    for (let page = 0; page < SOFTWARE_PAGES; page++) {
      const { Items, LastEvaluatedKey } = await callAws(
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': SOFTWARE_PK },
            ...(startKey && { ExclusiveStartKey: startKey }),
          }),
        ),
        SERVICE,
      );
      items.push(...(Items ?? []));
      startKey = LastEvaluatedKey;
      if (startKey === undefined) break;
    }
    return items;
  }

  async topSoftware(limit: number): Promise<SoftwareCount[]> {
    return rankSoftware(
      (await this.softwareItems()).map((item) => ({
        softwareId: String(item.sk),
        active: typeof item.active === 'number' ? item.active : 0,
      })),
      limit,
    );
  }

  async resetSoftware(): Promise<void> {
    const items = await this.softwareItems();
    await Promise.all(
      items.map((item) =>
        callAws(
          this.client.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { pk: SOFTWARE_PK, sk: item.sk },
              UpdateExpression: 'SET active = :zero',
              ExpressionAttributeValues: { ':zero': 0 },
            }),
          ),
          SERVICE,
        ),
      ),
    );
  }

  /** Every key's item that exists, in chunks of 100, asking again for what was left over. */
  private async batchGet(keys: Record<string, string>[]) {
    const found: Record<string, unknown>[] = [];
    for (let start = 0; start < keys.length; start += BATCH_KEYS) {
      let pending = keys.slice(start, start + BATCH_KEYS);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt === BATCH_ATTEMPTS)
          throw temporarilyUnavailable(`${SERVICE} is busy; retry shortly`);
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
        const { Responses, UnprocessedKeys } = await callAws(
          this.client.send(
            new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending } } }),
          ),
          SERVICE,
        );
        found.push(...(Responses?.[this.tableName] ?? []));
        pending = (UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, string>[];
      }
    }
    return found;
  }

  /**
   * Continues the run if its last registration is recent (ADD, conditional on `lastAt`), else
   * starts it again (SET, conditional on the opposite): one write either way, retried when a
   * concurrent registration of the same metadata changed the run between the two.
   */
  async noteRegistration(
    fingerprint: string,
    clientId: string,
    at: number,
    windowSeconds: number,
  ): Promise<MetadataRun> {
    const ttl = expiresAt(at + windowSeconds + DAY_SECONDS);
    const values = { ...ttl.values, ':at': at, ':since': at - windowSeconds, ':id': clientId };
    for (let attempt = 0; attempt < RUN_ATTEMPTS; attempt++) {
      const continued = await callAwsIfCondition(
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: runKey(fingerprint),
            ConditionExpression: 'lastAt > :since',
            UpdateExpression: `ADD registrations :one SET lastAt = :at, lastClientId = :id, ${ttl.expression}`,
            ExpressionAttributeNames: ttl.names,
            ExpressionAttributeValues: { ...values, ':one': 1 },
            ReturnValues: 'ALL_OLD',
          }),
        ),
        SERVICE,
      );
      const old = continued?.output.Attributes;
      if (old) {
        return {
          registrations: Number(old.registrations) + 1,
          firstAt: Number(old.firstAt),
          lastAt: at,
          previousClientId: String(old.lastClientId),
        };
      }
      const started = await callAwsIfCondition(
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: runKey(fingerprint),
            ConditionExpression: 'attribute_not_exists(lastAt) OR lastAt <= :since',
            UpdateExpression: `SET registrations = :one, firstAt = :at, lastAt = :at, lastClientId = :id, ${ttl.expression}`,
            ExpressionAttributeNames: ttl.names,
            ExpressionAttributeValues: { ...values, ':one': 1 },
          }),
        ),
        SERVICE,
      );
      if (started) return { registrations: 1, firstAt: at, lastAt: at };
    }
    throw temporarilyUnavailable(`${SERVICE} is busy; retry shortly`);
  }

  /** One BatchGetItem: the client's counters and its fingerprint's run. */
  async clientHealth(clientId: string, fingerprint: string | undefined, now: number) {
    const healthKey = statsKey(`client#${clientId}`);
    const items = await this.batchGet([
      healthKey,
      ...(fingerprint === undefined ? [] : [runKey(fingerprint)]),
    ]);
    const health = items.find((item) => item.pk === healthKey.pk) ?? {};
    const run = items.find((item) => item.pk !== healthKey.pk);
    return clientHealth(
      counters(health),
      fingerprint,
      run && {
        registrations: Number(run.registrations),
        firstAt: Number(run.firstAt),
        lastAt: Number(run.lastAt),
      },
      now,
    );
  }
}
