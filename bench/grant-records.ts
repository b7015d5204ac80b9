/**
 * What our authorization endpoint would have stored for the grant benchmarks: the seeded codes
 * and refresh token families of bench/grant-seeds.ts as records of a GrantStore, for the server
 * over HTTP (serve.ts) and in process (in-process-tokens.ts) alike.
 */
import { hashSecret, newTokenId } from '../lambdas/core/secrets.js';
import type { GrantStore } from '../lambdas/core/tokens/ports.js';
import {
  BENCH_CHALLENGE,
  BENCH_REDIRECT_URI,
  BENCH_RESOURCE,
  BENCH_SCOPE,
  BENCH_USER,
  benchCode,
  benchFamily,
} from './grant-seeds.js';

/** The public client of the grant benchmarks, as an MCP client registers itself. */
export const PUBLIC_CLIENT = {
  client_name: 'bench mcp client',
  application_type: 'native',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  redirect_uris: [BENCH_REDIRECT_URI],
  token_endpoint_auth_method: 'none',
  scope: BENCH_SCOPE,
};

export const REFRESH_LIFETIME = 30 * 24 * 3600;
export const REFRESH_IDLE_LIFETIME = 7 * 24 * 3600;

/** The i-th code, bound to `clientId`, issued at `now`. */
export function seedCode(grants: GrantStore, i: number, clientId: string, now: number) {
  return grants.putCode({
    codeHash: hashSecret(benchCode(i)),
    clientId,
    redirectUri: BENCH_REDIRECT_URI,
    codeChallenge: BENCH_CHALLENGE,
    resources: [BENCH_RESOURCE],
    scope: BENCH_SCOPE,
    sub: BENCH_USER,
    authTime: now,
    grantId: newTokenId(),
    issuedAt: now,
    // Codes live 60 s in service; these must outlast the whole run.
    expiresAt: now + 3600,
  });
}

/** The j-th refresh token family of `clientId`, as its code exchange left it at `now`. */
export async function seedFamily(grants: GrantStore, j: number, clientId: string, now: number) {
  const { grantId, secret } = benchFamily(j);
  const created = await grants.createGrant(
    {
      grantId,
      clientId,
      sub: BENCH_USER,
      scope: BENCH_SCOPE,
      resources: [BENCH_RESOURCE],
      authTime: now,
      createdAt: now,
      absoluteExpiresAt: now + REFRESH_LIFETIME,
      lastUsedAt: now,
      generation: 1,
      currentHash: hashSecret(secret),
      previousHashes: [],
    },
    now + REFRESH_IDLE_LIFETIME,
  );
  if (!created) throw new Error('refresh family collision');
}
