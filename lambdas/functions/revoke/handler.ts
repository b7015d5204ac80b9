import { lambdaHandler } from '../../aws/lambda-handler.js';
import { tokenDependencies } from '../../aws/token-dependencies.js';
import { loadConfig } from '../../config.js';

export const handler = lambdaHandler(
  'revoke',
  tokenDependencies(loadConfig(process.env), 'verify'),
);
