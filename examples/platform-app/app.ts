import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PlatformStack } from './platform-stack.js';

/**
 * A platform team's CDK app holding the authorization server as a construct:
 * `npx cdk synth --app 'npx tsx examples/platform-app/app.ts'` (or deploy), with `AWS_REGION`.
 */
const region = process.env.AWS_REGION;
if (!region) throw new Error('AWS_REGION is not set: the region to deploy to');
const app = new App();
new PlatformStack(app, 'Platform', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region },
  alarmEmail: process.env.ALARM_EMAIL ?? 'platform-oncall@example.com',
  mcpServers: ['https://tools.example.com/mcp', 'https://search.example.com/mcp'],
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
