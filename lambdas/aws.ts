import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbClientRepository } from './adapters/dynamodb-client-repository.js';
import { loadConfig } from './config.js';
import { systemClock } from './core/ports.js';
import { type LambdaHandler, toLambdaHandler } from './http/lambda.js';
import { createRouter } from './http/router.js';
import { type Endpoint, routesFor } from './wiring.js';

/** The document client every function uses: plain JS values in and out, undefined dropped. */
export const documentClient = (client: DynamoDBClient) =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

/**
 * Builds one endpoint's Lambda handler at module scope (once per container): configuration is
 * parsed and the SDK clients created here, so a bad setting fails the cold start, loudly.
 */
export function lambdaHandler(endpoint: Endpoint): LambdaHandler {
  const config = loadConfig(process.env);
  const repository = new DynamoDbClientRepository(
    documentClient(new DynamoDBClient({})),
    config.tableName,
  );
  const routes = routesFor([endpoint], { config, repository, clock: systemClock });
  return toLambdaHandler(createRouter(routes), config.issuer);
}
