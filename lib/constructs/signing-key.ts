import { RemovalPolicy } from 'aws-cdk-lib';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export type SigningAlgorithm = 'RS256' | 'ES256';

export interface SigningKeyProps {
  /** RS256 (RSA_2048, the default: every RFC 9068 resource server supports it) or ES256. */
  readonly algorithm?: SigningAlgorithm;
  /** Alias name without the `alias/` prefix. Default: `serverless-dcr-signing`. */
  readonly aliasName?: string;
}

/** The asymmetric KMS key that signs access tokens; its private half never leaves KMS. */
export class SigningKey extends Construct {
  readonly key: Key;

  constructor(scope: Construct, id: string, props: SigningKeyProps = {}) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      description: 'serverless-dcr access token signing key',
      keySpec: props.algorithm === 'ES256' ? KeySpec.ECC_NIST_P256 : KeySpec.RSA_2048,
      keyUsage: KeyUsage.SIGN_VERIFY,
      alias: `alias/${props.aliasName ?? 'serverless-dcr-signing'}`,
      // Tokens signed by a deleted key could no longer be verified: keep it.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  grantSign(grantee: IGrantable) {
    return this.key.grant(grantee, 'kms:Sign');
  }

  grantPublicKey(grantee: IGrantable) {
    return this.key.grant(grantee, 'kms:GetPublicKey');
  }
}
