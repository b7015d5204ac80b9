import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbBlockedSoftwareIds } from '../adapters/dynamodb/dynamodb-blocked-software.js';
import { DynamoDbClientRepository } from '../adapters/dynamodb/dynamodb-client-repository.js';
import { DynamoDbGrantStore } from '../adapters/dynamodb/dynamodb-grant-store.js';
import { DynamoDbInitialAccessTokens } from '../adapters/dynamodb/dynamodb-initial-access-tokens.js';
import { DynamoDbRegistrationCounter } from '../adapters/dynamodb/dynamodb-registration-counter.js';
import { DynamoDbRegistryArchive } from '../adapters/dynamodb/dynamodb-registry-archive.js';
import { DynamoDbSoftwareClientCounts } from '../adapters/dynamodb/dynamodb-software-client-counts.js';
import { DynamoDbTokenStore } from '../adapters/dynamodb/dynamodb-token-store.js';
import { DynamoDbTrustedIssuers } from '../adapters/dynamodb/dynamodb-trusted-issuers.js';
import type { Config } from '../config.js';

/** The document client every function uses: plain JS values in and out, undefined dropped. */
export const documentClient = (client: DynamoDBClient = new DynamoDBClient({})) =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

/** The client repository, token store, grant store and registration counter on the table. */
export function dynamoDbStores(config: Config, client = documentClient()) {
  return {
    repository: new DynamoDbClientRepository(client, config.tableName),
    tokenStore: new DynamoDbTokenStore(client, config.tableName),
    grants: new DynamoDbGrantStore(client, config.tableName),
    initialAccessTokens: new DynamoDbInitialAccessTokens(client, config.tableName),
    blockedSoftware: new DynamoDbBlockedSoftwareIds(client, config.tableName),
    registrationCounter: new DynamoDbRegistrationCounter(client, config.tableName),
    softwareCounts: new DynamoDbSoftwareClientCounts(client, config.tableName),
    archive: new DynamoDbRegistryArchive(client, config.tableName),
    trustedIssuerStore: new DynamoDbTrustedIssuers(client, config.tableName),
  };
}
