import { dynamoDbStores } from '../../aws/dynamodb.js';
import { lambdaHandler } from '../../aws/lambda-handler.js';
import { loadConfig } from '../../config.js';
import { systemClock } from '../../core/clock.js';

const config = loadConfig(process.env);
const { repository, blockedSoftware } = dynamoDbStores(config);
export const handler = lambdaHandler('client-configuration', {
  config,
  repository,
  blockedSoftware,
  clock: systemClock,
});
