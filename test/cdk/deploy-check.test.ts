import { App } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { ServerlessDcrStack } from '../../lib/serverless-dcr-stack.js';
import {
  ACKNOWLEDGED,
  type Deployment,
  deployerOf,
  deployProblems,
  handlerProblems,
  iamProblems,
  referenceProblems,
  specificationProblems,
  type Template,
} from '../support/deploy-check.js';
import { keyPolicyAllows, type PolicyStatement } from '../support/iam-policy.js';

/**
 * The offline deploy check (test/support/deploy-check.ts) on every variant docs/deployment.md
 * advertises: each synthesized as `cdk synth` would (bundling skipped: the bundles are built and
 * run in test/stack), then judged as CloudFormation, IAM and KMS would judge it at deploy.
 */
const ACCOUNT = '123456789012';
const PRIMARY = 'eu-west-1';
const REPLICA = 'us-east-1';
const PRIMARY_KEY = `arn:aws:kms:${PRIMARY}:${ACCOUNT}:key/mrk-0123456789abcdef0123456789abcdef`;
const UPSTREAM = {
  'dcr:upstreamIssuer': 'https://login.example.com',
  'dcr:upstreamClientId': 'dcr',
};
const MULTI_REGION = { ...UPSTREAM, 'dcr:replicaRegions': REPLICA };
const REPLICA_REGION = {
  ...UPSTREAM,
  'dcr:primaryRegion': PRIMARY,
  'dcr:primaryTableName': 'ServerlessDcr-ClientsTable-ABC123',
  'dcr:primaryKeyArn': PRIMARY_KEY,
};

interface Variant {
  readonly name: string;
  readonly context: Record<string, string>;
  readonly region?: string;
  /** A replica region's stack: the variant whose multi-Region key it replicates. */
  readonly primary?: string;
}

/** What docs/deployment.md advertises, one context set each. */
const VARIANTS: readonly Variant[] = [
  { name: 'default', context: {} },
  { name: 'wrapped', context: { 'dcr:signingMode': 'wrapped' } },
  { name: 'ES256', context: { 'dcr:signingAlgorithm': 'ES256' } },
  { name: 'multi-region (kms)', context: MULTI_REGION },
  { name: 'multi-region (wrapped)', context: { ...MULTI_REGION, 'dcr:signingMode': 'wrapped' } },
  {
    name: 'replica region (kms)',
    context: REPLICA_REGION,
    region: REPLICA,
    primary: 'multi-region (kms)',
  },
  {
    name: 'replica region (wrapped)',
    context: { ...REPLICA_REGION, 'dcr:signingMode': 'wrapped' },
    region: REPLICA,
    primary: 'multi-region (wrapped)',
  },
  {
    name: 'custom domain + mTLS',
    context: {
      'dcr:domainName': 'auth.example.com',
      'dcr:certificateArn': `arn:aws:acm:${PRIMARY}:${ACCOUNT}:certificate/11111111-2222-3333-4444-555555555555`,
      'dcr:mtlsDomainName': 'mtls.auth.example.com',
      'dcr:mtlsTruststoreUri': 's3://example-truststore/ca.pem',
    },
  },
  {
    name: 'upstream OIDC',
    context: {
      ...UPSTREAM,
      'dcr:upstreamClientSecretArn': `arn:aws:secretsmanager:${PRIMARY}:${ACCOUNT}:secret:dcr-upstream-AbCdEf`,
      'dcr:upstreamScopes': 'openid email offline_access',
    },
  },
  {
    name: 'no login, protected registration',
    context: { 'dcr:cognitoLogin': 'false', 'dcr:registrationAccess': 'initial_access_token' },
  },
  {
    name: 'key generation 2',
    context: {
      'dcr:signingKeyGeneration': '2',
      'dcr:previousSigningKeyArns': `arn:aws:kms:${PRIMARY}:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`,
    },
  },
];

/** Synthesizes a variant as the CLI would, without bundling and CDK's own template validation. */
function synthesize(context: Record<string, string>, region = PRIMARY): Template {
  const app = new App({
    context: { 'aws:cdk:bundling-stacks': [], ...context },
    builtinCloudFormationValidation: false,
  } as ConstructorParameters<typeof App>[0]);
  const stack = new ServerlessDcrStack(app, 'ServerlessDcr', {
    env: { account: ACCOUNT, region },
  });
  return app.synth({ validateOnSynthesis: false }).getStackByName(stack.stackName)
    .template as Template;
}

const templates = new Map<string, Template>();
beforeAll(() => {
  for (const variant of VARIANTS) {
    templates.set(variant.name, synthesize(variant.context, variant.region));
  }
});

const deploymentOf = (variant: Variant): Deployment => ({
  account: ACCOUNT,
  region: variant.region ?? PRIMARY,
  ...(variant.primary && { primary: templates.get(variant.primary) as Template }),
});

