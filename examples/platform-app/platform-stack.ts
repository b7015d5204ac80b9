import { Stack, type StackProps } from 'aws-cdk-lib';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { ServerlessDcr } from 'serverless-dcr';

export interface PlatformStackProps extends StackProps {
  /** Where the alarms go. */
  readonly alarmEmail: string;
  /** The MCP servers the platform runs: the tokens' audiences. */
  readonly mcpServers: readonly string[];
}

/**
 * A platform team's own stack with the authorization server in it, configured in code: only
 * clients with an initial access token (handed out by the platform team) or a software
 * statement may register, each for at most 30 days; the issuer is published in Parameter Store
 * for the platform's other stacks.
 */
export class PlatformStack extends Stack {
  readonly auth: ServerlessDcr;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    this.auth = new ServerlessDcr(this, 'Auth', {
      allowedScopes: ['mcp:tools', 'mcp:admin'],
      resources: props.mcpServers,
      registrationAccess: ['initial_access_token', 'software_statement'],
      registrationTiers: {
        initial_access_token: { max_client_lifetime_seconds: 30 * 24 * 3600 },
        software_statement: { max_client_lifetime_seconds: 30 * 24 * 3600 },
      },
      accessTokenLifetimeSeconds: 300,
      logRetentionDays: 90,
      tracing: true,
      alarmEmail: props.alarmEmail,
    });
    new StringParameter(this, 'Issuer', {
      parameterName: '/platform/auth/issuer',
      stringValue: this.auth.issuer,
      description: 'The OAuth issuer of the platform’s authorization server',
    });
  }
}
