import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbClientRepository } from './adapters/dynamodb-client-repository.js';
import { DynamoDbTokenStore } from './adapters/dynamodb-token-store.js';
import { KmsSigner } from './adapters/kms-signer.js';
import { GuardedRemoteKeySets } from './adapters/remote-key-sets.js';
import { loadConfig } from './config.js';
import { type Signer, systemClock } from './core/ports.js';
import { type LambdaHandler, toLambdaHandler } from './http/lambda.js';
import { createRouter } from './http/router.js';
import { type Endpoint, routesFor, SIGNING_ENDPOINTS } from './wiring.js';

/** The document client every function uses: plain JS values in and out, undefined dropped. */
export const documentClient = (client: DynamoDBClient) =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

/** For functions that never sign: using it is a wiring bug, not a client error. */
const noSigner: Signer = {
  activeKey: () => Promise.reject(new Error('this function has no signing key')),
  publishedKeys: () => Promise.reject(new Error('this function has no signing key')),
  sign: () => Promise.reject(new Error('this function has no signing key')),
};

/**
 * Builds one endpoint's Lambda handler at module scope (once per container): configuration is
 * parsed and the SDK clients created here, so a bad setting fails the cold start, loudly. No
 * network call happens until the first request.
 */
export function lambdaHandler(endpoint: Endpoint): LambdaHandler {
  const config = loadConfig(process.env);
  if (SIGNING_ENDPOINTS.has(endpoint) && config.kmsKeyId === undefined) {
    throw new Error(`invalid configuration: DCR_KMS_KEY_ID is required by ${endpoint}`);
  }
  const dynamo = documentClient(new DynamoDBClient({}));
  const signer = config.kmsKeyId
    ? new KmsSigner(new KMSClient({}), {
        activeKeyId: config.kmsKeyId,
        previousKeyIds: config.kmsPreviousKeyIds,
      })
    : noSigner;
  const routes = routesFor([endpoint], {
    config,
    repository: new DynamoDbClientRepository(dynamo, config.tableName),
    tokenStore: new DynamoDbTokenStore(dynamo, config.tableName),
    signer,
    remoteKeySets: new GuardedRemoteKeySets(),
    clock: systemClock,
  });
  return toLambdaHandler(createRouter(routes), config.issuer);
}
