import { App } from 'aws-cdk-lib';
import { ServerlessDcrStack } from '../lib/serverless-dcr-stack.js';

const app = new App();
new ServerlessDcrStack(app, 'ServerlessDcr', {
  env: {
    account: process.env.CDK_DEFAULT_ACCOUNT,
    region: process.env.AWS_REGION ?? process.env.CDK_DEFAULT_REGION,
  },
});
