import type { KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { PublishedKey } from '../../core/signing/ports.js';

/** A public key as the JWKS publishes it, with its RFC 7638 thumbprint as a stable kid. */
export async function publishedKey(
  publicKey: KeyObject,
  alg: PublishedKey['alg'],
): Promise<PublishedKey> {
  const jwk = publicKey.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  return { kid, alg, jwk: { ...jwk, kid, alg, use: 'sig' } };
}
