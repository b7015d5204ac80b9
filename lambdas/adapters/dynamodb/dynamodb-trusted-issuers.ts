import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import type {
  StoredTrustedIssuer,
  StoredTrustedIssuerPage,
  TrustedIssuerStore,
} from '../../core/federation/ports.js';
import { callAws } from '../aws-errors.js';
import { prefixScanPage } from './prefix-scan.js';

const SERVICE = 'the trusted issuer store';
const PREFIX = 'trusted-issuer#';

/**
 * Trusted issuers added through the admin API (see docs/architecture.md "Storage"):
 *   pk = "trusted-issuer#<iss>", sk = "trusted-issuer"; issuer, definition (the JSON as put,
 *   as text), updatedAt, actor, sourceIp; no TTL.
 * The token and introspection functions read one (GetItem, cached per container); the admin API
 * writes, deletes and lists them (a filtered Scan).
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

  async put(record: StoredTrustedIssuer): Promise<boolean> {
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
    return Attributes === undefined;
  }

  async remove(issuer: string): Promise<boolean> {
    const { Attributes } = await callAws(
      this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: this.key(issuer),
          ReturnValues: 'ALL_OLD',
        }),
      ),
      SERVICE,
    );
    return Attributes !== undefined;
  }

  /** The operator's listing: a paginated Scan filtered to these items (occasional use only). */
  page(cursor: string | undefined, scanLimit: number): Promise<StoredTrustedIssuerPage> {
    const page = { cursor, scanLimit };
    return prefixScanPage(this.client, this.tableName, PREFIX, page, SERVICE, recordOf);
  }
}

const recordOf = (item: Record<string, unknown>): StoredTrustedIssuer => ({
  issuer: item.issuer as string,
  definition: JSON.parse(item.definition as string) as Record<string, unknown>,
  updated: {
    at: item.updatedAt as number,
    ...(item.actor !== undefined && { actor: item.actor as string }),
    ...(item.sourceIp !== undefined && { sourceIp: item.sourceIp as string }),
  },
});
