import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ServerlessDcrStack } from '../lib/serverless-dcr-stack.js';

const app = new App();
new ServerlessDcrStack(app, 'ServerlessDcr', {
  env: {
    account: process.env.CDK_DEFAULT_ACCOUNT,
    region: process.env.AWS_REGION ?? process.env.CDK_DEFAULT_REGION,
  },
});
// cdk-nag AwsSolutions: a synth with an unacknowledged finding fails.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
