import { createHash } from 'node:crypto';
import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { decodeCursor, encodeCursor } from '../../core/cursor.js';
import { invalidRequest } from '../../core/errors.js';
import {
  type FederatedSubject,
  type FederatedSubjectPage,
  type FederatedSubjects,
  SUBJECT_KEPT_SECONDS,
  type SubjectUpdate,
} from '../../core/federation/federated-tokens.js';
import { callAws, callAwsIfCondition } from '../aws-errors.js';
import { expiryAttributes, STATS_KEY_PREFIX } from './table-schema.js';

const SERVICE = 'the federated subjects store';

/** Every subject's summary shares one partition, so that one Query pages through them. */
const SUBJECTS_PK = `${STATS_KEY_PREFIX}federated`;
/** DynamoDB's limit on a sort key, in bytes. */
const MAX_SORT_KEY_BYTES = 1024;

/**
 * `pk = stats#federated`, `sk = <iss>#<sub>` (a subject too long for a sort key: `#` and its
 * SHA-256, which no issuer URL starts with); `sub`, `issuer`, `issuerKind`, `rule`, `firstSeen`,
 * `lastSeen`, `tokens`, `lastScope`, `lastAud`, `lastClientId`; TTL SUBJECT_KEPT_SECONDS after
 * the last token. Written by the audit function only (one UpdateItem per subject and batch).
 */
const sortKeyOf = (sub: string) =>
  Buffer.byteLength(sub) <= MAX_SORT_KEY_BYTES
    ? sub
    : `#${createHash('sha256').update(sub).digest('base64url')}`;

function subjectOf(item: Record<string, unknown>): FederatedSubject {
  return {
    sub: item.sub as string,
    issuer: item.issuer as string,
    issuer_kind: item.issuerKind as FederatedSubject['issuer_kind'],
    rule: item.rule as number,
    first_seen: item.firstSeen as number,
    last_seen: item.lastSeen as number,
    tokens: item.tokens as number,
    ...(typeof item.lastScope === 'string' && { last_scope: item.lastScope }),
    last_aud: item.lastAud as FederatedSubject['last_aud'],
    last_client_id: item.lastClientId as string,
    expires_at: item.ttl as number,
  };
}

export class DynamoDbFederatedSubjects implements FederatedSubjects {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async record(updates: readonly SubjectUpdate[]): Promise<void> {
    await Promise.all(updates.map((update) => this.recordOne(update)));
  }

  /**
   * Counted always; the latest token's facts set only if no later token was recorded first
   * (batches of different shards may arrive out of order): then only the count, and the first
   * seen if earlier. One write per subject and batch; two or three for a late batch.
   */
  private async recordOne(update: SubjectUpdate): Promise<void> {
    const Key = { pk: SUBJECTS_PK, sk: sortKeyOf(update.sub) };
    const { ttl, expiryDay } = expiryAttributes(update.lastAt + SUBJECT_KEPT_SECONDS);
    const latest = await callAwsIfCondition(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key,
          UpdateExpression: `ADD #tokens :n SET #firstSeen = if_not_exists(#firstSeen, :first), #sub = :sub, #issuer = :issuer, #issuerKind = :kind, #lastSeen = :last, #rule = :rule, #lastAud = :aud, #lastClientId = :client, #ttl = :ttl, #expiryDay = :day${update.scope === undefined ? ' REMOVE #lastScope' : ', #lastScope = :scope'}`,
          ConditionExpression: 'attribute_not_exists(#lastSeen) OR #lastSeen <= :last',
          // Every attribute by a placeholder: some of these names are DynamoDB reserved words.
          ExpressionAttributeNames: {
            '#tokens': 'tokens',
            '#firstSeen': 'firstSeen',
            '#sub': 'sub',
            '#issuer': 'issuer',
            '#issuerKind': 'issuerKind',
            '#lastSeen': 'lastSeen',
            '#rule': 'rule',
            '#lastAud': 'lastAud',
            '#lastClientId': 'lastClientId',
            '#ttl': 'ttl',
            '#expiryDay': 'expiryDay',
            '#lastScope': 'lastScope',
          },
          ExpressionAttributeValues: {
            ':n': update.tokens,
            ':first': update.firstAt,
            ':sub': update.sub,
            ':issuer': update.issuer,
            ':kind': update.issuerKind,
            ':last': update.lastAt,
            ':rule': update.rule,
            ':aud': update.aud,
            ':client': update.clientId,
            ':ttl': ttl,
            ':day': expiryDay,
            ...(update.scope !== undefined && { ':scope': update.scope }),
          },
        }),
      ),
      SERVICE,
    );
    if (latest !== undefined) return;
    // An older batch: its count, and its first token if that came before the first recorded.
    const earlier = await callAwsIfCondition(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key,
          UpdateExpression: 'ADD #tokens :n SET #firstSeen = :first',
          ConditionExpression: '#firstSeen > :first',
          ExpressionAttributeNames: { '#tokens': 'tokens', '#firstSeen': 'firstSeen' },
          ExpressionAttributeValues: { ':n': update.tokens, ':first': update.firstAt },
        }),
      ),
      SERVICE,
    );
    if (earlier !== undefined) return;
    await callAws(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key,
          UpdateExpression: 'ADD #tokens :n',
          ExpressionAttributeNames: { '#tokens': 'tokens' },
          ExpressionAttributeValues: { ':n': update.tokens },
        }),
      ),
      SERVICE,
    );
  }

  async list(
    cursor: string | undefined,
    limit: number,
    now: number,
  ): Promise<FederatedSubjectPage> {
    const { Items, LastEvaluatedKey } = await callAws(
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          // TTL deletes lazily: a forgotten subject is gone from the listing at once.
          FilterExpression: '#ttl > :now',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':pk': SUBJECTS_PK, ':now': now },
          Limit: limit,
          ...(cursor !== undefined && {
            ExclusiveStartKey: { pk: SUBJECTS_PK, sk: sortKeyAfter(cursor) },
          }),
        }),
      ),
      SERVICE,
    );
    const last = LastEvaluatedKey?.sk;
    return {
      subjects: (Items ?? []).map(subjectOf),
      ...(typeof last === 'string' && { next_cursor: encodeCursor({ after: last }) }),
    };
  }
}

/** The sort key a listing cursor continues after. */
function sortKeyAfter(cursor: string): string {
  const { after } = decodeCursor<{ after?: unknown }>(cursor);
  if (typeof after !== 'string' || after.length === 0 || Buffer.byteLength(after) > 1024) {
    throw invalidRequest('cursor is malformed');
  }
  return after;
}
