import { lambdaHandler } from '../../aws/lambda-handler.js';
import { tokenDependencies } from '../../aws/token-dependencies.js';
import { loadConfig } from '../../config.js';
import { tokenEndpoint } from '../../wiring.js';

export const handler = lambdaHandler(
  'token',
  tokenEndpoint,
  tokenDependencies(loadConfig(process.env), 'sign'),
);
