import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoDbSigningKeys } from '../adapters/dynamodb/dynamodb-signing-keys.js';
import { KmsKeyWrapping } from '../adapters/kms/kms-key-wrapping.js';
import { KmsSigner } from '../adapters/kms/kms-signer.js';
import { WrappedKeySigner } from '../adapters/signing/wrapped-key-signer.js';
import type { Config } from '../config.js';
import { systemClock } from '../core/clock.js';
import type { Signer } from '../core/signing/ports.js';
import { documentClient } from './dynamodb.js';

const required = (value: string | undefined, name: string): string => {
  if (value === undefined) {
    throw new Error(`invalid configuration: ${name} is required by this function`);
  }
  return value;
};

/** The KMS signer; a function that signs or verifies cannot start without its key. */
export function kmsSigner(config: Config): KmsSigner {
  return new KmsSigner(new KMSClient({}), {
    activeKeyId: required(config.kmsKeyId, 'DCR_KMS_KEY_ID'),
    previousKeyIds: config.kmsPreviousKeyIds,
  });
}

/** The wrapping key of the wrapped mode, for the functions that unwrap or generate keys. */
export const kmsKeyWrapping = (config: Config) =>
  new KmsKeyWrapping(
    new KMSClient({}),
    required(config.kmsWrappingKeyId, 'DCR_KMS_WRAPPING_KEY_ID'),
  );

/**
 * The signer of the configured mode. `sign`: the token function (in the wrapped mode it alone
 * unwraps private keys); `verify`: the functions that publish or verify, which read public
 * keys only.
 */
export function signerFor(config: Config, use: 'sign' | 'verify'): Signer {
  if (config.signingMode === 'kms') return kmsSigner(config);
  const store = new DynamoDbSigningKeys(documentClient(), config.tableName);
  return new WrappedKeySigner(
    store,
    systemClock,
    { refreshSeconds: config.keyringRefreshSeconds },
    use === 'sign' ? { store, unwrapper: kmsKeyWrapping(config) } : undefined,
  );
}
