import { generateKeyPairSync } from 'node:crypto';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ServerlessDcrStack } from '../../lib/serverless-dcr-stack.js';

/**
 * Settings an AWS service would refuse at deploy fail `cdk synth`, naming the setting
 * (lib/deploy-rules.ts). Bundling is skipped here.
 */
const ACCOUNT = '123456789012';
function synth(context: Record<string, unknown>, region: string | null = 'eu-west-1') {
  const app = new App({
    context: { 'aws:cdk:bundling-stacks': [], ...context },
    builtinCloudFormationValidation: false,
  } as ConstructorParameters<typeof App>[0]);
  const stack = new ServerlessDcrStack(
    app,
    'Test',
    region === null ? {} : { env: { account: ACCOUNT, region } },
  );
  return Template.fromStack(stack);
}

const UPSTREAM = {
  'dcr:upstreamIssuer': 'https://login.example.com',
  'dcr:upstreamClientId': 'dcr',
};
const certificate = (region: string) =>
  `arn:aws:acm:${region}:${ACCOUNT}:certificate/11111111-2222-3333-4444-555555555555`;

describe('log retention', () => {
  it('refuses a retention CloudWatch Logs does not offer, naming the setting', () => {
    expect(() => synth({ 'dcr:logRetentionDays': '45' })).toThrow(
      /dcr:logRetentionDays: must be a retention CloudWatch Logs offers: 1, 3, 5, 7, 14, 30, 60/,
    );
  });

  it('takes one it offers', () => {
    synth({ 'dcr:logRetentionDays': '60' }).hasResourceProperties('AWS::Logs::LogGroup', {
      RetentionInDays: 60,
    });
  });
});

describe('scopes asked of the stack’s own Cognito user pool', () => {
  it('refuses one Cognito would refuse (offline_access), naming the setting', () => {
    expect(() => synth({ 'dcr:upstreamScopes': 'openid offline_access' })).toThrow(
      /dcr:upstreamScopes: the stack’s Cognito user pool accepts only openid, email, phone, profile, aws.cognito.signin.user.admin, not offline_access/,
    );
  });

  it('takes the ones Cognito accepts, and any with the operator’s own provider', () => {
    synth({ 'dcr:upstreamScopes': 'openid email profile' }).hasResourceProperties(
      'AWS::Cognito::UserPoolClient',
      { AllowedOAuthScopes: ['openid', 'email', 'profile'] },
    );
    expect(() =>
      synth({ ...UPSTREAM, 'dcr:upstreamScopes': 'openid offline_access' }),
    ).not.toThrow();
  });
});

describe('certificates in the stack’s region', () => {
  const domain = { 'dcr:domainName': 'auth.example.com' };
  const mtls = {
    'dcr:mtlsDomainName': 'mtls.auth.example.com',
    'dcr:mtlsTruststoreUri': 's3://example-truststore/ca.pem',
  };

  it('refuses a certificate from another region, naming the setting', () => {
    expect(() => synth({ ...domain, 'dcr:certificateArn': certificate('us-east-1') })).toThrow(
      /dcr:certificateArn: is in us-east-1, but a regional custom domain needs an ACM certificate in the stack’s own region eu-west-1/,
    );
    expect(() =>
      synth({
        ...domain,
        ...mtls,
        'dcr:certificateArn': certificate('eu-west-1'),
        'dcr:mtlsCertificateArn': certificate('us-east-1'),
      }),
    ).toThrow(/dcr:mtlsCertificateArn: is in us-east-1/);
  });

  it('takes one from the stack’s region', () => {
    synth({ ...domain, 'dcr:certificateArn': certificate('eu-west-1') }).hasResourceProperties(
      'AWS::ApiGatewayV2::DomainName',
      { DomainName: 'auth.example.com' },
    );
  });
});

describe('the upstream client secret', () => {
  const secret = (region: string, name: string) =>
    `arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:${name}`;

  it('refuses a partial ARN (no six-character suffix): the policy would not match the secret', () => {
    expect(() =>
      synth({ ...UPSTREAM, 'dcr:upstreamClientSecretArn': secret('eu-west-1', 'dcr-upstream') }),
    ).toThrow(/dcr:upstreamClientSecretArn: must be the secret’s complete ARN/);
  });

  it('refuses a secret of another region', () => {
    expect(() =>
      synth({
        ...UPSTREAM,
        'dcr:upstreamClientSecretArn': secret('us-east-1', 'dcr-upstream-AbCdEf'),
      }),
    ).toThrow(/dcr:upstreamClientSecretArn: is in us-east-1/);
  });
});

describe('supported regions', () => {
  it('refuses a region off the list, naming the setting that lets it through', () => {
    expect(() => synth({}, 'ap-southeast-7')).toThrow(
      /dcr:allowUnlistedRegion: the stack’s region ap-southeast-7 is not one where every service/,
    );
    expect(() => synth({ 'dcr:allowUnlistedRegion': 'true' }, 'ap-southeast-7')).not.toThrow();
  });

  it('refuses a replica region off the list', () => {
    expect(() => synth({ 'dcr:replicaRegions': 'us-east-1,mx-central-1' })).toThrow(
      /dcr:replicaRegions: mx-central-1 not among the supported regions/,
    );
  });

  it('checks nothing it cannot know: an environment-agnostic stack', () => {
    expect(() =>
      synth(
        { 'dcr:domainName': 'auth.example.com', 'dcr:certificateArn': certificate('us-east-1') },
        null,
      ),
    ).not.toThrow();
  });
});

describe('the functions’ environment', () => {
  /** Inline key sets of a software statement issuer: `count` RSA public keys. */
  const issuers = (count: number) => ({
    'https://ca.example': {
      jwks: {
        keys: Array.from({ length: count }, () =>
          generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }),
        ),
      },
    },
  });

  it('refuses settings that would take a function’s environment over Lambda’s 4 KB, naming them', () => {
    expect(() => synth({ 'dcr:softwareStatementIssuers': issuers(10) })).toThrow(
      /over Lambda’s 4096; the largest: dcr:softwareStatementIssuers \(\d+ bytes\)/,
    );
  });

  it('takes an inline key set that fits', () => {
    expect(() => synth({ 'dcr:softwareStatementIssuers': issuers(2) })).not.toThrow();
  });
});

describe('ARN shapes', () => {
  it('refuses a certificate or key ARN without its region and account, naming the setting', () => {
    expect(() =>
      synth({
        'dcr:domainName': 'auth.example.com',
        'dcr:certificateArn': 'arn:aws:acm:certificate/1',
      }),
    ).toThrow(/dcr:certificateArn: must be an ACM certificate’s complete ARN/);
    expect(() =>
      synth({ 'dcr:previousSigningKeyArns': 'arn:aws:kms:alias/serverless-dcr-signing' }),
    ).toThrow(/dcr:previousSigningKeyArns: must be KMS key ARNs/);
  });
});
