import { signerFor } from '../../aws/kms.js';
import { lambdaHandler } from '../../aws/lambda-handler.js';
import { loadConfig } from '../../config.js';

const config = loadConfig(process.env);
// Publishes public keys only: in the wrapped mode it cannot unwrap a private one.
export const handler = lambdaHandler('jwks', { config, signer: signerFor(config, 'verify') });
