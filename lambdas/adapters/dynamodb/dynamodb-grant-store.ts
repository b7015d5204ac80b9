import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { pinnedElsewhere } from '../../core/regions.js';
import type {
  AuthorizationCodeRecord,
  CodeBinding,
  CodeRedemption,
  GrantRecord,
  GrantStore,
  RevokedGrant,
  Rotation,
  UserGrantEntry,
  UserGrantQuery,
} from '../../core/tokens/ports.js';
import { callAws, callAwsIfCondition } from '../aws-errors.js';
import { expiryAttributes, withoutTableAttributes } from './table-schema.js';

const SERVICE = 'the grant store';

/**
 * A spent code is kept this long past its expiry: a second redemption within it is recognised
 * as reuse and revokes the grant (RFC 6749 §4.1.2), later it is merely unknown.
 */
const SPENT_CODE_RETENTION = 600;

/**
 * Items (see docs/architecture.md "Storage"):
 *   pk = "code#<sha256(code)>", sk = "code";   the AuthorizationCodeRecord, redeemedAt once
 *     spent; ttl = expiresAt + 10 min
 *   pk = "grant#<grantId>",     sk = "grant";  the GrantRecord (or a revocation tombstone);
 *     ttl = when the family expires (revoked: when its last access token has)
 *   pk = "consent#<transaction id>", sk = "consent"; a consent answered (no attributes);
 *     ttl = the transaction's end
 *   pk = "user#<sub>", sk = "grant#<clientId>#<createdAt, 12 digits>#<grantId>"; a
 *     UserGrantEntry, the user's one index of their grants (a Query of the partition lists them
 *     all, one with the client's prefix those to that client, newest first), written at
 *     consent, before the code; ttl = its family's latest possible end
 */
const consentKey = (transactionId: string) => ({
  pk: `consent#${transactionId}`,
  sk: 'consent',
});
const codeKey = (codeHash: string) => ({ pk: `code#${codeHash}`, sk: 'code' });
const grantKey = (grantId: string) => ({ pk: `grant#${grantId}`, sk: 'grant' });
const userPartition = (sub: string) => `user#${sub}`;
/** Sorted by creation within a client: a Query by the client's prefix reads the newest first. */
const userGrantPrefix = (clientId: string) => `grant#${clientId}#`;
const userGrantKey = (entry: UserGrantEntry) => ({
  pk: userPartition(entry.sub),
  sk: `${userGrantPrefix(entry.clientId)}${String(entry.createdAt).padStart(12, '0')}#${entry.grantId}`,
});

const toCode = (item: Record<string, unknown>) =>
  withoutTableAttributes<AuthorizationCodeRecord & { redeemedAt?: number }>(item);

