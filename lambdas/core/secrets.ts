import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 bits of randomness, base64url: client secrets and registration access tokens. */
export const newSecret = (): string => randomBytes(32).toString('base64url');

/** 128 bits: client identifiers are public, but must never be guessable or collide. */
export const newClientId = (): string => randomBytes(16).toString('base64url');

/**
 * Secrets carry 256 bits of entropy, so a fast hash is enough (no dictionary to attack); only
 * the hash is stored.
 */
export const hashSecret = (secret: string): string =>
  createHash('sha256').update(secret, 'utf8').digest('base64url');

/** Constant-time comparison of a presented secret with a stored hash. */
export const secretMatches = (presented: string, storedHash: string): boolean => {
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = Buffer.from(storedHash, 'base64url');
  return a.length === b.length && timingSafeEqual(a, b);
};
