import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ServerlessDcrStack } from '../../lib/serverless-dcr-stack.js';

let template: Template;

beforeAll(() => {
  // Bundling is skipped here (it is exercised separately); validation is aws-cdk-lib's own.
  const app = new App({
    context: { 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: false,
  } as ConstructorParameters<typeof App>[0]);
  template = Template.fromStack(new ServerlessDcrStack(app, 'Test'));
});

describe('ServerlessDcrStack', () => {
  it('has one on-demand table with TTL, PITR, a stream and deletion protection', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        Replicas: [
          Match.objectLike({
            DeletionProtectionEnabled: true,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          }),
        ],
      }),
    });
  });

  it('runs every function on Node.js 24, ARM64', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    expect(Object.keys(functions)).toHaveLength(7);
    for (const fn of Object.values(functions)) {
      expect(fn.Properties.Runtime).toBe('nodejs24.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
    }
  });

  it('has an asymmetric RSA_2048 SIGN_VERIFY key that is kept', () => {
    template.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }),
    });
  });

  it('routes each endpoint with its methods and OPTIONS', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
      (r) => r.Properties.RouteKey,
    );
    expect(routes.sort()).toEqual(
      [
        'GET /.well-known/oauth-authorization-server',
        'OPTIONS /.well-known/oauth-authorization-server',
        'GET /.well-known/openid-configuration',
        'OPTIONS /.well-known/openid-configuration',
        'POST /register',
        'OPTIONS /register',
        'GET /register/{clientId}',
        'PUT /register/{clientId}',
        'DELETE /register/{clientId}',
        'OPTIONS /register/{clientId}',
        'GET /.well-known/jwks.json',
        'OPTIONS /.well-known/jwks.json',
        'POST /token',
        'OPTIONS /token',
        'POST /introspect',
        'OPTIONS /introspect',
        'POST /revoke',
        'OPTIONS /revoke',
      ].sort(),
    );
  });
});
