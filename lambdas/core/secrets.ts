import { hash, randomFillSync, timingSafeEqual } from 'node:crypto';

/**
 * Random bytes from the CSPRNG, drawn in 4 KiB batches: one system call serves a hundred
 * registrations. Each byte is handed out once.
 */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function randomBase64url(bytes: number): string {
  if (poolOffset + bytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const value = pool.toString('base64url', poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return value;
}

/** 256 bits of randomness, base64url: client secrets and registration access tokens. */
export const newSecret = (): string => randomBase64url(32);

/**
 * 128 bits: client identifiers are public, but must never be guessable or collide. Never with a
 * leading `-`, which command lines (dcr-admin, curl, shell tools) take for an option.
 */
export function newClientId(): string {
  let id = randomBase64url(16);
  while (id.startsWith('-')) id = randomBase64url(16);
  return id;
}

/** 128 bits: a token's `jti`, unique per token. */
export const newTokenId = (): string => randomBase64url(16);

/**
 * Secrets carry 256 bits of entropy, so a fast hash is enough (no dictionary to attack); only
 * the hash is stored.
 */
export const hashSecret = (secret: string): string => hash('sha256', secret, 'base64url');

/** Constant-time comparison of a presented secret with a stored hash. */
export const secretMatches = (presented: string, storedHash: string): boolean => {
  const a = hash('sha256', presented, 'buffer');
  const b = Buffer.from(storedHash, 'base64url');
  return a.length === b.length && timingSafeEqual(a, b);
};
