import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUrlIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { accessOf, DEPLOYED_FUNCTIONS, descriptorOf, ENDPOINTS } from '../../lambdas/functions.js';
import { ServerlessDcrStack } from '../../lib/serverless-dcr-stack.js';

/** Bundling is skipped here (the bundles are built and run in cdk/synthesized-stack). */
function synth(context: Record<string, unknown> = {}) {
  const app = new App({
    context: { 'aws:cdk:bundling-stacks': [], ...context },
    builtinCloudFormationValidation: false,
  } as ConstructorParameters<typeof App>[0]);
  const stack = new ServerlessDcrStack(app, 'Test');
  return { app, stack, template: Template.fromStack(stack) };
}

const { app, template } = synth();

/** Each function of a deployment in the kms signing mode, and the access its descriptor gives it. */
const ACCESS = Object.fromEntries(
  DEPLOYED_FUNCTIONS.filter((name) => !descriptorOf(name).wrappedOnly).map((name) => [
    name,
    accessOf(name, false),
  ]),
);

const DOMAIN = {
  'dcr:domainName': 'auth.example.com',
  'dcr:certificateArn': 'arn:aws:acm:eu-west-1:111111111111:certificate/abc',
};
const MTLS = {
  'dcr:mtlsDomainName': 'mtls.auth.example.com',
  'dcr:mtlsTruststoreUri': 's3://truststore-bucket/ca.pem',
};
const resources = (type: string) => Object.entries(template.findResources(type));

/** The logical id of the function serving an endpoint (`Function-<name>` construct). */
const functionId = (name: string) => {
  const found = resources('AWS::Lambda::Function').find(([id]) =>
    id.startsWith(`Function${name.replace(/-/g, '')}Function`),
  );
  if (!found) throw new Error(`no function for ${name}`);
  return found[0];
};

const ANY_KEY = '(any key)';

/**
 * A function's DynamoDB grants on the table and its index as the template has them: action →
 * the partition key patterns its `LeadingKeys` condition allows (ANY_KEY when unconditioned).
 * A conditioned statement must also require a key to be present (`Null: false`).
 */
function tableGrants(name: string): Record<string, string[]> {
  const grants: Record<string, string[]> = {};
  const statements = resources('AWS::IAM::Policy')
    .filter(([id]) => id.startsWith(`Function${name.replace(/-/g, '')}Role`))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement)
    // The audit function's stream read (its event source) is not access to the table.
    .filter((st: { Resource: unknown }) => !JSON.stringify(st.Resource).includes('StreamArn'));
  for (const st of statements) {
    const actions = ([st.Action].flat() as string[]).filter((a) => a.startsWith('dynamodb:'));
    if (actions.length === 0) continue;
    let keys = [ANY_KEY];
    if (st.Condition !== undefined) {
      expect(st.Condition).toEqual({
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': expect.any(Array) },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      });
      keys = st.Condition['ForAllValues:StringLike']['dynamodb:LeadingKeys'];
    }
    for (const action of actions) grants[action] = [...(grants[action] ?? []), ...keys].sort();
  }
  return grants;
}

/** Which functions may act on the items a key pattern names, and how (from the template). */
function touching(pattern: string): Record<string, string[]> {
  const found: Record<string, string[]> = {};
  for (const name of Object.keys(ACCESS)) {
    const actions = Object.entries(tableGrants(name))
      .filter(([, keys]) => keys.includes(pattern))
      .map(([action]) => action.replace('dynamodb:', ''));
    if (actions.length > 0) found[name] = actions.sort();
  }
  return found;
}

describe('table', () => {
  it('is on demand with TTL, PITR, a stream, deletion protection, retained, and the expiry index', () => {
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
        GlobalSecondaryIndexes: [
          Match.objectLike({
            IndexName: 'expiry',
            KeySchema: [
              { AttributeName: 'expiryDay', KeyType: 'HASH' },
              { AttributeName: 'ttl', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          }),
        ],
        SSESpecification: { SSEEnabled: true },
        Replicas: [
          Match.objectLike({
            DeletionProtectionEnabled: true,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          }),
        ],
      }),
    });
  });
});

describe('signing key', () => {
  it('is an asymmetric RSA_2048 SIGN_VERIFY key that is kept, ECC_NIST_P256 for ES256', () => {
    template.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }),
    });
    synth({ 'dcr:signingAlgorithm': 'ES256' }).template.hasResourceProperties('AWS::KMS::Key', {
      KeySpec: 'ECC_NIST_P256',
    });
  });

  it('lets only the token function sign, and only the verifying functions read the public key', () => {
    const [[, key]] = resources('AWS::KMS::Key') as [
      [string, { Properties: { KeyPolicy: { Statement: Record<string, unknown>[] } } }],
    ];
    // Each use is the account's trust held to one role (aws:PrincipalArn), so that the key
    // policy names no principal IAM may not have propagated yet.
    const principals = (action: string) =>
      key.Properties.KeyPolicy.Statement.filter((s) => [s.Action].flat().includes(action)).map(
        (s) => {
          expect(JSON.stringify(s.Principal)).toMatch(/:root"/);
          return JSON.stringify((s.Condition as Record<string, unknown>)?.ArnEquals);
        },
      );
    expect(principals('kms:Sign')).toHaveLength(1);
    expect(principals('kms:Sign')[0]).toContain('FunctiontokenRole');
    const readers = principals('kms:GetPublicKey');
    expect(readers).toHaveLength(4);
    for (const name of ['jwks', 'token', 'introspect', 'revoke']) {
      expect(readers.some((p) => p.includes(`Function${name}Role`))).toBe(true);
    }
    // The account administers the key but cannot sign with it.
    for (const statement of key.Properties.KeyPolicy.Statement) {
      if (statement.Sid === 'KeyAdministration') {
        expect(statement.Action).not.toContain('kms:Sign');
        expect(statement.Action).not.toContain('kms:*');
      }
    }
  });
});

