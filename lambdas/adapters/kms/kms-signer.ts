import { createPublicKey } from 'node:crypto';
import {
  GetPublicKeyCommand,
  type KMSClient,
  SignCommand,
  type SigningAlgorithmSpec,
} from '@aws-sdk/client-kms';
import { temporarilyUnavailable } from '../../core/errors.js';
import type { PublishedKey, Signer } from '../../core/signing/ports.js';
import { logger } from '../../log.js';
import { callAws } from '../aws-errors.js';
import { publishedKey } from '../signing/published-key.js';
import { derToJose } from './ecdsa-signature.js';

/** KMS caps MessageType RAW at 4096 bytes. */
const KMS_RAW_LIMIT = 4096;

const KEY_SPECS: Record<string, { alg: PublishedKey['alg']; algorithm: SigningAlgorithmSpec }> = {
  RSA_2048: { alg: 'RS256', algorithm: 'RSASSA_PKCS1_V1_5_SHA_256' },
  RSA_3072: { alg: 'RS256', algorithm: 'RSASSA_PKCS1_V1_5_SHA_256' },
  RSA_4096: { alg: 'RS256', algorithm: 'RSASSA_PKCS1_V1_5_SHA_256' },
  ECC_NIST_P256: { alg: 'ES256', algorithm: 'ECDSA_SHA_256' },
};

/** The key itself is unusable (disabled, pending deletion, gone): an operator must act. */
const KEY_UNUSABLE = new Set([
  'DisabledException',
  'KMSInvalidStateException',
  'NotFoundException',
  'KeyUnavailableException',
  'AccessDeniedException',
]);

/**
 * A KMS call: throttling becomes a 503 with Retry-After; an unusable key (disabled, pending
 * deletion, gone, denied) is logged loudly (no token can be issued until an operator acts) and
 * is a 503 too.
 */
export async function callKms<T>(operation: Promise<T>, purpose: string): Promise<T> {
  try {
    return await callAws(operation, purpose);
  } catch (error) {
    const name = (error as { name?: string }).name ?? '';
    if (!KEY_UNUSABLE.has(name)) throw error;
    logger.error('signing key unusable', { errorName: name });
    throw temporarilyUnavailable(`${purpose} is unavailable`);
  }
}

export interface KmsSignerOptions {
  /** Key id, ARN or alias of the key that signs. */
  readonly activeKeyId: string;
  /** Keys that signed before a rotation and stay in the JWKS until their tokens expire. */
  readonly previousKeyIds?: readonly string[];
}

interface ResolvedKey {
  readonly keyId: string;
  readonly published: PublishedKey;
  readonly algorithm: SigningAlgorithmSpec;
}

/**
 * Signs with an asymmetric KMS key: the private key never leaves KMS. Public keys are read once
 * per container (GetPublicKey) and published with their RFC 7638 thumbprint as kid.
 */
export class KmsSigner implements Signer {
  private keys?: Promise<ResolvedKey[]>;
  private published?: { readonly from: ResolvedKey[]; readonly keys: PublishedKey[] };

  constructor(
    private readonly client: KMSClient,
    private readonly options: KmsSignerOptions,
  ) {}

  async activeKey(): Promise<PublishedKey> {
    return ((await this.resolveKeys())[0] as ResolvedKey).published;
  }

  async publishedKeys(): Promise<readonly PublishedKey[]> {
    const resolved = await this.resolveKeys();
    // The same array every time: callers cache what they derive from it.
    if (this.published?.from !== resolved) {
      this.published = { from: resolved, keys: resolved.map((k) => k.published) };
    }
    return this.published.keys;
  }

  async sign(signingInput: Buffer, kid?: string): Promise<Buffer> {
    if (signingInput.length > KMS_RAW_LIMIT) {
      throw new Error(`signing input of ${signingInput.length} bytes exceeds KMS's RAW limit`);
    }
    const active = (await this.resolveKeys())[0] as ResolvedKey;
    if (kid !== undefined && kid !== active.published.kid)
      throw new Error(`not the active key: ${kid}`);
    const { Signature } = await this.call(
      this.client.send(
        new SignCommand({
          KeyId: active.keyId,
          Message: signingInput,
          MessageType: 'RAW',
          SigningAlgorithm: active.algorithm,
        }),
      ),
    );
    if (!Signature) throw new Error('KMS returned no signature');
    return active.published.alg === 'ES256' ? derToJose(Signature) : Buffer.from(Signature);
  }

  private resolveKeys(): Promise<ResolvedKey[]> {
    this.keys ??= Promise.all(
      [this.options.activeKeyId, ...(this.options.previousKeyIds ?? [])].map((id) =>
        this.resolve(id),
      ),
    );
    // A failed lookup (throttling) is retried by the next request, not remembered.
    this.keys.catch(() => {
      this.keys = undefined;
    });
    return this.keys;
  }

  private async resolve(keyId: string): Promise<ResolvedKey> {
    const response = await this.call(this.client.send(new GetPublicKeyCommand({ KeyId: keyId })));
    const spec = KEY_SPECS[response.KeySpec ?? ''];
    if (!spec || response.KeyUsage !== 'SIGN_VERIFY' || !response.PublicKey) {
      throw new Error(`KMS key ${keyId} is not an RSA or P-256 SIGN_VERIFY key`);
    }
    const publicKey = createPublicKey({
      key: Buffer.from(response.PublicKey),
      format: 'der',
      type: 'spki',
    });
    return {
      keyId,
      published: await publishedKey(publicKey, spec.alg),
      algorithm: spec.algorithm,
    };
  }

  private call<T>(operation: Promise<T>): Promise<T> {
    return callKms(operation, 'token signing');
  }
}