export class DynamoDbGrantStore implements GrantStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async consentOnce(transactionId: string, expiresAt: number): Promise<boolean> {
    const put = await callAwsIfCondition(
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...consentKey(transactionId), ...expiryAttributes(expiresAt) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
      SERVICE,
    );
    return put !== undefined;
  }

  async putCode(code: AuthorizationCodeRecord): Promise<void> {
    await callAws(
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...codeKey(code.codeHash),
            ...code,
            ...expiryAttributes(code.expiresAt + SPENT_CODE_RETENTION),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
      SERVICE,
    );
  }

  async recordUserGrant(entry: UserGrantEntry, expiresAt: number): Promise<void> {
    await callAws(
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...userGrantKey(entry), ...entry, ...expiryAttributes(expiresAt) },
        }),
      ),
      SERVICE,
    );
  }

  async userGrants(sub: string, { clientId, limit }: UserGrantQuery) {
    const { Items = [] } = await callAws(
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression:
            clientId === undefined ? 'pk = :pk' : 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: {
            ':pk': userPartition(sub),
            ...(clientId !== undefined && { ':prefix': userGrantPrefix(clientId) }),
          },
          ScanIndexForward: false,
          Limit: limit,
          ConsistentRead: true,
        }),
      ),
      SERVICE,
    );
    return Items.map((item) => withoutTableAttributes<UserGrantEntry>(item));
  }

  /**
   * One conditional update spends the code only if everything holds at once (unspent,
   * unexpired, same client, redirect URI and PKCE challenge, every resource asked for among
   * the granted); when it does not, one read tells a reuse (spent, same binding) or a resource
   * not granted from a mere refusal.
   */
  async redeemCode(codeHash: string, binding: CodeBinding, now: number): Promise<CodeRedemption> {
    const resources = Object.fromEntries(binding.resources.map((r, i) => [`:resource${i}`, r]));
    const spent = await callAwsIfCondition(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: codeKey(codeHash),
          UpdateExpression: 'SET redeemedAt = :now',
          ConditionExpression: [
            'attribute_exists(pk) AND attribute_not_exists(redeemedAt) AND clientId = :clientId AND redirectUri = :redirectUri AND codeChallenge = :codeChallenge AND expiresAt > :now',
            ...Object.keys(resources).map((name) => `contains(#resources, ${name})`),
            // RFC 9449 §10: a code bound to a DPoP key is spent only with a proof by that key.
            binding.jkt !== undefined
              ? '(attribute_not_exists(dpopJkt) OR dpopJkt = :jkt)'
              : 'attribute_not_exists(dpopJkt)',
            // Multi-region: a code made in another region is spent there only.
            ...(binding.region !== undefined
              ? ['(attribute_not_exists(homeRegion) OR homeRegion = :region)']
              : []),
          ].join(' AND '),
          ...(binding.resources.length > 0 && {
            ExpressionAttributeNames: { '#resources': 'resources' },
          }),
          ExpressionAttributeValues: {
            ':now': now,
            ':clientId': binding.clientId,
            ':redirectUri': binding.redirectUri,
            ':codeChallenge': binding.codeChallenge,
            ...(binding.region !== undefined && { ':region': binding.region }),
            ...(binding.jkt !== undefined && { ':jkt': binding.jkt }),
            ...resources,
          },
          ReturnValues: 'ALL_NEW',
        }),
      ),
      SERVICE,
    );
    if (spent?.output.Attributes) {
      return { outcome: 'redeemed', code: toCode(spent.output.Attributes) };
    }
    const { Item } = await callAws(
      this.client.send(
        new GetCommand({ TableName: this.tableName, Key: codeKey(codeHash), ConsistentRead: true }),
      ),
      SERVICE,
    );
    if (Item === undefined) return { outcome: 'refused' };
    const code = toCode(Item);
    const sameBinding =
      code.clientId === binding.clientId &&
      code.redirectUri === binding.redirectUri &&
      code.codeChallenge === binding.codeChallenge &&
      (code.dpopJkt === undefined || code.dpopJkt === binding.jkt) &&
      !pinnedElsewhere(code, binding.region);
    if (!sameBinding) return { outcome: 'refused' };
    if (code.redeemedAt !== undefined) return { outcome: 'reused', code };
    const outside = binding.resources.find((r) => !code.resources.includes(r));
    return code.expiresAt > now && outside !== undefined
      ? { outcome: 'not-granted', resource: outside }
      : { outcome: 'refused' };
  }

  async createGrant(grant: GrantRecord, expiresAt: number): Promise<boolean> {
    const created = await callAwsIfCondition(
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...grantKey(grant.grantId), ...grant, ...expiryAttributes(expiresAt) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
      SERVICE,
    );
    return created !== undefined;
  }

  async getGrant(grantId: string): Promise<GrantRecord | RevokedGrant | undefined> {
    const { Item } = await callAws(
      this.client.send(
        new GetCommand({ TableName: this.tableName, Key: grantKey(grantId), ConsistentRead: true }),
      ),
      SERVICE,
    );
    if (Item === undefined) return undefined;
    return withoutTableAttributes<GrantRecord | RevokedGrant>(Item);
  }

  async rotateRefresh(grantId: string, presentedHash: string, next: Rotation): Promise<boolean> {
    const { expiryDay, ttl } = expiryAttributes(next.expiresAt);
    const rotated = await callAwsIfCondition(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: grantKey(grantId),
          // The sealed successor is replaced, or removed when no grace window is configured, in
          // the same write: it can only ever open to the family's current token.
          UpdateExpression: `SET currentHash = :next, previousHashes = :previous, generation = :generation, lastUsedAt = :usedAt, #ttl = :ttl, expiryDay = :day${
            next.sealedSuccessor === undefined
              ? ' REMOVE sealedSuccessor'
              : ', sealedSuccessor = :successor'
          }`,
          ConditionExpression: 'currentHash = :presented AND attribute_not_exists(revokedAt)',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ...(next.sealedSuccessor !== undefined && { ':successor': next.sealedSuccessor }),
            ':next': next.currentHash,
            ':previous': next.previousHashes,
            ':generation': next.generation,
            ':usedAt': next.lastUsedAt,
            ':ttl': ttl,
            ':day': expiryDay,
            ':presented': presentedHash,
          },
        }),
      ),
      SERVICE,
    );
    return rotated !== undefined;
  }

  /** Unconditional: a tombstone when the grant has no item yet (no refresh token issued). */
  async revokeGrant(grantId: string, at: number, keepUntil: number): Promise<void> {
    const { expiryDay, ttl } = expiryAttributes(keepUntil);
    await callAws(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: grantKey(grantId),
          UpdateExpression:
            'SET grantId = :grantId, revokedAt = if_not_exists(revokedAt, :at), #ttl = :ttl, expiryDay = :day',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':grantId': grantId,
            ':at': at,
            ':ttl': ttl,
            ':day': expiryDay,
          },
        }),
      ),
      SERVICE,
    );
  }
}
