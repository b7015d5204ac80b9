import { DynamoDbClientStatistics } from '../../adapters/dynamodb/dynamodb-client-statistics.js';
import { DynamoDbFederatedSubjects } from '../../adapters/dynamodb/dynamodb-federated-subjects.js';
import { documentClient, dynamoDbStores } from '../../aws/dynamodb.js';
import { lambdaHandler } from '../../aws/lambda-handler.js';
import { loadConfig } from '../../config.js';
import { systemClock } from '../../core/clock.js';
import { adminEndpoint } from '../../wiring.js';

const config = loadConfig(process.env);
const dynamo = documentClient();
const { repository, initialAccessTokens, blockedSoftware, archive, trustedIssuerStore } =
  dynamoDbStores(config, dynamo);
/** The operator's registry API; API Gateway lets only IAM-authenticated (SigV4) callers in. */
export const handler = lambdaHandler('admin', adminEndpoint, {
  config,
  repository,
  blockedSoftware,
  directory: repository,
  statistics: new DynamoDbClientStatistics(dynamo, config.tableName),
  initialAccessTokens,
  archive,
  trustedIssuerStore,
  federatedSubjects: new DynamoDbFederatedSubjects(dynamo, config.tableName),
  clock: systemClock,
});
