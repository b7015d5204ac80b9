import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ServerlessDcrStack } from '../../lib/serverless-dcr-stack.js';

const ENV = { account: '111111111111', region: 'eu-west-1' };

/** Bundling is skipped here (the bundles are built and run in test/stack). */
function synth(context: Record<string, unknown> = {}, env: typeof ENV | null = ENV) {
  const app = new App({
    context: { 'aws:cdk:bundling-stacks': [], ...context },
  } as ConstructorParameters<typeof App>[0]);
  const stack = new ServerlessDcrStack(app, 'Test', env === null ? {} : { env });
  return { app, template: Template.fromStack(stack) };
}

const REPLICAS = { 'dcr:replicaRegions': 'us-east-1,ap-southeast-2' };
const single = synth();
const multi = synth(REPLICAS);
const wrappedSingle = synth({ 'dcr:signingMode': 'wrapped' });
const wrappedMulti = synth({ ...REPLICAS, 'dcr:signingMode': 'wrapped' });

const only = (template: Template, type: string) => {
  const found = Object.values(template.findResources(type));
  expect(found).toHaveLength(1);
  return found[0] as { Properties: Record<string, unknown> };
};
const environments = (template: Template) =>
  Object.values(template.findResources('AWS::Lambda::Function')).map(
    (f) => (f.Properties.Environment?.Variables ?? {}) as Record<string, unknown>,
  );

describe('multi-region: the global table', () => {
  it('replicates the table to every dcr:replicaRegions region with the same protection and index', () => {
    const table = only(multi.template, 'AWS::DynamoDB::GlobalTable');
    const replicas = table.Properties.Replicas as Record<string, unknown>[];
    expect(replicas.map((r) => r.Region).sort()).toEqual([
      'ap-southeast-2',
      'eu-west-1',
      'us-east-1',
    ]);
    for (const replica of replicas) {
      expect(replica).toMatchObject({
        DeletionProtectionEnabled: true,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        GlobalSecondaryIndexes: [{ IndexName: 'expiry' }],
      });
    }
  });

  it('keeps the stream of new and old images, and the one audit consumer reading it', () => {
    const table = only(multi.template, 'AWS::DynamoDB::GlobalTable');
    expect(table.Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(table.Properties.TimeToLiveSpecification).toEqual({
      AttributeName: 'ttl',
      Enabled: true,
    });
    const mapping = only(multi.template, 'AWS::Lambda::EventSourceMapping');
    expect(JSON.stringify(mapping.Properties.EventSourceArn)).toContain('StreamArn');
  });

  it('has a single replica, in the stack’s region, without dcr:replicaRegions', () => {
    const table = only(single.template, 'AWS::DynamoDB::GlobalTable');
    expect((table.Properties.Replicas as { Region: string }[]).map((r) => r.Region)).toEqual([
      'eu-west-1',
    ]);
  });
});

describe('multi-region: signing keys', () => {
  it('makes the kms mode’s signing key a multi-Region key with the same key policy', () => {
    const key = only(multi.template, 'AWS::KMS::Key');
    expect(key.Properties.MultiRegion).toBe(true);
    expect(key.Properties.KeySpec).toBe('RSA_2048');
    expect(key.Properties.KeyPolicy).toEqual(
      only(single.template, 'AWS::KMS::Key').Properties.KeyPolicy,
    );
    expect(only(single.template, 'AWS::KMS::Key').Properties.MultiRegion).toBeUndefined();
  });

  it('makes the wrapped mode’s wrapping key a multi-Region key with the same key policy', () => {
    const key = only(wrappedMulti.template, 'AWS::KMS::Key');
    expect(key.Properties.MultiRegion).toBe(true);
    expect(key.Properties.KeySpec).toBeUndefined();
    expect(key.Properties.KeyPolicy).toEqual(
      only(wrappedSingle.template, 'AWS::KMS::Key').Properties.KeyPolicy,
    );
    expect(only(wrappedSingle.template, 'AWS::KMS::Key').Properties.MultiRegion).toBeUndefined();
  });
});

describe('multi-region: one region runs the background work', () => {
  it('schedules one cleanup (and, wrapped, one rotation) and one audit consumer, in the stack’s region', () => {
    expect(Object.keys(multi.template.findResources('AWS::Events::Rule'))).toHaveLength(1);
    expect(Object.keys(wrappedMulti.template.findResources('AWS::Events::Rule'))).toHaveLength(2);
    expect(
      Object.keys(wrappedMulti.template.findResources('AWS::Lambda::EventSourceMapping')),
    ).toHaveLength(1);
  });

  it('tells every function its region (the home of what it creates), only with replicas', () => {
    for (const variables of environments(multi.template)) {
      expect(variables.DCR_REGION).toBe('eu-west-1');
    }
    for (const variables of environments(single.template)) {
      expect(variables.DCR_REGION).toBeUndefined();
    }
  });
});

describe('multi-region: refusals at synth', () => {
  it('needs the stack’s region', () => {
    expect(() => synth(REPLICAS, null)).toThrow(
      /dcr:replicaRegions: needs the stack’s region at synth: set AWS_REGION/,
    );
  });

  it('refuses the stack’s own region, a malformed or repeated region', () => {
    expect(() => synth({ 'dcr:replicaRegions': 'us-east-1,eu-west-1' })).toThrow(
      /dcr:replicaRegions: must not contain the stack’s own region eu-west-1/,
    );
    expect(() => synth({ 'dcr:replicaRegions': 'US-EAST-1' })).toThrow(
      /dcr:replicaRegions.*: must be AWS region names/,
    );
    expect(() => synth({ 'dcr:replicaRegions': 'us-east-1 us-east-1' })).toThrow(
      /dcr:replicaRegions: must not repeat a region/,
    );
  });
});

describe('multi-region: cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged finding', () => {
    for (const { app } of [multi, wrappedMulti]) {
      const findings = new AwsSolutionsChecks().validateScope(app).violations;
      expect(findings.map((v) => `${v.ruleName} ${JSON.stringify(v.violatingResources)}`)).toEqual(
        [],
      );
    }
  });
});

