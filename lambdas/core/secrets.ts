import { hash, randomFillSync, timingSafeEqual } from 'node:crypto';

/**
 * Random bytes from the CSPRNG, drawn in 4 KiB batches: one system call serves a hundred
 * registrations. Each byte is handed out once.
 */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

/** The offset of `bytes` fresh bytes in the pool, refilled when it runs short. */
function draw(bytes: number): number {
  if (poolOffset + bytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const start = poolOffset;
  poolOffset += bytes;
  return start;
}

function randomBase64url(bytes: number): string {
  const start = draw(bytes);
  return pool.toString('base64url', start, start + bytes);
}

/** Fresh random bytes (nonces, IVs), copied out of the pool. */
export function randomBytesFromPool(bytes: number): Buffer {
  const start = draw(bytes);
  return Buffer.from(pool.subarray(start, start + bytes));
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
export const secretMatches = (presented: string, storedHash: string): boolean =>
  hashesMatch(hash('sha256', presented, 'buffer'), storedHash);

/**
 * Constant-time comparison of a secret's hash, already computed (`hashSecret`), with a stored
 * one: where the same presented secret is also looked up by its hash, it is hashed once.
 */
export const hashMatches = (presentedHash: string, storedHash: string): boolean =>
  hashesMatch(Buffer.from(presentedHash, 'base64url'), storedHash);

const hashesMatch = (presented: Buffer, storedHash: string): boolean => {
  const stored = Buffer.from(storedHash, 'base64url');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
};
