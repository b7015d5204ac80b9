/** The table's key schema, shared by the CDK stack and the embedded local store. */
export const TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** DynamoDB TTL attribute: integer epoch seconds. */
  ttlAttribute: 'ttl',
  /**
   * Sparse index of everything that expires, partitioned by UTC day of expiry and sorted by
   * instant: cleanup reads only the days that have passed, never the whole table.
   */
  expiryIndex: { name: 'expiry', partitionKey: 'expiryDay', sortKey: 'ttl' },
} as const;

/** `expiry#2026-11-27`: the index partition of an instant. */
export const expiryDay = (epochSeconds: number): string =>
  `expiry#${new Date(epochSeconds * 1000).toISOString().slice(0, 10)}`;

/** The attributes that make an item expire: TTL for DynamoDB, the day for cleanup's index. */
export const expiryAttributes = (expiresAt: number) => ({
  ttl: expiresAt,
  expiryDay: expiryDay(expiresAt),
});

/** Partition keys of the statistics items (`stats#active`, `stats#day#<date>`). */
export const STATS_KEY_PREFIX = 'stats#';

/** An item without the table's own attributes (keys, TTL, expiry day): the stored record. */
export function withoutTableAttributes<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, ttl: _ttl, expiryDay: _day, ...record } = item;
  return record as unknown as T;
}
