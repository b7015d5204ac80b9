import { signerFor } from '../../aws/kms.js';
import { lambdaHandler } from '../../aws/lambda-handler.js';
import { loadConfig } from '../../config.js';
import { jwksEndpoint } from '../../wiring.js';

const config = loadConfig(process.env);
// Publishes public keys only: in the wrapped mode it cannot unwrap a private one.
export const handler = lambdaHandler('jwks', jwksEndpoint, {
  config,
  signer: signerFor(config, 'verify'),
});
