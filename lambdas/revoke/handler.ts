import { lambdaHandler } from '../aws.js';

export const handler = lambdaHandler('revoke');