describe('key rotation', () => {
  it('adds a new key beside the retained one and publishes the previous key', () => {
    const previous = 'arn:aws:kms:eu-west-1:111111111111:key/11111111-2222-3333-4444-555555555555';
    const rotated = synth({
      'dcr:signingKeyGeneration': 2,
      'dcr:previousSigningKeyArns': previous,
    }).template;
    rotated.hasResourceProperties('AWS::KMS::Alias', {
      AliasName: 'alias/serverless-dcr-signing-gen2',
    });
    const functions = Object.values(rotated.findResources('AWS::Lambda::Function'));
    const previousIds = functions
      .map((fn) => fn.Properties.Environment.Variables.DCR_KMS_PREVIOUS_KEY_IDS)
      .filter(Boolean);
    expect(previousIds).toEqual([previous, previous, previous, previous]);
    rotated.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'kms:GetPublicKey', Resource: previous }),
        ]),
      },
    });
  });
});

describe('functions', () => {
  it('runs every function, cleanup and audit included, on Node.js 24, ARM64, with its own log group', () => {
    const functions = resources('AWS::Lambda::Function');
    expect(functions).toHaveLength(ENDPOINTS.length + 2);
    for (const [, fn] of functions) {
      expect(fn.Properties.Runtime).toBe('nodejs24.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.Handler).toBe('index.handler');
      expect(fn.Properties.LoggingConfig.LogGroup).toBeDefined();
    }
  });

  it('scopes every data action to the table, its expiry index or the key: no wildcards', () => {
    for (const [, policy] of resources('AWS::IAM::Policy')) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        const resource = JSON.stringify(statement.Resource);
        expect(resource).not.toBe('"*"');
        for (const action of [statement.Action].flat() as string[]) {
          expect(action).not.toMatch(/\*/);
          if (action.startsWith('dynamodb:')) expect(resource).toContain('ClientsTable');
          // A Query runs on the expiry index, or on the table with a LeadingKeys condition
          // (the admin's software_id counters and federated subjects, a user's index of grants).
          if (action === 'dynamodb:Query' && !resource.includes('/index/expiry')) {
            expect([['stats#federated', 'stats#software'], ['user#*']]).toContainEqual(
              statement.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'],
            );
          }
          if (action.startsWith('kms:')) expect(resource).toContain('SigningKey');
        }
      }
    }
    template.resourcePropertiesCountIs(
      'AWS::IAM::Role',
      { ManagedPolicyArns: Match.anyValue() },
      0,
    );
  });

  it('grants each function exactly the table access ACCESS gives it, item actions conditioned', () => {
    for (const [name, access] of Object.entries(ACCESS)) {
      const expected: Record<string, string[]> = {
        ...Object.fromEntries(
          Object.entries(access.items ?? {}).map(([a, keys]) => [
            `dynamodb:${a}`,
            [...keys].sort(),
          ]),
        ),
        ...(access.scan && { 'dynamodb:Scan': [ANY_KEY] }),
      };
      if (access.queryExpiryIndex) {
        expected['dynamodb:Query'] = [...(expected['dynamodb:Query'] ?? []), ANY_KEY].sort();
      }
      expect(tableGrants(name), name).toEqual(expected);
    }
  });

  it('lets each item type be touched only by the functions that own it', () => {
    expect(touching('client#*')).toEqual({
      register: ['PutItem'],
      'client-configuration': ['DeleteItem', 'GetItem', 'PutItem', 'UpdateItem'],
      authorize: ['GetItem'],
      token: ['GetItem', 'UpdateItem'],
      introspect: ['GetItem', 'UpdateItem'],
      revoke: ['GetItem', 'UpdateItem'],
      cleanup: ['DeleteItem'],
      admin: ['DeleteItem', 'GetItem', 'PutItem', 'UpdateItem'],
    });
    expect(touching('revoked#*')).toEqual({
      // The token function: a token exchange's subject token must not be revoked.
      token: ['GetItem'],
      introspect: ['GetItem'],
      revoke: ['PutItem'],
      cleanup: ['DeleteItem'],
    });
    expect(touching('assertion#*')).toEqual({
      token: ['PutItem'],
      introspect: ['PutItem'],
      revoke: ['PutItem'],
      cleanup: ['DeleteItem'],
    });
    // DPoP proof ids: spent once by the token function, removed by the cleanup once expired.
    expect(touching('dpop#*')).toEqual({ token: ['PutItem'], cleanup: ['DeleteItem'] });
    // Trusted issuers' assertion ids: the same, for the jwt-bearer grant of workloads (each
    // carrying its token's audit event, which the stream hands the audit function).
    expect(touching('federated#*')).toEqual({ token: ['PutItem'], cleanup: ['DeleteItem'] });
    // Trusted issuers stored through the admin API: the operator writes them (marking who
    // removes one just before deleting it), the token path (and introspection, for a
    // workload's token) reads one, never more.
    expect(touching('trusted-issuer#*')).toEqual({
      token: ['GetItem'],
      introspect: ['GetItem'],
      admin: ['DeleteItem', 'GetItem', 'PutItem', 'UpdateItem'],
    });
    // Each exchanged token's audit record: written by the token function, kept until the
    // token expires; nothing reads it but the stream.
    expect(touching('exchange#*')).toEqual({ token: ['PutItem'], cleanup: ['DeleteItem'] });
    expect(touching('blocked#*')).toEqual({
      register: ['GetItem'],
      'client-configuration': ['GetItem'],
      admin: ['DeleteItem', 'PutItem'],
    });
    expect(touching('cleanup#*')).toEqual({ cleanup: ['GetItem', 'PutItem'] });
    expect(touching('code#*')).toEqual({
      authorize: ['PutItem'],
      token: ['GetItem', 'UpdateItem'],
      cleanup: ['DeleteItem'],
    });
    expect(touching('consent#*')).toEqual({ authorize: ['PutItem'], cleanup: ['DeleteItem'] });
    expect(touching('grant#*')).toEqual({
      // The authorize function reads a user's grants (step-up, the connected-apps page) and
      // revokes one of them (the page).
      authorize: ['GetItem', 'UpdateItem'],
      token: ['GetItem', 'PutItem', 'UpdateItem'],
      introspect: ['GetItem'],
      revoke: ['GetItem', 'UpdateItem'],
      // An import restores families (conditional puts: never over an existing one).
      admin: ['PutItem'],
      cleanup: ['DeleteItem'],
    });
    expect(touching('iat#*')).toEqual({
      register: ['GetItem', 'UpdateItem'],
      admin: ['DeleteItem', 'PutItem'],
      audit: ['UpdateItem'],
      cleanup: ['DeleteItem'],
    });
    // A user's one index of grants: written at consent and read (step-up, connected apps) by
    // the authorize function alone (the token function's exchange writes nothing there),
    // removed once expired.
    expect(touching('user#*')).toEqual({
      authorize: ['PutItem', 'Query'],
      admin: ['PutItem'],
      cleanup: ['DeleteItem'],
    });
    // Active clients per software_id: claimed at registration, given back from the stream.
    expect(touching('software#*')).toEqual({
      register: ['UpdateItem'],
      audit: ['UpdateItem'],
      cleanup: ['DeleteItem'],
    });
    expect(touching('stats#*')).toEqual({
      audit: ['UpdateItem'],
      admin: ['BatchGetItem', 'UpdateItem'],
      cleanup: ['DeleteItem'],
    });
    expect(touching('ratelimit#*')).toEqual({
      register: ['UpdateItem'],
      cleanup: ['DeleteItem'],
    });
    // The unconditioned reads: the operator's Scan, and Query on the expiry index by cleanup and
    // by the operator (the clients expiring soon).
    expect(touching(ANY_KEY)).toEqual({ admin: ['Query', 'Scan'], cleanup: ['Query'] });
  });

  it('gives the signing functions the key and every function the table name', () => {
    for (const name of ['jwks', 'token', 'introspect', 'revoke']) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ DCR_KMS_KEY_ID: Match.anyValue() }) },
      });
      const [, fn] = resources('AWS::Lambda::Function').find(([id]) => id === functionId(name)) as [
        string,
        { Properties: { Environment: { Variables: Record<string, unknown> } } },
      ];
      expect(fn.Properties.Environment.Variables.DCR_KMS_KEY_ID).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^SigningKey/), 'Arn'],
      });
    }
    const [, discovery] = resources('AWS::Lambda::Function').find(
      ([id]) => id === functionId('discovery'),
    ) as [string, { Properties: { Environment: { Variables: Record<string, unknown> } } }];
    expect(discovery.Properties.Environment.Variables).not.toHaveProperty('DCR_KMS_KEY_ID');
    expect(discovery.Properties.Environment.Variables).not.toHaveProperty('DCR_ISSUER');
  });
});

