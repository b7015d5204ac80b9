import { Logger } from '@aws-lambda-powertools/logger';

/**
 * One structured JSON logger for every function and the local server. Level from
 * POWERTOOLS_LOG_LEVEL (default INFO). Never pass it a secret, a token or a request body.
 */
export const logger = new Logger({ serviceName: 'serverless-dcr' });
