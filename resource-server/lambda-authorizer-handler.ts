import { authorizerFromEnvironment } from './lambda-authorizer.js';

/** The authorizer function's entry point (bundled by the CDK construct). */
export const handler = authorizerFromEnvironment();