describe('abuse control', () => {
  const variables = (t: typeof template, name: string) => {
    const found = Object.entries(t.findResources('AWS::Lambda::Function')).find(([id]) =>
      id.startsWith(`Function${name.replace(/-/g, '')}Function`),
    );
    if (!found) throw new Error(`no function for ${name}`);
    const [, fn] = found as [
      string,
      { Properties: { Environment: { Variables: Record<string, unknown> } } },
    ];
    return fn.Properties.Environment.Variables;
  };

  it('limits anonymous registrations by default, in the register function only', () => {
    expect(variables(template, 'register').DCR_REGISTRATION_RATE_LIMIT).toBe('120/3600');
    for (const name of ['client-configuration', 'token', 'discovery', 'admin']) {
      expect(variables(template, name)).not.toHaveProperty('DCR_REGISTRATION_RATE_LIMIT');
    }
    // The redirect policy's defaults are the functions' own unless the operator sets one.
    expect(variables(template, 'register')).not.toHaveProperty('DCR_REDIRECT_HOSTS');
  });

  it("passes the operator's rate limit and redirect policy", () => {
    const { template: custom } = synth({
      'dcr:registrationRateLimit': 'off',
      'dcr:redirectHosts': 'app.example.com,*.example.org',
      'dcr:privateUseSchemes': 'com.example.app',
    });
    const register = variables(custom, 'register');
    expect(register.DCR_REGISTRATION_RATE_LIMIT).toBe('off');
    expect(register).not.toHaveProperty('DCR_SOFTWARE_ID_MAX_ACTIVE_CLIENTS');
    expect(register.DCR_REDIRECT_HOSTS).toBe('app.example.com,*.example.org');
    expect(variables(custom, 'client-configuration').DCR_PRIVATE_USE_SCHEMES).toBe(
      'com.example.app',
    );
  });

  it('refuses a malformed rate limit at synth', () => {
    expect(() => synth({ 'dcr:registrationRateLimit': '10 per hour' })).toThrow(
      /dcr:registrationRateLimit/,
    );
  });

  it('caps the active clients per software_id in the register function when asked', () => {
    const { template: capped } = synth({ 'dcr:softwareIdMaxActiveClients': '50' });
    expect(variables(capped, 'register').DCR_SOFTWARE_ID_MAX_ACTIVE_CLIENTS).toBe('50');
    expect(variables(capped, 'token')).not.toHaveProperty('DCR_SOFTWARE_ID_MAX_ACTIVE_CLIENTS');
    expect(() => synth({ 'dcr:softwareIdMaxActiveClients': '0' })).toThrow(
      /dcr:softwareIdMaxActiveClients/,
    );
  });
});

