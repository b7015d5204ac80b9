import { lambdaHandler } from '../../aws/lambda-handler.js';
import { tokenDependencies } from '../../aws/token-dependencies.js';
import { loadConfig } from '../../config.js';
import { introspectEndpoint } from '../../wiring.js';

export const handler = lambdaHandler(
  'introspect',
  introspectEndpoint,
  tokenDependencies(loadConfig(process.env), 'verify'),
);
