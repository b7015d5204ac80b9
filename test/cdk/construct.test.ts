import { App, Stack } from 'aws-cdk-lib';
import { ServerlessDcr, type ServerlessDcrProps, ServerlessDcrStack } from 'serverless-dcr';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { DeploymentValues } from '../../lib/config.js';

/**
 * The server as a construct in a platform team's own stack: typed props, checked as the `dcr:*`
 * context is, and the same template as `cdk deploy`'s stack for the same settings. Imported
 * through the package's entry point, as a platform team imports it. Bundling is skipped.
 */
const ACCOUNT = '111111111111';
const REGION = 'eu-west-1';
const app = (context: Record<string, unknown> = {}) =>
  new App({
    context: { 'aws:cdk:bundling-stacks': [], ...context },
    builtinCloudFormationValidation: false,
  } as ConstructorParameters<typeof App>[0]);
const env = { account: ACCOUNT, region: REGION };

const templateOf = (cdk: App, stack: Stack) =>
  cdk.synth({ validateOnSynthesis: false }).getStackByName(stack.stackName).template;

/** `cdk deploy`'s stack, configured by context (cdk.json, or `-c` text). */
function fromContext(context: Record<string, unknown>) {
  const cdk = app(context);
  return templateOf(cdk, new ServerlessDcrStack(cdk, 'ServerlessDcr', { env }));
}

/** A stack of the platform team's holding the construct, configured by props. */
function fromProps(props: ServerlessDcrProps, id = 'Default') {
  const cdk = app();
  const stack = new Stack(cdk, 'ServerlessDcr', { env });
  new ServerlessDcr(stack, id, props);
  return templateOf(cdk, stack);
}

const certificate = (region: string) =>
  `arn:aws:acm:${region}:${ACCOUNT}:certificate/11111111-2222-3333-4444-555555555555`;

/** Settings of every kind, as `-c` gives them (text) and as typed props. */
const CONTEXT = {
  'dcr:signingAlgorithm': 'ES256',
  'dcr:allowedScopes': 'mcp:tools read',
  'dcr:resources': 'https://mcp.example.com/mcp',
  'dcr:registrationAccess': 'initial_access_token,software_statement',
  'dcr:registrationTiers': '{"initial_access_token":{"max_client_lifetime_seconds":3600}}',
  'dcr:tracing': 'true',
  'dcr:retainData': 'false',
  'dcr:throttleRateLimit': '50',
  'dcr:logRetentionDays': '90',
  'dcr:dpopNonce': 'off',
  'dcr:upstreamIssuer': 'https://login.example.com',
  'dcr:upstreamClientId': 'dcr',
  'dcr:domainName': 'auth.example.com',
  'dcr:certificateArn': certificate(REGION),
  'dcr:mtlsDomainName': 'mtls.auth.example.com',
  'dcr:mtlsTruststoreUri': 's3://truststore-bucket/ca.pem',
  'dcr:replicaRegions': 'eu-central-1',
  'dcr:alarmEmail': 'ops@example.com',
};
const PROPS: ServerlessDcrProps = {
  signingAlgorithm: 'ES256',
  allowedScopes: ['mcp:tools', 'read'],
  resources: ['https://mcp.example.com/mcp'],
  registrationAccess: ['initial_access_token', 'software_statement'],
  registrationTiers: { initial_access_token: { max_client_lifetime_seconds: 3600 } },
  tracing: true,
  retainData: false,
  throttleRateLimit: 50,
  logRetentionDays: 90,
  dpopNonce: 'off',
  upstreamIssuer: 'https://login.example.com',
  upstreamClientId: 'dcr',
  domainName: 'auth.example.com',
  certificateArn: certificate(REGION),
  mtlsDomainName: 'mtls.auth.example.com',
  mtlsTruststoreUri: 's3://truststore-bucket/ca.pem',
  replicaRegions: ['eu-central-1'],
  alarmEmail: 'ops@example.com',
};