describe('API', () => {
  it('routes every path, any method, to its own function, and $default to discovery', () => {
    const integrations = new Map(
      resources('AWS::ApiGatewayV2::Integration').map(([id, r]) => [
        id,
        JSON.stringify(r.Properties.IntegrationUri),
      ]),
    );
    const routes = new Map(
      resources('AWS::ApiGatewayV2::Route').map(([, r]) => {
        const integrationId = (r.Properties.Target['Fn::Join'][1][1] as { Ref: string }).Ref;
        return [r.Properties.RouteKey as string, integrations.get(integrationId)] as const;
      }),
    );
    const expected: Record<string, string> = {
      'ANY /.well-known/oauth-authorization-server': 'discovery',
      'ANY /.well-known/openid-configuration': 'discovery',
      'ANY /': 'discovery',
      'ANY /.well-known/jwks.json': 'jwks',
      'ANY /register': 'register',
      'ANY /register/{clientId}': 'client-configuration',
      'ANY /token': 'token',
      'ANY /introspect': 'introspect',
      'ANY /revoke': 'revoke',
      'ANY /admin/{proxy+}': 'admin',
      'ANY /authorize': 'authorize',
      'ANY /callback': 'authorize',
      'ANY /consent': 'authorize',
      'ANY /service-logo': 'authorize',
      'ANY /account': 'authorize',
      $default: 'discovery',
    };
    expect([...routes.keys()].sort()).toEqual(Object.keys(expected).sort());
    for (const [routeKey, fn] of Object.entries(expected)) {
      expect(routes.get(routeKey), routeKey).toContain(functionId(fn));
    }
  });

  it('lets only IAM-authenticated callers reach the admin API; the OAuth routes are public', () => {
    for (const [, route] of resources('AWS::ApiGatewayV2::Route')) {
      const admin = String(route.Properties.RouteKey).includes('/admin');
      expect(route.Properties.AuthorizationType ?? 'NONE', route.Properties.RouteKey).toBe(
        admin ? 'AWS_IAM' : 'NONE',
      );
    }
  });

  it('has a throttled $default stage with JSON access logs', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
      AccessLogSettings: {
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp('"requestId"'),
      },
    });
  });

  it('with a custom domain: the issuer fixed, the execute-api URL off, no mutual TLS', () => {
    const custom = synth(DOMAIN).template;
    custom.resourceCountIs('AWS::ApiGatewayV2::DomainName', 1);
    const [domainId] = Object.keys(custom.findResources('AWS::ApiGatewayV2::DomainName'));
    custom.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 'auth.example.com',
      DomainNameConfigurations: [
        Match.objectLike({ CertificateArn: DOMAIN['dcr:certificateArn'] }),
      ],
      MutualTlsAuthentication: Match.absent(),
    });
    custom.hasResourceProperties('AWS::ApiGatewayV2::ApiMapping', {
      DomainName: { Ref: domainId },
      Stage: Match.anyValue(),
    });
    custom.hasResourceProperties('AWS::ApiGatewayV2::Api', { DisableExecuteApiEndpoint: true });
    custom.hasOutput('Issuer', { Value: 'https://auth.example.com' });
    for (const [, fn] of Object.entries(custom.findResources('AWS::Lambda::Function'))) {
      expect(fn.Properties.Environment.Variables).toMatchObject({
        DCR_ISSUER: 'https://auth.example.com',
      });
      expect(fn.Properties.Environment.Variables.DCR_TLS_CLIENT_AUTH).toBeUndefined();
      expect(fn.Properties.Environment.Variables.DCR_MTLS_ORIGIN).toBeUndefined();
    }
  });

  it('with mutual TLS: a second domain with the truststore, mapped to the same stage (RFC 8705 §5)', () => {
    const custom = synth({ ...DOMAIN, ...MTLS, 'dcr:mtlsTruststoreVersion': 'v7' }).template;
    const domains = Object.entries(custom.findResources('AWS::ApiGatewayV2::DomainName'));
    const byName = Object.fromEntries(
      domains.map(([id, d]) => [d.Properties.DomainName as string, { id, ...d.Properties }]),
    );
    expect(Object.keys(byName).sort()).toEqual(['auth.example.com', 'mtls.auth.example.com']);
    // The issuer's domain asks for no certificate: browsers, MCP clients, resource servers and
    // dcr-admin reach it as before.
    expect(byName['auth.example.com'].MutualTlsAuthentication).toBeUndefined();
    expect(byName['mtls.auth.example.com']).toMatchObject({
      MutualTlsAuthentication: {
        TruststoreUri: 's3://truststore-bucket/ca.pem',
        TruststoreVersion: 'v7',
      },
      // The certificate defaults to the main domain's (a wildcard or one with both names).
      DomainNameConfigurations: [
        expect.objectContaining({ CertificateArn: DOMAIN['dcr:certificateArn'] }),
      ],
    });
    // Both reach the one $default stage.
    const mappings = Object.values(custom.findResources('AWS::ApiGatewayV2::ApiMapping'));
    expect(mappings.map((m) => m.Properties.DomainName.Ref).sort()).toEqual(
      [byName['auth.example.com'].id, byName['mtls.auth.example.com'].id].sort(),
    );
    expect(new Set(mappings.map((m) => JSON.stringify(m.Properties.Stage))).size).toBe(1);
    expect(mappings.every((m) => m.Properties.ApiMappingKey === undefined)).toBe(true);
    custom.hasResourceProperties('AWS::ApiGatewayV2::Api', { DisableExecuteApiEndpoint: true });
    custom.hasOutput('Issuer', { Value: 'https://auth.example.com' });
    custom.hasOutput('MtlsOrigin', { Value: 'https://mtls.auth.example.com' });
    // Each name needs its own DNS record, to its own domain's target.
    custom.hasOutput('DomainTarget', {
      Value: { 'Fn::GetAtt': [byName['auth.example.com'].id, 'RegionalDomainName'] },
    });
    custom.hasOutput('MtlsDomainTarget', {
      Value: { 'Fn::GetAtt': [byName['mtls.auth.example.com'].id, 'RegionalDomainName'] },
    });

    const functions = custom.findResources('AWS::Lambda::Function');
    const variables = (name: string) =>
      (Object.entries(functions).find(([id]) =>
        id.startsWith(`Function${name.replace(/-/g, '')}Function`),
      )?.[1].Properties.Environment.Variables ?? {}) as Record<string, string>;
    // Every function that authenticates clients, registers them or advertises the methods
    // knows that verified certificates arrive; the issuer stays the main domain.
    for (const name of [
      'discovery',
      'register',
      'client-configuration',
      'token',
      'introspect',
      'revoke',
    ]) {
      expect(variables(name), name).toMatchObject({
        DCR_ISSUER: 'https://auth.example.com',
        DCR_TLS_CLIENT_AUTH: 'on',
      });
    }
    // Discovery (also the $default route) publishes the aliases; no other function builds them.
    expect(variables('discovery').DCR_MTLS_ORIGIN).toBe('https://mtls.auth.example.com');
    const withOrigin = Object.entries(functions).filter(
      ([, fn]) => fn.Properties.Environment?.Variables?.DCR_MTLS_ORIGIN !== undefined,
    );
    expect(withOrigin.map(([id]) => id)).toEqual([functionId('discovery')]);
    // Without a truststore no function expects client certificates.
    for (const [, fn] of resources('AWS::Lambda::Function')) {
      expect(fn.Properties.Environment?.Variables?.DCR_TLS_CLIENT_AUTH).toBeUndefined();
    }
  });

  it('takes the mutual TLS domain’s own certificate when given', () => {
    const arn = 'arn:aws:acm:eu-west-1:111111111111:certificate/mtls';
    synth({ ...DOMAIN, ...MTLS, 'dcr:mtlsCertificateArn': arn }).template.hasResourceProperties(
      'AWS::ApiGatewayV2::DomainName',
      {
        DomainName: 'mtls.auth.example.com',
        DomainNameConfigurations: [Match.objectLike({ CertificateArn: arn })],
      },
    );
  });

  it.each([
    [
      'a truststore without a mutual TLS domain (the main domain stays certificate-free)',
      { ...DOMAIN, 'dcr:mtlsTruststoreUri': MTLS['dcr:mtlsTruststoreUri'] },
      /dcr:mtlsTruststoreUri: needs mtlsDomainName/,
    ],
    [
      'a mutual TLS domain without a truststore',
      { ...DOMAIN, 'dcr:mtlsDomainName': MTLS['dcr:mtlsDomainName'] },
      /dcr:mtlsDomainName: needs mtlsTruststoreUri/,
    ],
    [
      'the main domain as the mutual TLS domain',
      { ...DOMAIN, ...MTLS, 'dcr:mtlsDomainName': 'auth.example.com' },
      /dcr:mtlsDomainName: must differ from domainName/,
    ],
    [
      'a mutual TLS domain without the main one (the issuer’s)',
      MTLS,
      /dcr:mtlsDomainName: needs domainName/,
    ],
    [
      'a mutual TLS certificate without its domain',
      { ...DOMAIN, 'dcr:mtlsCertificateArn': DOMAIN['dcr:certificateArn'] },
      /dcr:mtlsCertificateArn: needs mtlsDomainName/,
    ],
    [
      'a truststore version without a truststore',
      { ...DOMAIN, 'dcr:mtlsTruststoreVersion': 'v7' },
      /dcr:mtlsTruststoreVersion: needs mtlsTruststoreUri/,
    ],
    [
      'a domain that is no DNS name',
      { ...DOMAIN, ...MTLS, 'dcr:mtlsDomainName': 'https://mtls.auth.example.com' },
      /dcr:mtlsDomainName: must be a lower-case DNS name/,
    ],
    [
      'a certificate that is no ACM certificate',
      { ...DOMAIN, ...MTLS, 'dcr:mtlsCertificateArn': 'arn:aws:s3:::bucket' },
      /dcr:mtlsCertificateArn: must be an ACM certificate’s complete ARN/,
    ],
  ])('refuses %s at synth', (_, context, message) => {
    expect(() => synth(context)).toThrow(message);
  });
});

