import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { DEPLOYED_FUNCTIONS } from '../../lambdas/functions.js';
import { ServerlessDcrStack } from '../../lib/serverless-dcr-stack.js';

/** The stack in the wrapped signing mode (docs/deployment.md "Signing modes"), bundling skipped. */
function synth(context: Record<string, unknown> = {}) {
  const app = new App({
    context: { 'aws:cdk:bundling-stacks': [], 'dcr:signingMode': 'wrapped', ...context },
    builtinCloudFormationValidation: false,
  } as ConstructorParameters<typeof App>[0]);
  const stack = new ServerlessDcrStack(app, 'Test');
  return { app, template: Template.fromStack(stack) };
}

const { app, template } = synth();
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON.
type Resource = { Properties: any; DeletionPolicy?: string };
const resources = (type: string) =>
  Object.entries(template.findResources(type)) as [string, Resource][];

const functionId = (name: string) => {
  const found = resources('AWS::Lambda::Function').find(([id]) =>
    id.startsWith(`Function${name.replace(/-/g, '')}Function`),
  );
  if (!found) throw new Error(`no function for ${name}`);
  return found;
};
const environment = (name: string): Record<string, unknown> =>
  functionId(name)[1].Properties.Environment.Variables;

interface Statement {
  Action: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
  Principal?: unknown;
  Resource: unknown;
  Sid?: string;
}
const actionsOf = (s: Statement) => [s.Action].flat();

/** A function's role statements (its policies in the template). */
const roleStatements = (name: string): Statement[] =>
  resources('AWS::IAM::Policy')
    .filter(([id]) => id.startsWith(`Function${name.replace(/-/g, '')}Role`))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);

/** action → the partition key patterns the role may touch with it. */
function itemGrants(name: string): Record<string, string[]> {
  const grants: Record<string, string[]> = {};
  for (const statement of roleStatements(name)) {
    const keys = statement.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
    if (!Array.isArray(keys)) continue;
    for (const action of actionsOf(statement))
      grants[action] = [...(grants[action] ?? []), ...keys];
  }
  return grants;
}

const NAMES = DEPLOYED_FUNCTIONS;
const touching = (pattern: string) =>
  Object.fromEntries(
    NAMES.map((name) => [
      name,
      Object.entries(itemGrants(name))
        .filter(([, keys]) => keys.includes(pattern))
        .map(([action]) => action.replace('dynamodb:', ''))
        .sort(),
    ]).filter(([, actions]) => (actions as string[]).length > 0),
  );

/** A function's role's logical id. */
const roleOf = (name: string) =>
  (resources('AWS::IAM::Role').find(([id]) =>
    id.startsWith(`Function${name.replace(/-/g, '')}Role`),
  ) ?? [''])[0];

const PURPOSE = { 'kms:EncryptionContext:purpose': 'serverless-dcr:access-token-signing-key' };

describe('wrapped signing mode: keys', () => {
  it('has one KMS key, symmetric, kept, with yearly rotation of its own material; no signing key', () => {
    template.resourceCountIs('AWS::KMS::Key', 1);
    const [[, key]] = resources('AWS::KMS::Key') as [[string, Resource]];
    expect(key.DeletionPolicy).toBe('Retain');
    expect(key.Properties.KeySpec).toBeUndefined();
    expect(key.Properties.KeyUsage).toBeUndefined(); // ENCRYPT_DECRYPT, the default
    expect(key.Properties.EnableKeyRotation).toBe(true);
    template.hasResourceProperties('AWS::KMS::Alias', {
      AliasName: 'alias/serverless-dcr-key-wrapping',
    });
    template.hasOutput('WrappingKeyArn', {});
    expect(template.findOutputs('SigningKeyArn')).toEqual({});
  });

  it("lets only the token function unwrap and only the rotation function generate, both under the signing keys' context", () => {
    const [[, key]] = resources('AWS::KMS::Key') as [[string, Resource]];
    const statements = key.Properties.KeyPolicy.Statement as Statement[];
    const users = statements.filter((s) => s.Sid !== 'KeyAdministration');
    expect(users).toHaveLength(2);
    const decrypt = users.find((s) => actionsOf(s).includes('kms:Decrypt')) as Statement;
    expect(actionsOf(decrypt)).toEqual(['kms:Decrypt']);
    expect(JSON.stringify(decrypt.Principal)).toMatch(/:root"/);
    expect(decrypt.Condition).toEqual({
      StringEquals: PURPOSE,
      ArnEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [roleOf('token'), 'Arn'] } },
    });
    const generate = users.find((s) => s !== decrypt) as Statement;
    expect(actionsOf(generate)).toEqual(['kms:GenerateDataKeyPairWithoutPlaintext']);
    expect(JSON.stringify(generate.Principal)).toMatch(/:root"/);
    expect(generate.Condition).toEqual({
      StringEquals: PURPOSE,
      ArnEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [roleOf('key-rotation'), 'Arn'] } },
    });
    // Administrators manage the key and never use it.
    const admin = statements.find((s) => s.Sid === 'KeyAdministration') as Statement;
    for (const action of actionsOf(admin)) {
      expect(action).not.toMatch(/\*|Decrypt|Encrypt|GenerateDataKey|ReEncrypt|Sign/);
    }
  });

  it('gives the roles the same KMS rights as the key policy, and the others none', () => {
    const kmsActions = (name: string) =>
      roleStatements(name)
        .filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')))
        .map((s) => ({ actions: actionsOf(s), condition: s.Condition, resource: s.Resource }));
    const onTheKey = { 'Fn::GetAtt': [expect.stringMatching(/^WrappingKey/), 'Arn'] };
    expect(kmsActions('token')).toEqual([
      { actions: ['kms:Decrypt'], condition: { StringEquals: PURPOSE }, resource: onTheKey },
    ]);
    expect(kmsActions('key-rotation')).toEqual([
      {
        actions: ['kms:GenerateDataKeyPairWithoutPlaintext'],
        condition: { StringEquals: PURPOSE },
        resource: onTheKey,
      },
    ]);
    for (const name of NAMES.filter((n) => n !== 'token' && n !== 'key-rotation')) {
      expect(kmsActions(name), name).toEqual([]);
    }
  });
});

