import { createPublicKey } from 'node:crypto';
import {
  DecryptCommand,
  GenerateDataKeyPairWithoutPlaintextCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import type {
  PrivateKeyUnwrapper,
  PublishedKey,
  WrappedKeyGenerator,
} from '../../core/signing/ports.js';
import { publishedKey } from '../signing/published-key.js';
import { callKms } from './kms-signer.js';

/**
 * The encryption context every wrapped signing key is bound to. The key policy lets the token
 * function Decrypt, and the rotation function generate, only under it: the wrapping key can
 * neither unwrap nor make anything else for them.
 */
export const WRAPPING_CONTEXT = { purpose: 'serverless-dcr:access-token-signing-key' } as const;

const KEY_PAIR_SPECS = { RS256: 'RSA_2048', ES256: 'ECC_NIST_P256' } as const;

/**
 * Envelope encryption of the signing keys with a symmetric KMS key. The rotation function asks
 * KMS for a key pair whose private half comes back only encrypted
 * (GenerateDataKeyPairWithoutPlaintext), so it never holds it; the token function Decrypts it
 * (PKCS#8 DER), once per container and key.
 */
export class KmsKeyWrapping implements WrappedKeyGenerator, PrivateKeyUnwrapper {
  constructor(
    private readonly client: KMSClient,
    private readonly wrappingKeyId: string,
  ) {}

  async generate(alg: PublishedKey['alg']) {
    const response = await callKms(
      this.client.send(
        new GenerateDataKeyPairWithoutPlaintextCommand({
          KeyId: this.wrappingKeyId,
          KeyPairSpec: KEY_PAIR_SPECS[alg],
          EncryptionContext: WRAPPING_CONTEXT,
        }),
      ),
      'signing key generation',
    );
    if (!response.PublicKey || !response.PrivateKeyCiphertextBlob) {
      throw new Error('KMS returned no key pair');
    }
    const publicKey = createPublicKey({
      key: Buffer.from(response.PublicKey),
      format: 'der',
      type: 'spki',
    });
    return {
      key: await publishedKey(publicKey, alg),
      wrappedPrivateKey: response.PrivateKeyCiphertextBlob,
    };
  }

  async unwrap(wrappedPrivateKey: Uint8Array): Promise<Uint8Array> {
    const { Plaintext } = await callKms(
      this.client.send(
        new DecryptCommand({
          KeyId: this.wrappingKeyId,
          CiphertextBlob: wrappedPrivateKey,
          EncryptionContext: WRAPPING_CONTEXT,
        }),
      ),
      'token signing',
    );
    if (!Plaintext) throw new Error('KMS returned no plaintext');
    return Plaintext;
  }
}