describe('cleanup and alarms', () => {
  it('runs the cleanup function hourly by default, on the configured schedule otherwise', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId('cleanup'), 'Arn'] } })],
    });
    synth({ 'dcr:cleanupSchedule': 'rate(15 minutes)' }).template.hasResourceProperties(
      'AWS::Events::Rule',
      { ScheduleExpression: 'rate(15 minutes)' },
    );
  });

  it('alarms on API 5xx, function errors and throttles, DynamoDB throttles, signing, audit failures', () => {
    const alarms = resources('AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(1 + 2 * (ENDPOINTS.length + 2) + 1 + 1 + 1);
    for (const [, alarm] of alarms) expect(alarm.Properties.AlarmActions).toHaveLength(1);
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    synth({ 'dcr:alarmEmail': 'ops@example.com' }).template.hasResourceProperties(
      'AWS::SNS::Subscription',
      { Protocol: 'email', Endpoint: 'ops@example.com' },
    );
  });
});

describe('audit trail', () => {
  it('feeds client items (refresh token families’ creation and first rotation, stored trusted issuers, spent assertions and exchanged tokens) of the stream, filtered, to the audit function, which may put on its bus', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionId('audit') },
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ClientsTable'), 'StreamArn'] },
      BisectBatchOnFunctionError: true,
      FilterCriteria: {
        Filters: [
          {
            Pattern: JSON.stringify({ dynamodb: { Keys: { pk: { S: [{ prefix: 'client#' }] } } } }),
          },
          // A refresh token family created, and its first rotation only (client health).
          {
            Pattern: JSON.stringify({
              eventName: ['INSERT'],
              dynamodb: { Keys: { pk: { S: [{ prefix: 'grant#' }] } } },
            }),
          },
          {
            Pattern: JSON.stringify({
              eventName: ['MODIFY'],
              dynamodb: {
                Keys: { pk: { S: [{ prefix: 'grant#' }] } },
                NewImage: { generation: { N: ['2'] } },
              },
            }),
          },
          // Every change of a stored trusted issuer.
          {
            Pattern: JSON.stringify({
              dynamodb: { Keys: { pk: { S: [{ prefix: 'trusted-issuer#' }] } } },
            }),
          },
          // Tokens issued for assertions and by exchange: their items' insertions only.
          ...['federated#', 'exchange#'].map((prefix) => ({
            Pattern: JSON.stringify({
              eventName: ['INSERT'],
              dynamodb: { Keys: { pk: { S: [{ prefix }] } } },
            }),
          })),
        ],
      },
    });
    template.resourceCountIs('AWS::Events::EventBus', 1);
    const [, audit] = resources('AWS::Lambda::Function').find(
      ([id]) => id === functionId('audit'),
    ) as [string, { Properties: { Environment: { Variables: Record<string, unknown> } } }];
    expect(audit.Properties.Environment.Variables.DCR_AUDIT_BUS_NAME).toEqual({
      Ref: expect.stringMatching(/^AuditBus/),
    });
    template.hasOutput('AuditBusName', {});
  });

  it('sends batches it gives up on to an encrypted, TLS-only queue kept 14 days, with an alarm', () => {
    const [[queueId]] = resources('AWS::SQS::Queue') as [[string, unknown]];
    expect(queueId).toMatch(/^AuditFailures/);
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 86_400,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionId('audit') },
      MaximumRetryAttempts: 10,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlarmsTopic') }],
    });
  });
});

