import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface KmsTestServer {
  readonly endpoint: string;
  /** Sign and GetPublicKey calls received. */
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

/**
 * A small KMS-compatible server (the awsJson1_1 protocol the SDK speaks) for one asymmetric key:
 * GetPublicKey and Sign, signing for real with a local key, DER for ECDSA as KMS does.
 */
export async function startKmsServer(
  keyId: string,
  keySpec: keyof typeof SPECS,
): Promise<KmsTestServer> {
  const spec = SPECS[keySpec];
  const { privateKey, publicKey } = spec.generate() as {
    privateKey: KeyObject;
    publicKey: KeyObject;
  };
  const calls: { operation: string; keyId: string }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const operation = String(req.headers['x-amz-target'] ?? '').replace('TrentService.', '');
      const input = JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, string>;
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      calls.push({ operation, keyId: input.KeyId ?? '' });
      if (input.KeyId !== keyId) {
        return reply(400, { __type: 'NotFoundException', message: `key ${input.KeyId} not found` });
      }
      if (operation === 'GetPublicKey') {
        return reply(200, {
          KeyId: keyId,
          KeySpec: keySpec,
          KeyUsage: 'SIGN_VERIFY',
          SigningAlgorithms: [spec.algorithm],
          PublicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
        });
      }
      if (operation === 'Sign') {
        if (input.MessageType !== 'RAW' || input.SigningAlgorithm !== spec.algorithm) {
          return reply(400, {
            __type: 'ValidationException',
            message: 'unexpected signing request',
          });
        }
        const message = Buffer.from(input.Message ?? '', 'base64');
        return reply(200, {
          KeyId: keyId,
          SigningAlgorithm: spec.algorithm,
          Signature: sign('sha256', message, privateKey).toString('base64'),
        });
      }
      reply(400, { __type: 'UnsupportedOperationException', message: operation });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
