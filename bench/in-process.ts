/**
 * `tsx bench/in-process.ts [registrations]`: the registration hot path in process, in memory, with
 * no socket and no load generator: the router called directly with the request autocannon
 * sends, many times in a row. Prints µs per registration (the median of 5 rounds), a figure that
 * depends far less on the machine's load than requests over loopback do; run it under
 * `node --cpu-prof` (via tsx's loader) to see where the time goes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../lambdas/config.js';
import { systemClock } from '../lambdas/core/clock.js';
import type { HttpRequest } from '../lambdas/http/message.js';
import type { Router } from '../lambdas/http/router.js';
import { localRouter, memoryStores } from '../local/app.js';

process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
const ISSUER = 'http://127.0.0.1:3000';
const BODY = new TextEncoder().encode(
  JSON.stringify({
    client_name: 'bench agent',
    grant_types: ['client_credentials'],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
  }),
);
const REQUEST: HttpRequest = {
  method: 'POST',
  path: '/register',
  query: '',
  headers: { 'content-type': 'application/json', host: '127.0.0.1:3000' },
  body: BODY,
  sourceIp: '127.0.0.1',
};

/** The router of `npm start` in memory mode, without its server. */
export function inProcessRouter(dataDir: string): Router {
  const config = loadConfig({ DCR_DATA_DIR: dataDir, DCR_ISSUER: ISSUER, DCR_AUDIT_LOG: 'off' });
  return localRouter(config, memoryStores(systemClock), systemClock, () => ISSUER);
}

/** µs per registration: the median of 5 rounds of `count`. */
export async function registrationMicros(router: Router, count: number): Promise<number> {
  const rounds: number[] = [];
  for (let round = 0; round < 5; round++) {
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      const response = await router(REQUEST, ISSUER);
      if (response.status !== 201) throw new Error(`registration answered ${response.status}`);
    }
    rounds.push(((performance.now() - started) * 1000) / count);
  }
  return rounds.sort((a, b) => a - b)[2] as number;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = mkdtempSync(join(tmpdir(), 'dcr-in-process-'));
  try {
    const router = inProcessRouter(dir);
    await registrationMicros(router, 2000); // warm-up
    const micros = await registrationMicros(router, Number(process.argv[2] ?? 10_000));
    console.log(`registration in process (memory): ${micros.toFixed(1)} µs each`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