describe('configuration', () => {
  it.each([
    [{ 'dcr:signingAlgorithm': 'HS256' }, 'dcr:signingAlgorithm'],
    [{ 'dcr:domainName': 'auth.example.com' }, 'certificateArn'],
    [{ 'dcr:cleanupSchedule': 'every hour' }, 'dcr:cleanupSchedule'],
    [{ 'dcr:accessTokenLifetimeSeconds': '5' }, 'dcr:accessTokenLifetimeSeconds'],
    [{ 'dcr:resources': 'https://mcp.example.com/mcp' }, 'dcr:allowedScopes'],
    [{ 'dcr:defaultAudience': 'https://api.example.com' }, 'dcr:allowedScopes'],
    [{ 'dcr:registrationAccess': 'open,everyone' }, 'dcr:registrationAccess'],
    [{ 'dcr:registrationTiers': '{not json' }, 'dcr:registrationTiers'],
    [{ 'dcr:registrationTiers': { open: { grant_types: ['implicit'] } } }, 'dcr:registrationTiers'],
    [
      { 'dcr:softwareStatementIssuers': { a: { jwks_uri: 'http://keys.example/jwks' } } },
      'dcr:softwareStatementIssuers',
    ],
    [
      {
        'dcr:softwareStatementIssuers':
          '{"a": {"jwks_uri": "https://k.example/j", "algorithms": ["HS256"]}}',
      },
      'dcr:softwareStatementIssuers',
    ],
  ])('refuses %o naming the key', (context, key) => {
    expect(() => synth(context)).toThrow(key);
  });

  it('passes the registration policy to the functions: mtls accepted with a mutual TLS domain', () => {
    const access = (t: Template) =>
      Object.values(t.findResources('AWS::Lambda::Function'))
        .map((fn) => fn.Properties.Environment?.Variables?.DCR_REGISTRATION_ACCESS)
        .filter(Boolean);
    expect(new Set(access(template))).toEqual(
      new Set(['open,initial_access_token,software_statement']),
    );
    const tiers = { open: { grant_types: ['authorization_code', 'refresh_token'] } };
    const custom = synth({ ...DOMAIN, ...MTLS, 'dcr:registrationTiers': tiers }).template;
    expect(new Set(access(custom))).toEqual(
      new Set(['open,initial_access_token,software_statement,mtls']),
    );
    custom.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ DCR_REGISTRATION_TIERS: JSON.stringify(tiers) }),
      },
    });
    const narrowed = synth({ 'dcr:registrationAccess': 'initial_access_token' }).template;
    expect(new Set(access(narrowed))).toEqual(new Set(['initial_access_token']));
  });

  it('passes token and registration settings to the functions', () => {
    synth({
      'dcr:allowedScopes': 'read write',
      'dcr:resources': ['https://mcp.example.com/mcp'],
      'dcr:accessTokenLifetimeSeconds': 300,
    }).template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          DCR_ALLOWED_SCOPES: 'read write',
          DCR_RESOURCES: 'https://mcp.example.com/mcp',
          DCR_ACCESS_TOKEN_LIFETIME_SECONDS: '300',
        }),
      },
    });
  });
});

describe('software statement issuers', () => {
  it('reach the functions as DCR_SOFTWARE_STATEMENT_ISSUERS, from an object or its JSON', () => {
    const issuers = { 'https://ca.example': { jwks_uri: 'https://ca.example/jwks.json' } };
    for (const value of [issuers, JSON.stringify(issuers)]) {
      synth({ 'dcr:softwareStatementIssuers': value }).template.hasResourceProperties(
        'AWS::Lambda::Function',
        {
          Environment: {
            Variables: Match.objectLike({
              DCR_SOFTWARE_STATEMENT_ISSUERS: JSON.stringify(issuers),
            }),
          },
        },
      );
    }
  });
});

