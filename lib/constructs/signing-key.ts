import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AccountRootPrincipal,
  type IRole,
  PolicyDocument,
  PolicyStatement,
} from 'aws-cdk-lib/aws-iam';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export type SigningAlgorithm = 'RS256' | 'ES256';

export interface SigningKeyProps {
  /** RS256 (RSA_2048, the default: every RFC 9068 resource server supports it) or ES256. */
  readonly algorithm?: SigningAlgorithm;
  /** Alias name without the `alias/` prefix. Default: `serverless-dcr-signing`. */
  readonly aliasName?: string;
}

/** What the account's administrators may do: manage the key, never sign with it. */
export const ADMINISTRATION = [
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

/**
 * The asymmetric KMS key that signs access tokens; its private half never leaves KMS. The key
 * policy is the whole truth: administrators manage the key, the signing function alone may
 * `kms:Sign`, and only the functions that publish or verify keys may `kms:GetPublicKey`.
 */
export class SigningKey extends Construct {
  readonly key: Key;

  constructor(scope: Construct, id: string, props: SigningKeyProps = {}) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      description: 'serverless-dcr access token signing key',
      keySpec: props.algorithm === 'ES256' ? KeySpec.ECC_NIST_P256 : KeySpec.RSA_2048,
      keyUsage: KeyUsage.SIGN_VERIFY,
      alias: `alias/${props.aliasName ?? 'serverless-dcr-signing'}`,
      policy: new PolicyDocument({
        statements: [
          new PolicyStatement({
            sid: 'KeyAdministration',
            principals: [new AccountRootPrincipal()],
            actions: ADMINISTRATION,
            resources: ['*'],
          }),
        ],
      }),
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
    // In the key policy (which no longer delegates to IAM) and in the role's own policy.
    this.key.addToResourcePolicy(
      new PolicyStatement({ principals: [role], actions, resources: ['*'] }),
    );
    role.addToPrincipalPolicy(new PolicyStatement({ actions, resources: [this.key.keyArn] }));
  }
}
