import { lambdaHandler } from '../../aws/lambda-handler.js';
import { tokenDependencies } from '../../aws/token-dependencies.js';
import { loadConfig } from '../../config.js';
import { revokeEndpoint } from '../../wiring.js';

export const handler = lambdaHandler(
  'revoke',
  revokeEndpoint,
  tokenDependencies(loadConfig(process.env), 'verify'),
);
