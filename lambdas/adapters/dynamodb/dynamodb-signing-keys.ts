import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type {
  Keyring,
  KeyringEntry,
  SigningKeyReader,
  SigningKeyStore,
} from '../../core/signing/ports.js';
import { callAws, callAwsIfCondition } from '../aws-errors.js';
import { expiryAttributes } from './table-schema.js';

const SERVICE = 'the signing keyring';

/** The keyring: pk = "keyring#signing", sk = "keyring"; version, keys (public parts); no TTL. */
const KEYRING_KEY = { pk: 'keyring#signing', sk: 'keyring' };
/** A private half: pk = "signingkey#<kid>", sk = "signingkey"; wrappedPrivateKey (binary). */
const privateKey = (kid: string) => ({ pk: `signingkey#${kid}`, sk: 'signingkey' });

/**
 * The wrapped mode's keys on the table (docs/architecture.md "Storage"). The keyring is read strongly
 * consistent (a rotation is seen at the next refresh, never half-applied); the publishing
 * functions' IAM reaches only `keyring#*`, the token function's also `signingkey#*`.
 */
export class DynamoDbSigningKeys implements SigningKeyStore, SigningKeyReader {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async readKeyring(): Promise<Keyring | undefined> {
    const { Item } = await callAws(
      this.client.send(
        new GetCommand({ TableName: this.tableName, Key: KEYRING_KEY, ConsistentRead: true }),
      ),
      SERVICE,
    );
    if (Item === undefined) return undefined;
    return { version: Item.version as number, keys: Item.keys as KeyringEntry[] };
  }

  async readWrappedKey(kid: string): Promise<Uint8Array | undefined> {
    const { Item } = await callAws(
      this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: privateKey(kid),
          ConsistentRead: true,
          ProjectionExpression: 'wrappedPrivateKey',
        }),
      ),
      SERVICE,
    );
    return Item?.wrappedPrivateKey as Uint8Array | undefined;
  }

  async putWrappedKey(kid: string, wrappedPrivateKey: Uint8Array, createdAt: number) {
    await callAws(
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...privateKey(kid), kid, wrappedPrivateKey, createdAt },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
      SERVICE,
    );
  }

  async replaceKeyring(keyring: Keyring): Promise<boolean> {
    const written = await callAwsIfCondition(
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...KEYRING_KEY, version: keyring.version, keys: keyring.keys },
          ...(keyring.version === 1
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: '#version = :previous',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':previous': keyring.version - 1 },
              }),
        }),
      ),
      SERVICE,
    );
    return written !== undefined;
  }

  async expireWrappedKey(kid: string, expiresAt: number) {
    const { ttl, expiryDay } = expiryAttributes(expiresAt);
    await callAwsIfCondition(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: privateKey(kid),
          UpdateExpression: 'SET #ttl = :ttl, expiryDay = :day',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':ttl': ttl, ':day': expiryDay },
        }),
      ),
      SERVICE,
    );
  }
}
