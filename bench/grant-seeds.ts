/**
 * The deterministic credentials of the grant benchmarks (`npm run bench -- grants`): serve.ts
 * seeds them into either server before READY, and run.ts recomputes them, so no pipe or file
 * carries them. Importing this module has no side effect.
 */
import { createHash } from 'node:crypto';

/** The audience (RFC 8707 resource) both servers put in their access tokens. */
export const BENCH_RESOURCE = 'https://api.example.com/';
/** The one redirect URI every seeded code is bound to (a native client's loopback). */
export const BENCH_REDIRECT_URI = 'http://127.0.0.1:8765/callback';
export const BENCH_SCOPE = 'read';
/** The user the seeded grants were made by. */
export const BENCH_USER = 'bench-user';
/** oidc-provider's statically configured public client (ours registers one over HTTP). */
export const BENCH_PUBLIC_CLIENT_ID = 'bench-public';
/** PKCE: every seeded code carries the S256 challenge of this verifier (RFC 7636 §4.1). */
export const BENCH_VERIFIER = 'bench-verifier-0123456789-abcdefghijklmnopqrstuvwxyz';
export const BENCH_CHALLENGE = createHash('sha256').update(BENCH_VERIFIER).digest('base64url');
/** Refresh token families seeded: one per connection of each run, never shared. */
export const BENCH_FAMILIES = 4096;

/** The i-th authorization code. */
export const benchCode = (i: number) => `bench-code-${i}`;

const digest = (input: string) => createHash('sha256').update(input).digest('base64url');

/**
 * The j-th refresh token family: its grant id (22 characters) and the secret of its first
 * refresh token (43 characters), whose value is `<grantId>.<secret>` on both servers.
 */
export const benchFamily = (j: number) => {
  const grantId = digest(`g${j}`).slice(0, 22);
  const secret = digest(`s${j}`);
  return { grantId, secret, refreshToken: `${grantId}.${secret}` };
};