describe('trusted issuers and token exchange', () => {
  const RESOURCE = 'https://mcp.example.com/mcp';
  const issuers = {
    'https://token.actions.githubusercontent.com': {
      kind: 'workload',
      jwks_uri: 'https://token.actions.githubusercontent.com/.well-known/jwks',
      rules: [{ claims: { sub: 'repo:acme/app:ref:refs/heads/main' }, resources: [RESOURCE] }],
    },
  };
  const served = { 'dcr:resources': [RESOURCE], 'dcr:allowedScopes': 'read' };
  /** The endpoints whose environment has the variable, with its value. */
  const receiving = (t: Template, variable: string) =>
    Object.fromEntries(
      Object.entries(t.findResources('AWS::Lambda::Function'))
        .filter(([, fn]) => fn.Properties.Environment?.Variables?.[variable] !== undefined)
        .map(([id, fn]) => [
          id.replace(/^Function(.*?)Function.*$/, '$1'),
          fn.Properties.Environment.Variables[variable],
        ]),
    );

  it('reach discovery, token, introspection and admin as DCR_TRUSTED_ISSUERS, from an object or its JSON', () => {
    for (const value of [issuers, JSON.stringify(issuers)]) {
      const synthesized = synth({ ...served, 'dcr:trustedIssuers': value }).template;
      const json = JSON.stringify(issuers);
      // The admin API lists them and refuses to change them (the configuration is authoritative).
      expect(receiving(synthesized, 'DCR_TRUSTED_ISSUERS')).toEqual({
        discovery: json,
        token: json,
        introspect: json,
        admin: json,
      });
    }
    expect(receiving(template, 'DCR_TRUSTED_ISSUERS')).toEqual({});
  });

  it('passes dcr:tokenExchange to discovery and the token function', () => {
    const synthesized = synth({ 'dcr:tokenExchange': true }).template;
    expect(receiving(synthesized, 'DCR_TOKEN_EXCHANGE')).toEqual({
      discovery: 'on',
      token: 'on',
    });
  });

  it('passes dcr:trustedIssuerCacheSeconds to the functions that read stored issuers', () => {
    const synthesized = synth({ 'dcr:trustedIssuerCacheSeconds': 45 }).template;
    expect(receiving(synthesized, 'DCR_TRUSTED_ISSUER_CACHE_SECONDS')).toEqual({
      token: '45',
      introspect: '45',
    });
  });

  it('passes dcr:assertionMaxLifetimeSeconds to the token function only', () => {
    const synthesized = synth({ 'dcr:assertionMaxLifetimeSeconds': 600 }).template;
    expect(receiving(synthesized, 'DCR_ASSERTION_MAX_LIFETIME_SECONDS')).toEqual({ token: '600' });
  });

  it.each([
    [{ ...served, 'dcr:trustedIssuers': { 'http://ci.example': {} } }, /dcr:trustedIssuers/],
    [
      { 'dcr:trustedIssuers': issuers, 'dcr:allowedScopes': 'read' },
      /dcr:trustedIssuers: its rules name what this server does not serve: https:\/\/mcp/,
    ],
    [{ 'dcr:assertionMaxLifetimeSeconds': 10 }, /dcr:assertionMaxLifetimeSeconds/],
  ])('refuses %o at synth, naming the key', (context, message) => {
    expect(() => synth(context)).toThrow(message);
  });
});

