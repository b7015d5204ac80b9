import { RemovalPolicy } from 'aws-cdk-lib';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { WRAPPING_CONTEXT } from '../../lambdas/adapters/kms/kms-key-wrapping.js';
import { administrationOnly, allowUse, ReplicaKey, type UsableKey } from './signing-key.js';

/** Both uses of the key are bound to the signing keys' encryption context. */
const onlySigningKeys = {
  StringEquals: { 'kms:EncryptionContext:purpose': WRAPPING_CONTEXT.purpose },
};

/**
 * The wrapped mode's symmetric KMS key (docs/deployment.md "Signing modes"): it wraps the private halves of
 * the token signing keys. The key policy names who may do what: administrators manage the key and
 * never use it; the rotation function alone may generate wrapped key pairs, the token function
 * alone may unwrap them, both only under the signing keys' encryption context.
 */
export interface WrappingKeyProps {
  /**
   * A KMS multi-Region primary key (docs/deployment.md "Multi-region"): a replica in another region can
   * unwrap the keyring's signing keys (replicated with the table). Default: false.
   */
  readonly multiRegion?: boolean;
  /** A replica region's stack: a replica of this multi-Region wrapping key. */
  readonly replicaOf?: string;
}

export class WrappingKey extends Construct {
  readonly key: UsableKey;

  constructor(scope: Construct, id: string, props: WrappingKeyProps = {}) {
    super(scope, id);
    if (props.replicaOf !== undefined) {
      this.key = new ReplicaKey(this, 'Replica', {
        primaryKeyArn: props.replicaOf,
        description: 'serverless-dcr: wraps the access token signing keys (replica)',
      });
      return;
    }
    this.key = new Key(this, 'Key', {
      description: 'serverless-dcr: wraps the access token signing keys (wrapped mode)',
      alias: 'alias/serverless-dcr-key-wrapping',
      enableKeyRotation: true,
      policy: administrationOnly(),
      ...(props.multiRegion && { multiRegion: true }),
      // The keyring's private halves could no longer be unwrapped: keep it.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** The token function: Decrypt, of signing keys only. */
  grantUnwrap(role: IRole): void {
    this.allow(role, ['kms:Decrypt']);
  }

  /** The rotation function: new key pairs whose private half it never sees. */
  grantGenerate(role: IRole): void {
    this.allow(role, ['kms:GenerateDataKeyPairWithoutPlaintext']);
  }

  private allow(role: IRole, actions: string[]): void {
    allowUse(this.key, role, actions, onlySigningKeys);
  }
}
