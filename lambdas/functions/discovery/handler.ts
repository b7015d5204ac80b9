import { lambdaHandler } from '../../aws/lambda-handler.js';
import { loadConfig } from '../../config.js';

export const handler = lambdaHandler('discovery', { config: loadConfig(process.env) });
