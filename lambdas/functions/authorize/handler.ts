import { authorizeDependencies } from '../../aws/authorize-dependencies.js';
import { lambdaHandler } from '../../aws/lambda-handler.js';
import { loadConfig } from '../../config.js';
import { authorizeEndpoint } from '../../wiring.js';

export const handler = lambdaHandler(
  'authorize',
  authorizeEndpoint,
  authorizeDependencies(loadConfig(process.env)),
);
