import { kmsSigner } from '../aws/kms.js';
import { lambdaHandler } from '../aws/lambda-handler.js';
import { loadConfig } from '../config.js';

const config = loadConfig(process.env);
export const handler = lambdaHandler('jwks', { config, signer: kmsSigner(config) });