describe('every advertised variant passes the offline deploy check', () => {
  it.each(VARIANTS.map((v) => [v.name, v] as const))('%s', async (_, variant) => {
    const template = templates.get(variant.name) as Template;
    expect(await deployProblems(template, deploymentOf(variant))).toEqual([]);
  });
});

/** The default template with one change made to a copy. */
const changed = (edit: (template: Template) => void): Template => {
  const copy = structuredClone(templates.get('default') as Template);
  edit(copy);
  return copy;
};
const idOf = (template: Template, type: string) =>
  Object.entries(template.Resources).find(([, r]) => r.Type === type)?.[0] as string;
const DEFAULT: Deployment = { account: ACCOUNT, region: PRIMARY };

describe('the check catches what CloudFormation would refuse', () => {
  it('a resource type that does not exist, a misspelled property, a missing required one', () => {
    const template = changed((t) => {
      const topic = idOf(t, 'AWS::SNS::Topic');
      t.Resources[topic].Type = 'AWS::SNS::Topics';
      const logs = idOf(t, 'AWS::Logs::LogGroup');
      t.Resources[logs].Properties.RetentionInDay = 30;
      const fn = idOf(t, 'AWS::Lambda::Function');
      delete t.Resources[fn].Properties.Role;
    });
    const problems = specificationProblems(template).join('\n');
    expect(problems).toMatch(/AWS::SNS::Topics is not a CloudFormation resource type/);
    expect(problems).toMatch(/RetentionInDay: no such property/);
    expect(problems).toMatch(/required property Role is missing/);
  });

  it('a value outside its enumeration (a log retention of 45 days, an unknown key spec)', () => {
    const template = changed((t) => {
      t.Resources[idOf(t, 'AWS::Logs::LogGroup')].Properties.RetentionInDays = 45;
      t.Resources[idOf(t, 'AWS::KMS::Key')].Properties.KeySpec = 'RSA_1024';
    });
    const problems = specificationProblems(template).join('\n');
    expect(problems).toMatch(/RetentionInDays: 45 is not one of 1, 3, 5, 7, 14, 30, 60/);
    expect(problems).toMatch(/KeySpec: "RSA_1024" is not one of/);
  });

  it('a wrong primitive type and a wrong resource attribute', () => {
    const template = changed((t) => {
      t.Resources[idOf(t, 'AWS::Lambda::Function')].Properties.MemorySize = 'lots';
      t.Resources[idOf(t, 'AWS::KMS::Key')].DeletionPolicy = 'Keep';
    });
    const problems = specificationProblems(template).join('\n');
    expect(problems).toMatch(/MemorySize: "lots" is not a integer/);
    expect(problems).toMatch(/DeletionPolicy Keep is not one CloudFormation has/);
  });

  it('a reference to nothing, an attribute a resource lacks, and a cycle', () => {
    const template = changed((t) => {
      const key = idOf(t, 'AWS::KMS::Key');
      const fn = idOf(t, 'AWS::Lambda::Function');
      t.Resources[fn].Properties.Environment.Variables.X = { Ref: 'Nowhere' };
      t.Resources[fn].Properties.Environment.Variables.Y = { 'Fn::GetAtt': [key, 'PublicKey'] };
      t.Resources[key].DependsOn = [fn];
      t.Resources[fn].DependsOn = [...(t.Resources[fn].DependsOn ?? []), key];
    });
    const problems = referenceProblems(template).join('\n');
    expect(problems).toMatch(/Ref names nothing: Nowhere/);
    expect(problems).toMatch(/\(AWS::KMS::Key\) has no attribute PublicKey/);
    expect(problems).toMatch(/a dependency cycle: /);
  });

  it('a misspelled IAM action, an unknown condition key or operator, an action that grants nothing', async () => {
    const template = changed((t) => {
      const policy = idOf(t, 'AWS::IAM::Policy');
      const statements = t.Resources[policy].Properties.PolicyDocument.Statement;
      statements.push(
        { Effect: 'Allow', Action: 'dynamodb:GetItems', Resource: '*' },
        {
          Effect: 'Allow',
          Action: 'dynamodb:GetItem',
          Resource: '*',
          Condition: { StringEquals: { 'dynamodb:LeadingKey': 'x' } },
        },
        {
          Effect: 'Allow',
          Action: 'dynamodb:GetItem',
          Resource: '*',
          Condition: { StringEqualz: { 'dynamodb:LeadingKeys': 'x' } },
        },
      );
      const key = t.Resources[idOf(t, 'AWS::KMS::Key')].Properties.KeyPolicy.Statement;
      key[0].Action = [...key[0].Action, 'kms:ListAliases'];
    });
    const problems = (await iamProblems(template)).join('\n');
    expect(problems).toMatch(/dynamodb:GetItems is not an IAM action/);
    expect(problems).toMatch(/dynamodb:LeadingKey is not a condition key/);
    expect(problems).toMatch(/StringEqualz is not a condition operator/);
    expect(problems).toMatch(/kms:ListAliases does not act on a key: it grants nothing/);
  });

  it('a key policy lacking what the KMS handlers call with the deployer’s credentials', () => {
    const template = changed((t) => {
      const key = t.Resources[idOf(t, 'AWS::KMS::Key')];
      key.Properties.EnableKeyRotation = true;
      key.Properties.MultiRegion = true;
      const administration = key.Properties.KeyPolicy.Statement[0];
      administration.Action = administration.Action.filter(
        (a: string) => !['kms:EnableKeyRotation', 'kms:ReplicateKey'].includes(a),
      );
    });
    const problems = handlerProblems(template, DEFAULT).join('\n');
    expect(problems).toMatch(
      /does not allow the deploying principal kms:EnableKeyRotation: create/,
    );
    expect(problems).toMatch(/does not allow the deploying principal kms:ReplicateKey/);
  });

  it('a replica key whose primary key policy refuses ReplicateKey', () => {
    const replica = VARIANTS.find((v) => v.name === 'replica region (kms)') as Variant;
    const primary = structuredClone(templates.get('multi-region (kms)') as Template);
    const key = primary.Resources[idOf(primary, 'AWS::KMS::Key')];
    const administration = key.Properties.KeyPolicy.Statement[0];
    administration.Action = administration.Action.filter((a: string) => a !== 'kms:ReplicateKey');
    const problems = handlerProblems(templates.get(replica.name) as Template, {
      ...deploymentOf(replica),
      primary,
    });
    expect(problems.join('\n')).toMatch(
      /the primary key’s policy does not allow the deploying principal kms:ReplicateKey/,
    );
  });

  it('a key policy naming a role of the same stack, and a custom resource without a timeout', () => {
    const template = changed((t) => {
      const key = t.Resources[idOf(t, 'AWS::KMS::Key')];
      const role = idOf(t, 'AWS::IAM::Role');
      key.Properties.KeyPolicy.Statement.push({
        Effect: 'Allow',
        Principal: { AWS: { 'Fn::GetAtt': [role, 'Arn'] } },
        Action: 'kms:Sign',
        Resource: '*',
      });
    });
    expect(handlerProblems(template, DEFAULT).join('\n')).toMatch(
      /names the role \w+ as a principal: KMS refuses a principal IAM has not propagated yet/,
    );
    const wrapped = structuredClone(templates.get('wrapped') as Template);
    delete wrapped.Resources[idOf(wrapped, 'Custom::SigningKeyring')].Properties.ServiceTimeout;
    expect(handlerProblems(wrapped, DEFAULT).join('\n')).toMatch(/no ServiceTimeout/);
  });
});

