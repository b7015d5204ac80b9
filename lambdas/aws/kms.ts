import { KMSClient } from '@aws-sdk/client-kms';
import { KmsSigner } from '../adapters/kms-signer.js';
import type { Config } from '../config.js';

/** The KMS signer; a function that signs or verifies cannot start without its key. */
export function kmsSigner(config: Config): KmsSigner {
  if (config.kmsKeyId === undefined) {
    throw new Error('invalid configuration: DCR_KMS_KEY_ID is required by this function');
  }
  return new KmsSigner(new KMSClient({}), {
    activeKeyId: config.kmsKeyId,
    previousKeyIds: config.kmsPreviousKeyIds,
  });
}
