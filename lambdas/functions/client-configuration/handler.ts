import { dynamoDbStores } from '../../aws/dynamodb.js';
import { lambdaHandler } from '../../aws/lambda-handler.js';
import { loadConfig } from '../../config.js';
import { systemClock } from '../../core/clock.js';
import { clientConfigurationEndpoint } from '../../wiring.js';

const config = loadConfig(process.env);
const { repository, blockedSoftware } = dynamoDbStores(config);
export const handler = lambdaHandler('client-configuration', clientConfigurationEndpoint, {
  config,
  repository,
  blockedSoftware,
  clock: systemClock,
});
