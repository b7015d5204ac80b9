import { lambdaHandler } from '../../aws/lambda-handler.js';
import { loadConfig } from '../../config.js';
import { discoveryEndpoint } from '../../wiring.js';

export const handler = lambdaHandler('discovery', discoveryEndpoint, {
  config: loadConfig(process.env),
});
