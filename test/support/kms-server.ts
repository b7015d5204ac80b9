import {
  createCipheriv,
  createDecipheriv,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface KmsTestServer {
  readonly endpoint: string;
  /** Every call received: its operation and the key it named. */
  readonly calls: { readonly operation: string; readonly keyId: string }[];
  close(): Promise<void>;
}

const SPECS = {
  RSA_2048: {
    algorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
    generate: () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
  },
  ECC_NIST_P256: {
    algorithm: 'ECDSA_SHA_256',
    generate: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  },
} as const;

type AsymmetricSpec = keyof typeof SPECS;
/** A key as the template declares it: asymmetric for signing, or symmetric (no KeySpec). */
export type KmsKeySpec = AsymmetricSpec | 'SYMMETRIC_DEFAULT';

interface LocalKey {
  readonly spec: KmsKeySpec;
  readonly privateKey?: KeyObject;
  readonly publicKey?: KeyObject;
  /** AES-256-GCM, for a symmetric key. */
  readonly secret?: Buffer;
}

/** The AAD a ciphertext is bound to: its encryption context, canonically ordered. */
const aad = (context: Record<string, string> | undefined) =>
  Buffer.from(JSON.stringify(Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))));

/**
 * A ciphertext blob as this server makes it: the key's ARN (so Decrypt finds the key, as KMS's
 * blobs carry it), a nonce, the GCM tag and the ciphertext.
 */
function encrypt(
  keyId: string,
  secret: Buffer,
  plaintext: Buffer,
  context?: Record<string, string>,
) {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', secret, iv);
  cipher.setAAD(aad(context));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const id = Buffer.from(keyId);
  return Buffer.concat([Buffer.from([id.length]), id, iv, cipher.getAuthTag(), ciphertext]);
}

function decrypt(
  blob: Buffer,
  keys: ReadonlyMap<string, LocalKey>,
  context?: Record<string, string>,
) {
  const idLength = blob[0] ?? 0;
  const keyId = blob.subarray(1, 1 + idLength).toString();
  const secret = keys.get(keyId)?.secret;
  if (secret === undefined) return undefined;
  const rest = blob.subarray(1 + idLength);
  try {
    const decipher = createDecipheriv('aes-256-gcm', secret, rest.subarray(0, 12));
    decipher.setAAD(aad(context));
    decipher.setAuthTag(rest.subarray(12, 28));
    return {
      keyId,
      plaintext: Buffer.concat([decipher.update(rest.subarray(28)), decipher.final()]),
    };
  } catch {
    return undefined;
  }
}

/**
 * A small KMS-compatible server (the awsJson1_1 protocol the SDK speaks) for the template's
 * keys, doing the real cryptography with local keys: GetPublicKey and Sign with an asymmetric
 * key (DER for ECDSA, as KMS does); GenerateDataKeyPairWithoutPlaintext and Decrypt with a
 * symmetric one (AES-256-GCM, the encryption context as AAD: a wrong context does not decrypt).
 */
export async function startKmsServer(
  declared: Readonly<Record<string, KmsKeySpec>>,
): Promise<KmsTestServer> {
  const keys = new Map<string, LocalKey>();
  for (const [keyId, spec] of Object.entries(declared)) {
    if (spec === 'SYMMETRIC_DEFAULT') keys.set(keyId, { spec, secret: randomBytes(32) });
    else
      keys.set(keyId, {
        spec,
        ...(SPECS[spec].generate() as { privateKey: KeyObject; publicKey: KeyObject }),
      });
  }
  const calls: { operation: string; keyId: string }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const operation = String(req.headers['x-amz-target'] ?? '').replace('TrentService.', '');
      // biome-ignore lint/suspicious/noExplicitAny: an awsJson request body.
      const input = JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, any>;
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      const fail = (type: string, message: string) => reply(400, { __type: type, message });
      const keyId = String(input.KeyId ?? '');
      calls.push({ operation, keyId });
      const key = keys.get(keyId);
      if (key === undefined) return fail('NotFoundException', `key ${keyId} not found`);
      const asymmetric = key.spec === 'SYMMETRIC_DEFAULT' ? undefined : SPECS[key.spec];
      const wrongUsage = () =>
        fail('InvalidKeyUsageException', `${operation} on a ${key.spec} key`);
      if (operation === 'GetPublicKey') {
        if (!asymmetric || !key.publicKey) return wrongUsage();
        return reply(200, {
          KeyId: keyId,
          KeySpec: key.spec,
          KeyUsage: 'SIGN_VERIFY',
          SigningAlgorithms: [asymmetric.algorithm],
          PublicKey: key.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
        });
      }
      if (operation === 'Sign') {
        if (!asymmetric || !key.privateKey) return wrongUsage();
        if (input.MessageType !== 'RAW' || input.SigningAlgorithm !== asymmetric.algorithm) {
          return fail('ValidationException', 'unexpected signing request');
        }
        const message = Buffer.from(input.Message ?? '', 'base64');
        return reply(200, {
          KeyId: keyId,
          SigningAlgorithm: asymmetric.algorithm,
          Signature: sign('sha256', message, key.privateKey).toString('base64'),
        });
      }
      if (operation === 'GenerateDataKeyPairWithoutPlaintext') {
        if (!key.secret) return wrongUsage();
        const pairSpec = input.KeyPairSpec as AsymmetricSpec;
        if (!(pairSpec in SPECS)) return fail('ValidationException', `KeyPairSpec ${pairSpec}`);
        const pair = SPECS[pairSpec].generate() as { privateKey: KeyObject; publicKey: KeyObject };
        const pkcs8 = pair.privateKey.export({ format: 'der', type: 'pkcs8' });
        return reply(200, {
          KeyId: keyId,
          KeyPairSpec: pairSpec,
          PublicKey: pair.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
          PrivateKeyCiphertextBlob: encrypt(
            keyId,
            key.secret,
            pkcs8,
            input.EncryptionContext,
          ).toString('base64'),
        });
      }
      if (operation === 'Decrypt') {
        if (!key.secret) return wrongUsage();
        const blob = Buffer.from(String(input.CiphertextBlob ?? ''), 'base64');
        const opened = decrypt(blob, keys, input.EncryptionContext);
        if (opened === undefined || opened.keyId !== keyId) {
          return fail('InvalidCiphertextException', 'the ciphertext does not decrypt');
        }
        return reply(200, {
          KeyId: keyId,
          EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
          Plaintext: opened.plaintext.toString('base64'),
        });
      }
      fail('UnsupportedOperationException', operation);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
