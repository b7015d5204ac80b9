import { App } from 'aws-cdk-lib';
import { McpServerStack } from './stack.js';

/**
 * `npx cdk synth --app 'npx tsx examples/mcp-server/cdk/app.ts'` (or deploy): the example MCP
 * server on Lambda, with `ISSUER` and `SCOPES` (and optionally `RESOURCE`) from the environment.
 */
const app = new App();
const issuer = process.env.ISSUER;
if (!issuer) throw new Error('ISSUER is not set: the authorization server issuing the tokens');
new McpServerStack(app, 'McpServerExample', {
  issuer,
  scopes: (process.env.SCOPES ?? '').split(' ').filter(Boolean),
  ...(process.env.RESOURCE && { resource: process.env.RESOURCE }),
});
