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

/** What the account's administrators may do: manage the key, never sign with it. */
const ADMINISTRATION = [
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:DeleteAlias',
  'kms:DescribeKey',
  'kms:DisableKey',
  'kms:EnableKey',
  'kms:GetKeyPolicy',
  'kms:ListAliases',
  'kms:ListGrants',
  'kms:ListKeyPolicies',
  'kms:ListResourceTags',
  'kms:PutKeyPolicy',
  'kms:RevokeGrant',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateAlias',
  'kms:UpdateKeyDescription',
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
 * Lets a role use a key: in the key policy (which does not delegate to IAM) and in the role's
 * own policy, with the same conditions in both.
 */
export function allowUse(
  key: UsableKey,
  role: IRole,
  actions: string[],
  conditions?: Record<string, Record<string, string>>,
): void {
  key.addToResourcePolicy(
    new PolicyStatement({
      principals: [role],
      actions,
      resources: ['*'],
      ...(conditions && { conditions }),
    }),
  );
  role.addToPrincipalPolicy(
    new PolicyStatement({ actions, resources: [key.keyArn], ...(conditions && { conditions }) }),
  );
}

/**
 * The asymmetric KMS key that signs access tokens; its private half never leaves KMS. The key
 * policy is the whole truth: administrators manage the key, the signing function alone may
 * `kms:Sign`, and only the functions that publish or verify keys may `kms:GetPublicKey`.
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
