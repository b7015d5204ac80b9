import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { softwareIdKey } from '../../core/clients/client-metadata.js';
import type {
  ClientDirectory,
  ClientFilter,
  ClientPage,
  ClientRecord,
  ClientRepository,
  Deletion,
} from '../../core/clients/ports.js';
import { decodeCursor, encodeCursor } from '../../core/cursor.js';
import { invalidRequest } from '../../core/errors.js';
import { callAws, callAwsIfCondition } from '../aws-errors.js';

const SERVICE = 'the client store';
const DAY_SECONDS = 86_400;
/** Index pages one `expiring` call reads at most (the index also holds tokens, codes, grants). */
const EXPIRING_PAGES = 10;

import { concurrentUpdate } from '../client-repository-errors.js';
import {
  expiryAttributes,
  expiryDay,
  TABLE_SCHEMA,
  withoutTableAttributes,
} from './table-schema.js';

/**
 * Item layout (single table, see docs/architecture.md "Storage"):
 *   pk = "client#<client_id>", sk = "client"; the ClientRecord's fields as attributes;
 *   ttl = activeUntil (DynamoDB TTL removes it eventually; readers enforce expiry themselves),
 *   expiryDay for the cleanup index.
 */
const clientKey = (clientId: string) => ({ pk: `client#${clientId}`, sk: 'client' });

/**
 * A listing cursor back to the table key it encodes. Anything else (other attributes, other
 * types, keys longer than any this table holds) is a malformed cursor, not a DynamoDB error.
 */
export function tableKeyOf(cursor: string): Record<string, string> {
  const key = decodeCursor<Record<string, unknown>>(cursor);
  const { partitionKey, sortKey } = TABLE_SCHEMA;
  const names = Object.keys(key);
  const valid =
    names.length === 2 &&
    [partitionKey, sortKey].every((name) => {
      const value = key[name];
      return typeof value === 'string' && value.length > 0 && value.length <= 1024;
    });
  if (!valid) throw invalidRequest('cursor is malformed');
  return key as Record<string, string>;
}

/** The stored item of a client record (exported for bulk seeding in the benchmark). */
export const clientItem = (record: ClientRecord) => ({
  ...clientKey(record.clientId),
  ...record,
  ...(record.activeUntil !== undefined && expiryAttributes(record.activeUntil)),
});

/** The client record of a stored item (also of a stream image). */
export function toRecord(item: Record<string, unknown>): ClientRecord {
  return withoutTableAttributes<ClientRecord>(item);
}

/** The scan filter for an operator's search; every criterion is optional. */
function scanFilter(filter: ClientFilter) {
  const conditions = ['begins_with(pk, :client)'];
  const values: Record<string, unknown> = { ':client': 'client#' };
  const add = (condition: string, name: string, value: unknown) => {
    if (value === undefined) return;
    conditions.push(condition);
    values[name] = value;
  };
  if (filter.softwareId !== undefined) {
    // Clients stored before the normalised form existed are matched exactly.
    add(
      '(softwareKey = :softwareKey OR (attribute_not_exists(softwareKey) AND metadata.software_id = :software))',
      ':software',
      filter.softwareId,
    );
    values[':softwareKey'] = softwareIdKey(filter.softwareId);
  }
  add('begins_with(metadata.client_name, :prefix)', ':prefix', filter.clientNamePrefix);
  add('registrationMethod = :method', ':method', filter.registrationMethod);
  add('initialAccessTokenId = :iat', ':iat', filter.initialAccessTokenId);
  add('clientIdIssuedAt >= :createdAfter', ':createdAfter', filter.createdAfter);
  add('clientIdIssuedAt < :createdBefore', ':createdBefore', filter.createdBefore);
  add('lastUsedAt >= :usedAfter', ':usedAfter', filter.lastUsedAfter);
  add('lastUsedAt < :usedBefore', ':usedBefore', filter.lastUsedBefore);
  add(
    '(begins_with(metadata.client_name, :search) OR metadata.software_id = :search OR clientId = :search)',
    ':search',
    filter.search,
  );
  return { FilterExpression: conditions.join(' AND '), ExpressionAttributeValues: values };
}

