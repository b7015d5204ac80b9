import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ServerlessDcrStack } from '../lib/serverless-dcr-stack.js';

/**
 * The region to deploy to, said out loud: AWS_REGION when set; else CDK_DEFAULT_REGION, which
 * the CDK CLI sets from the AWS profile (us-east-1 when the profile names none), so a deployment
 * never lands in a region nobody chose without saying which. Neither set (the app run without
 * the CLI): refused.
 */
function deploymentRegion(): string {
  const { AWS_REGION, CDK_DEFAULT_REGION } = process.env;
  if (AWS_REGION) {
    process.stderr.write(`serverless-dcr: region ${AWS_REGION} (AWS_REGION)\n`);
    return AWS_REGION;
  }
  if (CDK_DEFAULT_REGION) {
    process.stderr.write(
      `serverless-dcr: region ${CDK_DEFAULT_REGION} (CDK_DEFAULT_REGION: your AWS profile's region, or the CDK CLI's us-east-1 when it has none); set AWS_REGION to choose another\n`,
    );
    return CDK_DEFAULT_REGION;
  }
  process.stderr.write(
    'serverless-dcr: no region to deploy to: set AWS_REGION, e.g. AWS_REGION=eu-west-1 npm run synth\n',
  );
  process.exit(1);
}

const app = new App();
new ServerlessDcrStack(app, 'ServerlessDcr', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: deploymentRegion() },
});
// cdk-nag AwsSolutions: a synth with an unacknowledged finding fails.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
