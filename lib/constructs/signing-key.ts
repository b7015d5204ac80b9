import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AccountRootPrincipal,
  type IRole,
  PolicyDocument,
  PolicyStatement,
} from 'aws-cdk-lib/aws-iam';
import { CfnReplicaKey, Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export type SigningAlgorithm = 'RS256' | 'ES256';

export interface SigningKeyProps {
  /** RS256 (RSA_2048, the default: every RFC 9068 resource server supports it) or ES256. */
  readonly algorithm?: SigningAlgorithm;
  /** Alias name without the `alias/` prefix. Default: `serverless-dcr-signing`. */
  readonly aliasName?: string;
  /**
   * A KMS multi-Region primary key (docs/deployment.md "Multi-region"): its replicas in other regions share
   * its key material and so its public key and `kid`. Default: false.
   */
  readonly multiRegion?: boolean;
  /**
   * A replica region's stack: a replica (`AWS::KMS::ReplicaKey`) of this multi-Region key,
   * with this stack's own key policy. Default: a new key.
   */
  readonly replicaOf?: string;
}

/** A KMS key whose policy this stack writes: a new key, or a replica of a multi-Region key. */
export interface UsableKey {
  readonly keyArn: string;
  addToResourcePolicy(statement: PolicyStatement): unknown;
}

/**
 * A replica of a multi-Region key in this stack's region (same key material, so the same
 * public key and kid); its key policy is built here as the primary's is, naming this region's
 * roles. Retained, as the primary.
 */
export class ReplicaKey extends Construct implements UsableKey {
  readonly keyArn: string;
  private readonly policy = administrationOnly();

  constructor(scope: Construct, id: string, props: { primaryKeyArn: string; description: string }) {
    super(scope, id);
    const key = new CfnReplicaKey(this, 'Key', {
      primaryKeyArn: props.primaryKeyArn,
      description: props.description,
      keyPolicy: this.policy,
    });
    key.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.keyArn = key.attrArn;
  }

  addToResourcePolicy(statement: PolicyStatement): void {
    this.policy.addStatements(statement);
  }
}

/**
 * What the account's administrators may do: manage the key, never use it. The list is also
 * what CloudFormation calls with the deploying principal's credentials (through the account,
 * so its IAM policy must allow them too): `AWS::KMS::Key` create calls `CreateKey` (whose
 * lockout check wants `PutKeyPolicy` allowed here), then `EnableKeyRotation` when rotation is
 * on, then reads the key back (`DescribeKey`, `GetKeyPolicy`, `GetKeyRotationStatus`,
 * `ListResourceTags`); updates add the enable, disable, tag and description calls;
 * `AWS::KMS::Alias` needs the alias calls on the key; `AWS::KMS::ReplicaKey` calls
 * `ReplicateKey` on the primary key, and a failover is `UpdatePrimaryRegion` on both keys
 * (docs/deployment.md "Permissions the deploying principal needs").
 */
export const ADMINISTRATION = [
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:DeleteAlias',
  'kms:DescribeKey',
  'kms:DisableKey',
  'kms:DisableKeyRotation',
  'kms:EnableKey',
  'kms:EnableKeyRotation',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:ListGrants',
  'kms:ListKeyPolicies',
  'kms:ListResourceTags',
  'kms:PutKeyPolicy',
  'kms:ReplicateKey',
  'kms:RevokeGrant',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateAlias',
  'kms:UpdateKeyDescription',
  'kms:UpdatePrimaryRegion',
];

/** A key policy that lets the account's administrators manage the key, and nobody use it yet. */
export const administrationOnly = () =>
  new PolicyDocument({
    statements: [
      new PolicyStatement({
        sid: 'KeyAdministration',
        principals: [new AccountRootPrincipal()],
        actions: ADMINISTRATION,
        resources: ['*'],
      }),
    ],
  });

/**
 * Lets a role use a key: in the key policy and in the role's own policy, with the same
 * conditions in both. The key policy trusts the account for this one role
 * (`aws:PrincipalArn`), not the role as a principal: KMS refuses a key policy naming a role IAM
 * has not propagated yet (a role made in the same deploy), and a condition is not checked
 * against IAM. The account's trust delegates to IAM, so the role's own policy must allow the
 * call as well — and no other principal of the account is let in.
 */
export function allowUse(
  key: UsableKey,
  role: IRole,
  actions: string[],
  conditions?: Record<string, Record<string, string>>,
): void {
  key.addToResourcePolicy(
    new PolicyStatement({
      principals: [new AccountRootPrincipal()],
      actions,
      resources: ['*'],
      conditions: { ...conditions, ArnEquals: { 'aws:PrincipalArn': role.roleArn } },
    }),
  );
  role.addToPrincipalPolicy(
    new PolicyStatement({ actions, resources: [key.keyArn], ...(conditions && { conditions }) }),
  );
}

/**
 * The asymmetric KMS key that signs access tokens; its private half never leaves KMS. The key
 * policy names who may do what: administrators manage the key, the signing function's role alone
 * may `kms:Sign`, and only the roles of the functions that publish or verify keys may
 * `kms:GetPublicKey`.
 */
export class SigningKey extends Construct {
  readonly key: UsableKey;

  constructor(scope: Construct, id: string, props: SigningKeyProps = {}) {
    super(scope, id);
    if (props.replicaOf !== undefined) {
      this.key = new ReplicaKey(this, 'Replica', {
        primaryKeyArn: props.replicaOf,
        description: 'serverless-dcr access token signing key (replica)',
      });
      return;
    }
    this.key = new Key(this, 'Key', {
      description: 'serverless-dcr access token signing key',
      keySpec: props.algorithm === 'ES256' ? KeySpec.ECC_NIST_P256 : KeySpec.RSA_2048,
      keyUsage: KeyUsage.SIGN_VERIFY,
      alias: `alias/${props.aliasName ?? 'serverless-dcr-signing'}`,
      policy: administrationOnly(),
      ...(props.multiRegion && { multiRegion: true }),
      // Tokens signed by a deleted key could no longer be verified: keep it.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** Lets a function sign (and read the public key, which signing needs for the kid). */
  grantSign(role: IRole): void {
    this.allow(role, ['kms:Sign', 'kms:GetPublicKey']);
  }

  grantPublicKey(role: IRole): void {
    this.allow(role, ['kms:GetPublicKey']);
  }

  private allow(role: IRole, actions: string[]): void {
    allowUse(this.key, role, actions);
  }
}