export class DynamoDbClientRepository implements ClientRepository, ClientDirectory {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * The operator's listing: a paginated Scan with the filter applied by DynamoDB. Its cost grows
   * with the table, which suits occasional operator use, never a request path.
   */
  async page(
    filter: ClientFilter,
    cursor: string | undefined,
    scanLimit: number,
  ): Promise<ClientPage> {
    const { Items, LastEvaluatedKey } = await callAws(
      this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          Limit: scanLimit,
          ...scanFilter(filter),
          ...(cursor !== undefined && { ExclusiveStartKey: tableKeyOf(cursor) }),
        }),
      ),
      SERVICE,
    );
    return {
      records: (Items ?? []).map(toRecord),
      ...(LastEvaluatedKey && { cursor: encodeCursor(LastEvaluatedKey) }),
    };
  }

  /**
   * Clients expiring in [from, to], soonest first: a Query of the expiry index for each UTC day
   * the window touches (keys only, other item kinds filtered out; at most EXPIRING_PAGES pages),
   * then a consistent GetItem per client found. Never a scan.
   */
  async expiring(from: number, to: number, limit: number): Promise<ClientRecord[]> {
    const keys: Record<string, unknown>[] = [];
    let pages = 0;
    for (let day = from - (from % DAY_SECONDS); day <= to && keys.length < limit; ) {
      let startKey: Record<string, unknown> | undefined;
      do {
        const { Items, LastEvaluatedKey } = await callAws(
          this.client.send(
            new QueryCommand({
              TableName: this.tableName,
              IndexName: TABLE_SCHEMA.expiryIndex.name,
              KeyConditionExpression: '#day = :day AND #ttl BETWEEN :from AND :to',
              FilterExpression: 'begins_with(pk, :client)',
              ExpressionAttributeNames: { '#day': 'expiryDay', '#ttl': 'ttl' },
              ExpressionAttributeValues: {
                ':day': expiryDay(day),
                ':from': from,
                ':to': to,
                ':client': 'client#',
              },
              Limit: 100,
              ...(startKey && { ExclusiveStartKey: startKey }),
            }),
          ),
          SERVICE,
        );
        keys.push(...(Items ?? []));
        startKey = LastEvaluatedKey;
        pages++;
      } while (startKey && keys.length < limit && pages < EXPIRING_PAGES);
      if (pages >= EXPIRING_PAGES) break;
      day += DAY_SECONDS;
    }
    const records = await Promise.all(
      keys.slice(0, limit).map((key) => this.get(String(key.pk).slice('client#'.length))),
    );
    return records.filter((r): r is ClientRecord => r !== undefined);
  }

  async create(record: ClientRecord): Promise<void> {
    // Conditional: a client_id, once issued, can never be overwritten.
    await callAws(
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: clientItem(record),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
      SERVICE,
    );
  }

  async get(clientId: string): Promise<ClientRecord | undefined> {
    const { Item } = await callAws(
      this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: clientKey(clientId),
          ConsistentRead: true,
        }),
      ),
      SERVICE,
    );
    return Item && toRecord(Item);
  }

  async replace(record: ClientRecord): Promise<void> {
    const written = await callAwsIfCondition(
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: clientItem(record),
          // Never over a deletion marker (that would bring a client being deleted back), nor
          // over a use recorded since the read (its lastUsedAt would be lost).
          ConditionExpression: `attribute_exists(pk) AND attribute_not_exists(deletion) AND #version = :expected AND ${
            record.lastUsedAt === undefined
              ? 'attribute_not_exists(lastUsedAt)'
              : 'lastUsedAt = :lastUsedAt'
          }`,
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: {
            ':expected': record.version - 1,
            ...(record.lastUsedAt !== undefined && { ':lastUsedAt': record.lastUsedAt }),
          },
        }),
      ),
      SERVICE,
    );
    if (!written) throw concurrentUpdate();
  }

  async touch(
    clientId: string,
    lastUsedAt: number,
    activeUntil: number | undefined,
    notUsedSince: number,
  ): Promise<void> {
    const expiry = activeUntil !== undefined ? expiryAttributes(activeUntil) : undefined;
    // A failed condition: another request marked it used within the interval, or it is gone.
    await callAwsIfCondition(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: clientKey(clientId),
          UpdateExpression: expiry
            ? 'SET lastUsedAt = :now, activeUntil = :until, #ttl = :until, expiryDay = :day'
            : 'SET lastUsedAt = :now REMOVE activeUntil, #ttl, expiryDay',
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(lastUsedAt) OR lastUsedAt < :since)',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':now': lastUsedAt,
            ':since': notUsedSince,
            ...(expiry && { ':until': expiry.ttl, ':day': expiry.expiryDay }),
          },
        }),
      ),
      SERVICE,
    );
  }

  /**
   * Marks who deletes, then deletes: the stream's REMOVE record then carries the marker in its
   * old image, which is how audit tells a client's or operator's deletion from an expiry. The
   * marker is the commit point (a marked client is gone for every purpose) and also expires the
   * item now, so a removal that never happens (a crash, a timeout in between) is done by TTL or
   * the cleanup, with the same audit event; a repeated delete keeps the first marker.
   */
  async delete(clientId: string, deletion: Deletion): Promise<void> {
    const { ttl, expiryDay } = expiryAttributes(deletion.at);
    const marked = await callAwsIfCondition(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: clientKey(clientId),
          UpdateExpression:
            'SET deletion = if_not_exists(deletion, :deletion), #ttl = :ttl, expiryDay = :day',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':deletion': deletion, ':ttl': ttl, ':day': expiryDay },
        }),
      ),
      SERVICE,
    );
    if (!marked) return; // already gone
    await callAws(
      this.client.send(new DeleteCommand({ TableName: this.tableName, Key: clientKey(clientId) })),
      SERVICE,
    );
  }
}