const PRIMARY_KEY = 'arn:aws:kms:eu-west-1:111111111111:key/mrk-0123456789abcdef0123456789abcdef';
const REPLICA_ENV = { account: '111111111111', region: 'us-east-1' };
const REPLICA = {
  'dcr:primaryRegion': 'eu-west-1',
  'dcr:primaryTableName': 'ServerlessDcr-ClientsTable-ABC123',
  'dcr:primaryKeyArn': PRIMARY_KEY,
  'dcr:cognitoLogin': 'false',
};
const NO_LOGIN = { 'dcr:cognitoLogin': 'false' };

describe('multi-region: a replica region’s stack (dcr:primaryRegion)', () => {
  const replica = synth(REPLICA, REPLICA_ENV);
  const wrappedReplica = synth({ ...REPLICA, 'dcr:signingMode': 'wrapped' }, REPLICA_ENV);
  const primary = synth({ ...REPLICAS, ...NO_LOGIN });
  const wrappedPrimary = synth({ ...REPLICAS, ...NO_LOGIN, 'dcr:signingMode': 'wrapped' });

  it('uses the global table’s replica here, by name, and creates no table', () => {
    expect(replica.template.findResources('AWS::DynamoDB::GlobalTable')).toEqual({});
    for (const variables of environments(replica.template)) {
      expect(variables.DCR_TABLE_NAME).toBe('ServerlessDcr-ClientsTable-ABC123');
      expect(variables.DCR_REGION).toBe('us-east-1');
    }
    const tableArns = Object.values(replica.template.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((st: { Action: unknown }) => JSON.stringify(st.Action).includes('dynamodb:'))
      .map((st: { Resource: unknown }) => JSON.stringify(st.Resource));
    expect(tableArns.length).toBeGreaterThan(0);
    for (const arn of tableArns) {
      expect(arn).toContain(':dynamodb:us-east-1:');
      expect(arn).toContain(':table/ServerlessDcr-ClientsTable-ABC123');
    }
  });

  it('replicates the primary’s multi-Region signing key, with the primary’s key policy naming this region’s roles', () => {
    expect(replica.template.findResources('AWS::KMS::Key')).toEqual({});
    const key = only(replica.template, 'AWS::KMS::ReplicaKey');
    expect(key.Properties.PrimaryKeyArn).toBe(PRIMARY_KEY);
    expect(key.Properties.KeyPolicy).toEqual(
      only(primary.template, 'AWS::KMS::Key').Properties.KeyPolicy,
    );
    expect((key as { DeletionPolicy?: string }).DeletionPolicy).toBe('Retain');
    const tokenFunction = environments(replica.template).find(
      (v) => v.DCR_KMS_KEY_ID !== undefined && JSON.stringify(v.DCR_KMS_KEY_ID).includes('Arn'),
    );
    expect(JSON.stringify(tokenFunction?.DCR_KMS_KEY_ID)).toContain('SigningKeyReplica');
  });

  it('replicates the wrapping key in the wrapped mode, with the primary’s key policy', () => {
    const key = only(wrappedReplica.template, 'AWS::KMS::ReplicaKey');
    expect(key.Properties.PrimaryKeyArn).toBe(PRIMARY_KEY);
    // The primary's policy also lets its rotation function generate keys; a replica has none.
    const statements = (
      only(wrappedPrimary.template, 'AWS::KMS::Key').Properties.KeyPolicy as {
        Statement: { Action: unknown }[];
      }
    ).Statement.filter((st) => st.Action !== 'kms:GenerateDataKeyPairWithoutPlaintext');
    expect((key.Properties.KeyPolicy as { Statement: unknown[] }).Statement).toEqual(statements);
  });

  it('runs no cleanup, audit or key rotation: the primary region does', () => {
    for (const { template } of [replica, wrappedReplica]) {
      expect(template.findResources('AWS::Events::Rule')).toEqual({});
      expect(template.findResources('AWS::Lambda::EventSourceMapping')).toEqual({});
      expect(template.findResources('AWS::CloudFormation::CustomResource')).toEqual({});
      expect(template.findResources('Custom::SigningKeyring')).toEqual({});
      const functionIds = Object.keys(template.findResources('AWS::Lambda::Function'));
      expect(functionIds.filter((id) => /cleanup|audit|keyrotation/i.test(id))).toEqual([]);
    }
  });

  it('refuses an incomplete or contradictory replica configuration', () => {
    const { 'dcr:primaryKeyArn': _, ...withoutKey } = REPLICA;
    expect(() => synth(withoutKey, REPLICA_ENV)).toThrow(
      /dcr:primaryRegion: primaryRegion, primaryTableName and primaryKeyArn go together/,
    );
    expect(() => synth({ ...REPLICA, 'dcr:primaryRegion': 'us-east-1' }, REPLICA_ENV)).toThrow(
      /dcr:primaryRegion: must not be the stack’s own region us-east-1/,
    );
    expect(() => synth({ ...REPLICA, ...REPLICAS }, REPLICA_ENV)).toThrow(/dcr:replicaRegions/);
    expect(() => synth({ ...REPLICA, 'dcr:cognitoLogin': 'true' }, REPLICA_ENV)).toThrow(
      /dcr:primaryRegion: needs upstreamIssuer/,
    );
    expect(() =>
      synth({ ...REPLICA, 'dcr:primaryKeyArn': PRIMARY_KEY.replace('mrk-', '') }, REPLICA_ENV),
    ).toThrow(/dcr:primaryKeyArn: must be the ARN of a multi-Region KMS key/);
  });

  it('reports no unacknowledged cdk-nag finding', () => {
    for (const { app } of [replica, wrappedReplica]) {
      const findings = new AwsSolutionsChecks().validateScope(app).violations;
      expect(findings.map((v) => `${v.ruleName} ${JSON.stringify(v.violatingResources)}`)).toEqual(
        [],
      );
    }
  });
});