describe('the construct and the stack', () => {
  it('make the same template by default', () => {
    expect(fromProps({})).toEqual(fromContext({}));
  });

  it('make the same template from typed props as from the equivalent context', () => {
    const fromText = fromContext(CONTEXT);
    expect(fromProps(PROPS)).toEqual(fromText);
    // The settings took effect (not two equally default templates).
    expect(JSON.stringify(fromText)).toContain('auth.example.com');
  });

  it('keep the logical ids the stack gave its stateful resources (a new id replaces one)', () => {
    const ids = Object.entries(fromContext(CONTEXT).Resources as Record<string, { Type: string }>)
      .filter(([, r]) =>
        /^AWS::(DynamoDB::GlobalTable|KMS::|ApiGatewayV2::(DomainName|ApiMapping)|SecretsManager::Secret|Events::EventBus)/.test(
          r.Type,
        ),
      )
      .map(([id]) => id)
      .sort();
    expect(ids).toEqual([
      'AuditBusA72CB67D',
      'ClientsTable5BB59C73',
      'HttpDefaultStageServerlessDcrHttpDomainundefinedE22C96A2',
      'HttpDomainFF7569C3',
      'HttpMtlsDomainC042067E',
      'HttpMtlsMappingB8CA3089',
      'LoginCookieKeyD47457F0',
      'SigningKey49B95470',
      'SigningKeyAlias66DD5407',
    ]);
  });
});

describe('props are checked as the context is', () => {
  const messageOf = (synth: () => unknown) => {
    try {
      synth();
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('the synth did not fail');
  };

  it.each([
    ['a value that breaks its rule', { 'dcr:throttleBurstLimit': '0' }, { throttleBurstLimit: 0 }],
    [
      'a rule across settings',
      { 'dcr:domainName': 'auth.example.com' },
      { domainName: 'auth.example.com' },
    ],
    [
      'a setting the region refuses',
      { 'dcr:domainName': 'auth.example.com', 'dcr:certificateArn': certificate('us-east-1') },
      { domainName: 'auth.example.com', certificateArn: certificate('us-east-1') },
    ],
    [
      'a JSON setting’s member',
      { 'dcr:registrationTiers': { open: { public_clients: 'yes' } } },
      { registrationTiers: { open: { public_clients: 'yes' as unknown as boolean } } },
    ],
  ])('%s fails the synth with the same message', (_, context, props) => {
    const message = messageOf(() => fromContext(context));
    expect(message).toMatch(/^invalid deployment configuration: dcr:/);
    expect(messageOf(() => fromProps(props))).toBe(message);
  });

  it('refuses a prop that names no setting (a JavaScript caller, a cast)', () => {
    expect(
      messageOf(() => fromProps({ allowedScope: ['read'] } as unknown as ServerlessDcrProps)),
    ).toBe(
      'invalid deployment configuration: allowedScope: is not a setting (docs/configuration.md lists them)',
    );
  });
});

describe('in a stack of its own under its own id', () => {
  it('names its resources after its path and reports the issuer', () => {
    const cdk = app();
    const stack = new Stack(cdk, 'Platform', { env });
    const auth = new ServerlessDcr(stack, 'Auth', { allowedScopes: ['read'] });
    const resources = Object.keys(templateOf(cdk, stack).Resources as object);
    expect(resources.some((id) => id.startsWith('AuthClientsTable'))).toBe(true);
    expect(stack.resolve(auth.issuer)).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^AuthHttpApi/), 'ApiEndpoint'],
    });
  });
});

describe('the props’ type', () => {
  it('is every deployment setting by its key, typed as cdk.json holds it', () => {
    expectTypeOf<keyof ServerlessDcrProps>().toEqualTypeOf<keyof DeploymentValues>();
    expectTypeOf<ServerlessDcrProps['tracing']>().toEqualTypeOf<boolean | undefined>();
    expectTypeOf<ServerlessDcrProps['throttleBurstLimit']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<ServerlessDcrProps['signingAlgorithm']>().toEqualTypeOf<
      'RS256' | 'ES256' | undefined
    >();
    expectTypeOf<ServerlessDcrProps['registrationAccess']>().toEqualTypeOf<
      readonly ('open' | 'initial_access_token' | 'software_statement' | 'mtls')[] | undefined
    >();
    // @ts-expect-error a flag is a boolean, not its text
    const flag: ServerlessDcrProps = { tracing: 'true' };
    // @ts-expect-error a list is an array
    const list: ServerlessDcrProps = { allowedScopes: 'read write' };
    // @ts-expect-error a tier names a registration way
    const tier: ServerlessDcrProps = { registrationTiers: { anyone: {} } };
    expect([flag, list, tier]).toHaveLength(3);
  });
});

describe('the package’s entry points', () => {
  it('export the resource-server kit beside the construct, by the package’s name', async () => {
    const kit = await import('serverless-dcr/resource-server');
    const construct = await import('serverless-dcr/resource-server/cdk/mcp-authorizer');
    expect(typeof kit.createVerifier).toBe('function');
    expect(typeof construct.McpAuthorizer).toBe('function');
  });
});
