import { authorizeDependencies } from '../../aws/authorize-dependencies.js';
import { lambdaHandler } from '../../aws/lambda-handler.js';
import { loadConfig } from '../../config.js';

export const handler = lambdaHandler('authorize', authorizeDependencies(loadConfig(process.env)));
