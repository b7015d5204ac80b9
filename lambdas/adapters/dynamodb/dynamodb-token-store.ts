import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type {
  AssertionTokenEvent,
  ExchangeTokenEvent,
} from '../../core/federation/federated-tokens.js';
import type { TokenStore } from '../../core/tokens/ports.js';
import { callAws, callAwsIfCondition } from '../aws-errors.js';
import { expiryAttributes } from './table-schema.js';

const SERVICE = 'the token store';

/**
 * Items (see docs/architecture.md "Storage"), each kept by TTL only as long as it matters:
 *   pk = "revoked#<jti>",                 sk = "revoked";   ttl = the token's exp
 *   pk = "assertion#<client_id>#<jti>",   sk = "assertion"; ttl = the assertion's exp
 *   pk = "dpop#<jkt>:<jti>",              sk = "dpop";      ttl = the proof's iat + its window
 *   pk = "federated#<iss>#<jti>",         sk = "federated"; ttl = the assertion's exp + leeway;
 *                                         event = its token's audit event (JSON)
 *   pk = "exchange#<jti>",                sk = "exchange";  ttl = the exchanged token's exp;
 *                                         event = its audit event (JSON, the actor chain)
 * The audit function reads the events from the table's stream (INSERTs of those two only).
 */
export class DynamoDbTokenStore implements TokenStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async revoke(jti: string, expiresAt: number): Promise<void> {
    await callAws(
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: `revoked#${jti}`, sk: 'revoked', ...expiryAttributes(expiresAt) },
        }),
      ),
      SERVICE,
    );
  }

  async isRevoked(jti: string): Promise<boolean> {
    const { Item } = await callAws(
      this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: `revoked#${jti}`, sk: 'revoked' },
          ConsistentRead: true,
        }),
      ),
      SERVICE,
    );
    return Item !== undefined;
  }

  useAssertionId(clientId: string, jti: string, expiresAt: number): Promise<boolean> {
    return this.putOnce(`assertion#${clientId}#${jti}`, 'assertion', expiresAt);
  }

  useDpopProof(proofId: string, expiresAt: number): Promise<boolean> {
    return this.putOnce(`dpop#${proofId}`, 'dpop', expiresAt);
  }

  useIssuerAssertion(
    issuer: string,
    jti: string,
    expiresAt: number,
    event: AssertionTokenEvent,
  ): Promise<boolean> {
    // A JSON string: the event's shape (nested `aud` lists) is the stream reader's concern.
    return this.putOnce(`federated#${issuer}#${jti}`, 'federated', expiresAt, {
      event: JSON.stringify(event),
    });
  }

  async recordExchange(event: ExchangeTokenEvent): Promise<void> {
    await callAws(
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: `exchange#${event.jti}`,
            sk: 'exchange',
            event: JSON.stringify(event),
            ...expiryAttributes(event.exp),
          },
        }),
      ),
      SERVICE,
    );
  }

  /** One conditional put: false when the item exists (the identifier was used). */
  private async putOnce(
    pk: string,
    sk: string,
    expiresAt: number,
    attributes: Record<string, string> = {},
  ): Promise<boolean> {
    const recorded = await callAwsIfCondition(
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk, sk, ...attributes, ...expiryAttributes(expiresAt) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
      SERVICE,
    );
    return recorded !== undefined;
  }
}
