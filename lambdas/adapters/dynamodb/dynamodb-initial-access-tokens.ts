import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type {
  InitialAccessTokenPage,
  InitialAccessTokenRecord,
  InitialAccessTokenStore,
} from '../../core/registration/ports.js';
import { callAws, callAwsIfCondition } from '../aws-errors.js';
import { prefixScanPage } from './prefix-scan.js';
import { expiryAttributes, withoutTableAttributes } from './table-schema.js';

const SERVICE = 'the initial access token store';

/** pk = "iat#<id>", sk = "iat": the record; ttl = expiresAt (cleanup deletes it then). */
const key = (id: string) => ({ pk: `iat#${id}`, sk: 'iat' });

const toRecord = (item: Record<string, unknown>) =>
  withoutTableAttributes<InitialAccessTokenRecord>(item);

export class DynamoDbInitialAccessTokens implements InitialAccessTokenStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(record: InitialAccessTokenRecord): Promise<void> {
    await callAws(
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key(record.id), ...record, ...expiryAttributes(record.expiresAt) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
      SERVICE,
    );
  }

  async get(id: string): Promise<InitialAccessTokenRecord | undefined> {
    const { Item } = await callAws(
      this.client.send(
        new GetCommand({ TableName: this.tableName, Key: key(id), ConsistentRead: true }),
      ),
      SERVICE,
    );
    return Item && toRecord(Item);
  }

  /**
   * The one conditional write of a registration with a token: the use, and the place under the
   * active-client cap, counted atomically.
   */
  async use(id: string, tokenHash: string, now: number) {
    const used = await callAwsIfCondition(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(id),
          UpdateExpression: 'ADD uses :one, activeClients :one',
          ConditionExpression: [
            'attribute_exists(pk) AND tokenHash = :hash AND expiresAt > :now',
            '(attribute_not_exists(maxUses) OR uses < maxUses)',
            '(attribute_not_exists(maxActiveClients) OR attribute_not_exists(activeClients) OR activeClients < maxActiveClients)',
          ].join(' AND '),
          ExpressionAttributeValues: { ':one': 1, ':hash': tokenHash, ':now': now },
          ReturnValues: 'ALL_NEW',
        }),
      ),
      SERVICE,
    );
    const attributes = used?.output.Attributes;
    return attributes && toRecord(attributes);
  }

  /** One conditional add of -1: never below zero, and no item made again for a revoked token. */
  async release(id: string): Promise<void> {
    await callAwsIfCondition(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(id),
          UpdateExpression: 'ADD activeClients :less',
          ConditionExpression: 'attribute_exists(pk) AND activeClients > :none',
          ExpressionAttributeValues: { ':less': -1, ':none': 0 },
        }),
      ),
      SERVICE,
    );
  }

  async delete(id: string): Promise<boolean> {
    const { Attributes } = await callAws(
      this.client.send(
        new DeleteCommand({ TableName: this.tableName, Key: key(id), ReturnValues: 'ALL_OLD' }),
      ),
      SERVICE,
    );
    return Attributes !== undefined;
  }

  /** The operator's listing: a paginated Scan filtered to token items (occasional use only). */
  page(cursor: string | undefined, scanLimit: number): Promise<InitialAccessTokenPage> {
    const page = { cursor, scanLimit };
    return prefixScanPage(this.client, this.tableName, 'iat#', page, SERVICE, toRecord);
  }
}
