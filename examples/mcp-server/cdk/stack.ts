import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { HttpApi, HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import { ESM_BUNDLING, McpAuthorizer } from '../../../resource-server/cdk/mcp-authorizer.js';

export interface McpServerStackProps extends StackProps {
  /** The authorization server's issuer. */
  readonly issuer: string;
  /** The scopes the tools need. */
  readonly scopes: readonly string[];
  /** The canonical MCP URL; default the API's own URL + `/mcp`. */
  readonly resource?: string;
}

const projectRoot = new URL('../../..', import.meta.url).pathname;

/**
 * The example MCP server on Lambda: an HTTP API whose `/mcp` routes sit behind the kit's
 * authorizer, and whose RFC 9728 metadata route is public.
 */
export class McpServerStack extends Stack {
  constructor(scope: Construct, id: string, props: McpServerStackProps) {
    super(scope, id, props);
    const api = new HttpApi(this, 'Api', { createDefaultStage: true });
    const resource = props.resource ?? `${api.apiEndpoint}/mcp`;
    const settings = {
      RS_ISSUER: props.issuer,
      RS_RESOURCE: resource,
      RS_SCOPES: props.scopes.join(' '),
    };

    const { authorizer } = new McpAuthorizer(this, 'Authorizer', {
      issuer: props.issuer,
      resource,
      scopes: props.scopes,
      dpopContentDigest: true,
    });
    const server = new NodejsFunction(this, 'McpServer', {
      entry: `${projectRoot}examples/mcp-server/lambda.ts`,
      handler: 'handler',
      projectRoot,
      depsLockFilePath: `${projectRoot}package-lock.json`,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.seconds(15),
      environment: { NODE_OPTIONS: '--enable-source-maps', ...settings },
      bundling: ESM_BUNDLING,
    });
    const integration = new HttpLambdaIntegration('McpIntegration', server);
    api.addRoutes({
      path: '/mcp',
      methods: [HttpMethod.POST, HttpMethod.GET, HttpMethod.DELETE],
      integration,
      authorizer,
    });
    api.addRoutes({
      path: '/.well-known/oauth-protected-resource/mcp',
      methods: [HttpMethod.GET],
      integration,
    });
    new CfnOutput(this, 'McpUrl', { value: resource });
  }
}
