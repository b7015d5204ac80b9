import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { McpServerStack } from '../../examples/mcp-server/cdk/stack.js';

/** The example MCP server's CDK app: the kit's authorizer in front of the MCP routes. */
function template(resource?: string) {
  const app = new App({
    context: { 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: false,
  } as ConstructorParameters<typeof App>[0]);
  const stack = new McpServerStack(app, 'McpExample', {
    issuer: 'https://auth.example.com',
    scopes: ['mcp:tools'],
    ...(resource && { resource }),
  });
  return Template.fromStack(stack);
}

describe('the example MCP server on Lambda', () => {
  const t = template('https://mcp.example.com/mcp');

  it('puts a Lambda request authorizer with simple responses and caching off on /mcp', () => {
    t.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      AuthorizerResultTtlInSeconds: 0,
      IdentitySource: ['$request.header.Authorization'],
    });
    const authorizers = t.findResources('AWS::ApiGatewayV2::Authorizer');
    const [authorizerId] = Object.keys(authorizers);
    for (const method of ['POST', 'GET', 'DELETE'])
      t.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: `${method} /mcp`,
        AuthorizationType: 'CUSTOM',
        AuthorizerId: { Ref: authorizerId },
      });
  });

  it('leaves the RFC 9728 metadata route public', () => {
    t.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'GET /.well-known/oauth-protected-resource/mcp',
      AuthorizationType: 'NONE',
    });
  });

  it('configures the authorizer with the issuer, the resource, the scopes and the MCP digest', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Environment: {
        Variables: Match.objectLike({
          RS_ISSUER: 'https://auth.example.com',
          RS_RESOURCE: 'https://mcp.example.com/mcp',
          RS_SCOPES: 'mcp:tools',
          RS_DPOP_CONTENT_DIGEST: 'true',
        }),
      },
    });
  });

  it('defaults the resource to the API URL + /mcp, for the authorizer and the server', () => {
    const defaulted = template();
    const [apiId] = Object.keys(defaulted.findResources('AWS::ApiGatewayV2::Api'));
    const functions = Object.values(defaulted.findResources('AWS::Lambda::Function'));
    const resources = functions.map((f) => f.Properties.Environment.Variables.RS_RESOURCE);
    expect(resources).toHaveLength(2);
    for (const resource of resources)
      expect(resource).toEqual({
        'Fn::Join': ['', [{ 'Fn::GetAtt': [apiId, 'ApiEndpoint'] }, '/mcp']],
      });
  });
});
