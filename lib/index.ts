/**
 * The package's entry point for CDK apps (`import { ServerlessDcr } from 'serverless-dcr'`):
 * the construct and its props, and the stack `cdk deploy` makes from the `dcr:*` context.
 */
export type { DcrApi } from './constructs/dcr-api.js';
export { ServerlessDcr, type ServerlessDcrProps } from './serverless-dcr.js';
export { ServerlessDcrStack } from './serverless-dcr-stack.js';