describe('wrapped signing mode: rotation', () => {
  it('runs the rotation function every 24 hours by default, every dcr:keyRotationHours otherwise', () => {
    const [rotationId] = functionId('key-rotation');
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 day)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [rotationId, 'Arn'] } })],
    });
    synth({ 'dcr:keyRotationHours': 6 }).template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(6 hours)',
    });
    expect(() => synth({ 'dcr:keyRotationHours': 0 })).toThrow(/dcr:keyRotationHours/);
  });

  it('makes the first key at deploy: a custom resource served by the rotation function itself', () => {
    const [rotationId] = functionId('key-rotation');
    template.resourceCountIs('Custom::SigningKeyring', 1);
    template.hasResourceProperties('Custom::SigningKeyring', {
      ServiceToken: { 'Fn::GetAtt': [rotationId, 'Arn'] },
    });
  });

  it('configures the functions: the mode everywhere, the wrapping key only where it is used', () => {
    expect(environment('key-rotation')).toMatchObject({
      DCR_SIGNING_MODE: 'wrapped',
      DCR_SIGNING_ALG: 'RS256',
      DCR_KMS_WRAPPING_KEY_ID: { 'Fn::GetAtt': [expect.stringMatching(/^WrappingKey/), 'Arn'] },
    });
    expect(environment('token')).toHaveProperty('DCR_KMS_WRAPPING_KEY_ID');
    for (const name of ['jwks', 'introspect', 'revoke']) {
      expect(environment(name)).toMatchObject({ DCR_SIGNING_MODE: 'wrapped' });
      expect(environment(name)).not.toHaveProperty('DCR_KMS_WRAPPING_KEY_ID');
      expect(environment(name)).not.toHaveProperty('DCR_KMS_KEY_ID');
    }
    expect(
      synth({ 'dcr:signingAlgorithm': 'ES256' }).template.findResources('AWS::Lambda::Function', {
        Properties: { Environment: { Variables: Match.objectLike({ DCR_SIGNING_ALG: 'ES256' }) } },
      }),
    ).not.toEqual({});
  });

  it('refuses KMS previous keys in the wrapped mode, and an unknown mode', () => {
    expect(() =>
      synth({
        'dcr:previousSigningKeyArns': 'arn:aws:kms:eu-west-1:111111111111:key/1',
      }),
    ).toThrow(/dcr:previousSigningKeyArns/);
    expect(() => synth({ 'dcr:signingMode': 'hsm' })).toThrow(/dcr:signingMode/);
  });
});

describe('wrapped signing mode: table access', () => {
  it('lets the private halves be read by the token function alone, written by the rotation, deleted by cleanup', () => {
    expect(touching('signingkey#*')).toEqual({
      token: ['GetItem'],
      'key-rotation': ['PutItem', 'UpdateItem'],
      cleanup: ['DeleteItem'],
    });
  });

  it('lets the keyring be read by the publishing and verifying functions, written by the rotation alone', () => {
    expect(touching('keyring#*')).toEqual({
      jwks: ['GetItem'],
      token: ['GetItem'],
      introspect: ['GetItem'],
      revoke: ['GetItem'],
      'key-rotation': ['GetItem', 'PutItem'],
    });
  });

  it('keeps every other grant of the kms mode', () => {
    expect(touching('client#*').token).toEqual(['GetItem', 'UpdateItem']);
    expect(itemGrants('key-rotation')).not.toHaveProperty('dynamodb:Scan');
    expect(Object.keys(itemGrants('key-rotation')).sort()).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
  });
});

describe('wrapped signing mode: cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged finding', () => {
    const findings = new AwsSolutionsChecks().validateScope(app).violations;
    expect(findings.map((v) => `${v.ruleName} ${JSON.stringify(v.violatingResources)}`)).toEqual(
      [],
    );
  });
});
