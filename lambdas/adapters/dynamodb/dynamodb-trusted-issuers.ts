import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ChangeOrigin } from '../../core/clients/ports.js';
import { conflict } from '../../core/errors.js';
import type {
  StoredTrustedIssuer,
  StoredTrustedIssuerPage,
  TrustedIssuerStore,
} from '../../core/federation/ports.js';
import { newTokenId } from '../../core/secrets.js';
import { callAws, callAwsIfCondition } from '../aws-errors.js';
import { prefixScanPage } from './prefix-scan.js';

const SERVICE = 'the trusted issuer store';
const PREFIX = 'trusted-issuer#';

/**
 * Trusted issuers added through the admin API (see docs/architecture.md "Storage"):
 *   pk = "trusted-issuer#<iss>", sk = "trusted-issuer"; issuer, definition (the JSON as put,
 *   as text), updatedAt, actor, sourceIp; no TTL. Just before it is deleted: removal
 *   ({id, at, actor, sourceIp}: the stream's removal record names who removed it).
 * The token and introspection functions read one (GetItem, cached per container); the admin API
 * writes, deletes and lists them (a filtered Scan). Every change reaches the audit function
 * through the table's stream.
 */
export class DynamoDbTrustedIssuers implements TrustedIssuerStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private key(issuer: string) {
    return { pk: `${PREFIX}${issuer}`, sk: 'trusted-issuer' };
  }

  async get(issuer: string): Promise<StoredTrustedIssuer | undefined> {
    const { Item } = await callAws(
      this.client.send(
        new GetCommand({ TableName: this.tableName, Key: this.key(issuer), ConsistentRead: true }),
      ),
      SERVICE,
    );
    return Item && recordOf(Item);
  }

  async put(record: StoredTrustedIssuer): Promise<StoredTrustedIssuer | undefined> {
    const { updated } = record;
    const { Attributes } = await callAws(
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...this.key(record.issuer),
            issuer: record.issuer,
            // As text: the operator's JSON comes back exactly as put (empty strings, key order).
            definition: JSON.stringify(record.definition),
            updatedAt: updated.at,
            ...(updated.actor !== undefined && { actor: updated.actor }),
            ...(updated.sourceIp !== undefined && { sourceIp: updated.sourceIp }),
          },
          ReturnValues: 'ALL_OLD',
        }),
      ),
      SERVICE,
    );
    return Attributes && recordOf(Attributes);
  }

  /**
   * Who removes it is written on the item first (a DeleteItem carries nothing into the stream
   * but the old image), then the item is deleted if it is still the one marked: a replacement
   * in between is not removed unseen. A failed delete leaves the issuer as it was, marked.
   */
  async remove(issuer: string, removed: ChangeOrigin): Promise<StoredTrustedIssuer | undefined> {
    const removalId = newTokenId();
    const marked = await callAwsIfCondition(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(issuer),
          UpdateExpression: 'SET removal = :removal',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':removal': { id: removalId, ...removedOf(removed) } },
        }),
      ),
      SERVICE,
    );
    if (!marked) return undefined;
    const deleted = await callAwsIfCondition(
      this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: this.key(issuer),
          ConditionExpression: 'removal.id = :id',
          ExpressionAttributeValues: { ':id': removalId },
          ReturnValues: 'ALL_OLD',
        }),
      ),
      SERVICE,
    );
    if (!deleted?.output.Attributes) {
      throw conflict(`${issuer} was changed while it was being removed; try again`);
    }
    return recordOf(deleted.output.Attributes);
  }

  /** The operator's listing: a paginated Scan filtered to these items (occasional use only). */
  page(cursor: string | undefined, scanLimit: number): Promise<StoredTrustedIssuerPage> {
    const page = { cursor, scanLimit };
    return prefixScanPage(this.client, this.tableName, PREFIX, page, SERVICE, recordOf);
  }
}

const removedOf = ({ at, actor, sourceIp }: ChangeOrigin): ChangeOrigin => ({
  at,
  ...(actor !== undefined && { actor }),
  ...(sourceIp !== undefined && { sourceIp }),
});

/** An item (or a stream image) as the stored issuer it holds. */
export const recordOf = (item: Record<string, unknown>): StoredTrustedIssuer => ({
  issuer: item.issuer as string,
  definition: JSON.parse(item.definition as string) as Record<string, unknown>,
  updated: {
    at: item.updatedAt as number,
    ...(item.actor !== undefined && { actor: item.actor as string }),
    ...(item.sourceIp !== undefined && { sourceIp: item.sourceIp as string }),
  },
  ...(item.removal !== undefined && { removed: removedOf(item.removal as ChangeOrigin) }),
});