describe('sign-in', () => {
  const OPERATOR = {
    'dcr:upstreamIssuer': 'https://login.example.com',
    'dcr:upstreamClientId': 'dcr-client',
    'dcr:upstreamClientSecretArn':
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:dcr-upstream-AbCdEf',
  };
  const variables = (t: Template, name: string): Record<string, unknown> => {
    const found = Object.entries(t.findResources('AWS::Lambda::Function')).find(([id]) =>
      id.startsWith(`Function${name.replace(/-/g, '')}Function`),
    );
    return found ? found[1].Properties.Environment.Variables : {};
  };
  /** Every secretsmanager statement of the template, by the role it belongs to. */
  const secretStatements = (t: Template) =>
    Object.entries(t.findResources('AWS::IAM::Policy')).flatMap(([id, p]) =>
      (p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
        .filter((st) => [st.Action].flat().some((a) => a.startsWith('secretsmanager:')))
        .map((st) => ({ role: id, action: st.Action, resource: st.Resource })),
    );
  const secretId = () => Object.keys(template.findResources('AWS::SecretsManager::Secret'))[0];

  it('by default: a Cognito user pool with managed login, MFA, no self sign-up, and a public PKCE client', () => {
    template.resourceCountIs('AWS::Cognito::UserPool', 1);
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      UsernameAttributes: ['email'],
      UserPoolTier: 'ESSENTIALS',
      Policies: {
        PasswordPolicy: Match.objectLike({
          MinimumLength: 12,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
        }),
      },
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', { ManagedLoginVersion: 2 });
    template.resourceCountIs('AWS::Cognito::ManagedLoginBranding', 1);
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: ['openid'],
      SupportedIdentityProviders: ['COGNITO'],
      PreventUserExistenceErrors: 'ENABLED',
      CallbackURLs: [
        {
          'Fn::Join': [
            '',
            [Match.objectLike({ 'Fn::GetAtt': [Match.anyValue(), 'ApiEndpoint'] }), '/callback'],
          ],
        },
      ],
    });
    // Every function knows the upstream (discovery advertises the code flow); the issuer is
    // the pool's OpenID issuer.
    for (const name of ['discovery', 'token', 'authorize']) {
      expect(variables(template, name), name).toMatchObject({
        DCR_UPSTREAM_ISSUER: {
          'Fn::Join': [
            '',
            [
              'https://cognito-idp.',
              { Ref: 'AWS::Region' },
              '.',
              { Ref: 'AWS::URLSuffix' },
              '/',
              { Ref: expect.stringMatching(/UserPool/) },
            ],
          ],
        },
        DCR_UPSTREAM_CLIENT_ID: { Ref: expect.stringMatching(/AppClient/) },
      });
    }
    expect(variables(template, 'authorize')).not.toHaveProperty('DCR_UPSTREAM_CLIENT_SECRET_ARN');
    template.hasOutput('CognitoUserPoolId', { Value: { Ref: Match.stringLikeRegexp('UserPool') } });
    template.hasOutput('LoginCallbackUrl', {
      Value: { 'Fn::Join': ['', [Match.anyValue(), '/callback']] },
    });
  });

  it('generates the cookie key in Secrets Manager; only the authorize function may read it, by its ARN', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        GenerateSecretString: Match.objectLike({ PasswordLength: 64, ExcludePunctuation: true }),
      }),
    });
    expect(variables(template, 'authorize').DCR_COOKIE_KEY_SECRET_ARN).toEqual({ Ref: secretId() });
    for (const name of ['discovery', 'token', 'register', 'admin']) {
      expect(variables(template, name), name).not.toHaveProperty('DCR_COOKIE_KEY_SECRET_ARN');
    }
    expect(secretStatements(template)).toEqual([
      {
        role: expect.stringMatching(/^FunctionauthorizeRole/),
        action: 'secretsmanager:GetSecretValue',
        resource: { Ref: secretId() },
      },
    ]);
    expect(variables(template, 'authorize')).toMatchObject({
      DCR_UPSTREAM_SCOPES: 'openid',
      DCR_SESSION_LIFETIME_SECONDS: '28800',
    });
    // Refresh token settings reach the token functions.
    expect(variables(template, 'token')).toMatchObject({
      DCR_REFRESH_TOKEN_LIFETIME_SECONDS: '2592000',
      DCR_REFRESH_TOKEN_IDLE_LIFETIME_SECONDS: '604800',
      DCR_REFRESH_TOKEN_REUSE_GRACE_SECONDS: '60',
    });
  });

  it("with the operator's provider: no Cognito; its client secret readable by the authorize function only", () => {
    const operator = synth(OPERATOR).template;
    operator.resourceCountIs('AWS::Cognito::UserPool', 0);
    operator.resourceCountIs('AWS::Cognito::UserPoolClient', 0);
    for (const name of ['discovery', 'authorize']) {
      expect(variables(operator, name), name).toMatchObject({
        DCR_UPSTREAM_ISSUER: 'https://login.example.com',
        DCR_UPSTREAM_CLIENT_ID: 'dcr-client',
      });
    }
    expect(variables(operator, 'authorize').DCR_UPSTREAM_CLIENT_SECRET_ARN).toBe(
      OPERATOR['dcr:upstreamClientSecretArn'],
    );
    expect(variables(operator, 'discovery')).not.toHaveProperty('DCR_UPSTREAM_CLIENT_SECRET_ARN');
    const statements = secretStatements(operator);
    expect(statements.map((st) => st.resource)).toEqual([
      { Ref: expect.stringMatching(/CookieKey/) },
      OPERATOR['dcr:upstreamClientSecretArn'],
    ]);
    for (const st of statements) {
      expect(st.role).toMatch(/^FunctionauthorizeRole/);
      expect(st.action).toBe('secretsmanager:GetSecretValue');
    }
    operator.hasOutput('LoginCallbackUrl', Match.anyValue());
    expect(operator.findOutputs('CognitoUserPoolId')).toEqual({});
    expect(new AwsSolutionsChecks().validateScope(synth(OPERATOR).app).violations).toEqual([]);
  });

  it('with dcr:cognitoLogin=false and no upstream: no authorize function, route, secret or user pool', () => {
    const { app: noneApp, template: none } = synth({ 'dcr:cognitoLogin': 'false' });
    expect(new AwsSolutionsChecks().validateScope(noneApp).violations).toEqual([]);
    const functions = Object.keys(none.findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(ENDPOINTS.length + 1);
    expect(functions.some((id) => id.startsWith('Functionauthorize'))).toBe(false);
    const routeKeys = Object.values(none.findResources('AWS::ApiGatewayV2::Route')).map(
      (r) => r.Properties.RouteKey,
    );
    expect(routeKeys).not.toContain('ANY /authorize');
    expect(routeKeys).not.toContain('ANY /callback');
    expect(routeKeys).not.toContain('ANY /consent');
    none.resourceCountIs('AWS::SecretsManager::Secret', 0);
    none.resourceCountIs('AWS::Cognito::UserPool', 0);
    expect(variables(none, 'discovery')).not.toHaveProperty('DCR_UPSTREAM_ISSUER');
    expect(none.findOutputs('LoginCallbackUrl')).toEqual({});
    expect(secretStatements(none)).toEqual([]);
  });

  it.each([
    [
      { 'dcr:upstreamIssuer': 'http://login.example.com', 'dcr:upstreamClientId': 'x' },
      'dcr:upstreamIssuer',
    ],
    [{ 'dcr:upstreamIssuer': 'https://login.example.com' }, 'dcr:upstreamClientId'],
    [{ ...OPERATOR, 'dcr:upstreamClientSecretArn': 'my-secret' }, 'dcr:upstreamClientSecretArn'],
    [
      { 'dcr:upstreamClientSecretArn': OPERATOR['dcr:upstreamClientSecretArn'] },
      'dcr:upstreamClientSecretArn',
    ],
    [{ 'dcr:upstreamScopes': 'email profile' }, 'dcr:upstreamScopes'],
    [{ 'dcr:cognitoLogin': 'maybe' }, 'dcr:cognitoLogin'],
    [{ 'dcr:cognitoDomainPrefix': 'my-aws-login' }, 'dcr:cognitoDomainPrefix'],
    [{ 'dcr:sessionLifetimeSeconds': '10' }, 'dcr:sessionLifetimeSeconds'],
    [{ 'dcr:refreshTokenIdleLifetimeSeconds': '99999999' }, 'dcr:refreshTokenIdleLifetimeSeconds'],
    [{ 'dcr:refreshTokenReuseGraceSeconds': '3601' }, 'dcr:refreshTokenReuseGraceSeconds'],
  ])('refuses %o naming the key', (context, key) => {
    expect(() => synth(context)).toThrow(key);
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged finding', () => {
    const report = new AwsSolutionsChecks().validateScope(app);
    expect(
      report.violations.map(
        (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.resourceLogicalId).join(', ')}`,
      ),
    ).toEqual([]);
  });

  it('is also clean with tracing on', () => {
    const report = new AwsSolutionsChecks().validateScope(synth({ 'dcr:tracing': true }).app);
    expect(report.violations).toEqual([]);
  });

  it('does flag what is not acknowledged (the check is live here)', () => {
    const bare = new App();
    const api = new HttpApi(new Stack(bare, 'Bare'), 'Api');
    api.addRoutes({
      path: '/open',
      integration: new HttpUrlIntegration('Url', 'https://example.com'),
    });
    const rules = new AwsSolutionsChecks().validateScope(bare).violations.map((v) => v.ruleName);
    expect(rules).toContain('AwsSolutions-APIG4');
  });
});