describe('what the check lets through', () => {
  it('acknowledges only findings it still raises, each with its reason', async () => {
    const raised = await iamProblems(templates.get('default') as Template);
    for (const { finding, reason } of ACKNOWLEDGED) {
      expect(
        raised.some((p) => finding.test(p)),
        reason,
      ).toBe(true);
      expect(reason.length).toBeGreaterThan(40);
    }
  });
});

describe('what the deploying principal may do with the stack’s keys', () => {
  /** Whether the variant's one KMS key (or replica key) policy lets the deployer make the call. */
  const deployerMay = (name: string, action: string) => {
    const template = templates.get(name) as Template;
    const [key] = Object.values(template.Resources).filter((r) => r.Type.startsWith('AWS::KMS::'));
    const statements = (key?.Properties.KeyPolicy.Statement ?? []) as PolicyStatement[];
    // The administration statement trusts the account's root: resolved as KMS would see it.
    const resolved = statements.map((s) =>
      JSON.stringify(s.Principal).includes(':root')
        ? { ...s, Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } }
        : s,
    );
    const deployer = { arn: deployerOf({ account: ACCOUNT, region: PRIMARY }), account: ACCOUNT };
    return keyPolicyAllows(resolved, deployer, action, {}, () => true);
  };

  it('turns on the wrapping key’s rotation, which the key’s create calls right after CreateKey', () => {
    expect(deployerMay('wrapped', 'kms:EnableKeyRotation')).toBe(true);
    expect(deployerMay('wrapped', 'kms:GetKeyRotationStatus')).toBe(true);
  });

  it('replicates the primary multi-Region key into a replica region, and fails over', () => {
    for (const name of ['multi-region (kms)', 'multi-region (wrapped)']) {
      expect(deployerMay(name, 'kms:ReplicateKey'), name).toBe(true);
      expect(deployerMay(name, 'kms:UpdatePrimaryRegion'), name).toBe(true);
    }
    for (const name of ['replica region (kms)', 'replica region (wrapped)']) {
      expect(deployerMay(name, 'kms:UpdatePrimaryRegion'), name).toBe(true);
    }
  });

  it('never signs, decrypts or generates with a key', () => {
    for (const name of ['default', 'wrapped', 'multi-region (kms)']) {
      for (const action of ['kms:Sign', 'kms:Decrypt', 'kms:GenerateDataKeyPairWithoutPlaintext']) {
        expect(deployerMay(name, action), `${name} ${action}`).toBe(false);
      }
    }
  });
});
