/**
 * `tsx bench/in-process-tokens.ts [requests] [path ...]`: the token hot paths in process, in
 * memory, with no socket and no load generator: the router of `npm start` (memory mode) called
 * directly with the requests `npm run bench` sends (tokens, grants), many times in a row. Prints
 * µs per request, wall and CPU (`process.cpuUsage`), each the median of 5 rounds, for ES256 and
 * RS256. Paths: client_credentials, introspect, code, refresh (default: all); BENCH_ALG=ES256 or
 * RS256 runs one algorithm. Run it under `node --cpu-prof --import tsx` to see where the time
 * goes (bench/profile-summary.ts summarises the profile).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MemoryGrantStore } from '../lambdas/adapters/memory/memory-grant-store.js';
import { loadConfig } from '../lambdas/config.js';
import { systemClock } from '../lambdas/core/clock.js';
import type { GrantStore } from '../lambdas/core/tokens/ports.js';
import type { HttpRequest } from '../lambdas/http/message.js';
import type { Router } from '../lambdas/http/router.js';
import { localRouter, memoryStores } from '../local/app.js';
import { PUBLIC_CLIENT, seedCode, seedFamily } from './grant-records.js';
import {
  BENCH_REDIRECT_URI,
  BENCH_RESOURCE,
  BENCH_SCOPE,
  BENCH_VERIFIER,
  benchCode,
  benchFamily,
} from './grant-seeds.js';

process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
const ISSUER = 'http://127.0.0.1:3000';
const ROUNDS = 5;
const FORM = 'application/x-www-form-urlencoded';
const encode = (text: string) => new TextEncoder().encode(text);
const form = (params: Record<string, string>) => encode(new URLSearchParams(params).toString());

const post = (
  path: string,
  body: Uint8Array,
  headers: Record<string, string> = {},
): HttpRequest => ({
  method: 'POST',
  path,
  query: '',
  headers: { 'content-type': FORM, host: '127.0.0.1:3000', ...headers },
  body,
  sourceIp: '127.0.0.1',
});

interface Bench {
  readonly router: Router;
  /** The public client of the grant benchmarks, as an MCP client registers itself. */
  readonly publicClientId: string;
  /** A confidential client_credentials client's Basic header. */
  readonly basic: string;
  readonly grants: GrantStore;
}

async function call(router: Router, request: HttpRequest) {
  const response = await router(request, ISSUER);
  if (response.status < 200 || response.status > 299) {
    throw new Error(`${request.path} answered ${response.status}: ${response.body}`);
  }
  return response;
}

async function setUp(alg: 'ES256' | 'RS256', dataDir: string): Promise<Bench> {
  const config = loadConfig({
    DCR_DATA_DIR: dataDir,
    DCR_ISSUER: ISSUER,
    DCR_AUDIT_LOG: 'off',
    DCR_SIGNING_ALG: alg,
    DCR_DEFAULT_AUDIENCE: BENCH_RESOURCE,
    DCR_RESOURCES: BENCH_RESOURCE,
    DCR_ALLOWED_SCOPES: BENCH_SCOPE,
  });
  const grants = new MemoryGrantStore();
  const router = localRouter(
    config,
    memoryStores(systemClock, undefined, grants),
    systemClock,
    () => ISSUER,
  );
  const register = async (metadata: object) => {
    const request = { ...post('/register', encode(JSON.stringify(metadata))) };
    const headers = { ...request.headers, 'content-type': 'application/json' };
    const response = await call(router, { ...request, headers });
    return JSON.parse(response.body as string) as { client_id: string; client_secret?: string };
  };
  const confidential = await register({
    client_name: 'bench agent',
    grant_types: ['client_credentials'],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
  });
  const basic = `Basic ${Buffer.from(`${confidential.client_id}:${confidential.client_secret}`).toString('base64')}`;
  const publicClient = await register(PUBLIC_CLIENT);
  return { router, publicClientId: publicClient.client_id, basic, grants };
}

/** A path's next request: each call makes the request for the next iteration. */
type Path = (bench: Bench, count: number) => Promise<(i: number) => Promise<void>>;

const PATHS: Record<string, Path> = {
  client_credentials: async ({ router, basic }) => {
    const request = post('/token', form({ grant_type: 'client_credentials' }), {
      authorization: basic,
    });
    return async () => {
      await call(router, request);
    };
  },
  introspect: async ({ router, basic }) => {
    const issued = await call(
      router,
      post('/token', form({ grant_type: 'client_credentials' }), { authorization: basic }),
    );
    const token = (JSON.parse(issued.body as string) as { access_token: string }).access_token;
    const request = post('/introspect', form({ token }), { authorization: basic });
    return async () => {
      const response = await call(router, request);
      if (!(response.body as string).includes('"active":true')) throw new Error('inactive');
    };
  },
  code: async (bench, count) => {
    let next = codesSeeded;
    const now = Math.floor(Date.now() / 1000);
    for (let i = next; i < next + count; i++)
      await seedCode(bench.grants, i, bench.publicClientId, now);
    codesSeeded += count;
    return async () => {
      const request = post(
        '/token',
        form({
          grant_type: 'authorization_code',
          code: benchCode(next++),
          code_verifier: BENCH_VERIFIER,
          redirect_uri: BENCH_REDIRECT_URI,
          resource: BENCH_RESOURCE,
          client_id: bench.publicClientId,
        }),
      );
      await call(bench.router, request);
    };
  },
  refresh: async (bench) => {
    // One family followed from token to token, as one connection of the HTTP benchmark does.
    const family = familiesSeeded++;
    await seedFamily(bench.grants, family, bench.publicClientId, Math.floor(Date.now() / 1000));
    let { refreshToken } = benchFamily(family);
    return async () => {
      const request = post(
        '/token',
        form({
          grant_type: 'refresh_token',
          refresh_token: refreshToken,
          resource: BENCH_RESOURCE,
          client_id: bench.publicClientId,
        }),
      );
      const response = await call(bench.router, request);
      refreshToken = (JSON.parse(response.body as string) as { refresh_token: string })
        .refresh_token;
    };
  },
};
let codesSeeded = 0;
let familiesSeeded = 0;

export interface Figures {
  /** µs of wall time per request, the median round. */
  readonly wall: number;
  /** µs of this process's CPU time (user + system) per request, the median round. */
  readonly cpu: number;
}

const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1] as number;

/** µs per request of `path`: the median of 5 rounds of `count`. */
export async function pathMicros(bench: Bench, path: string, count: number): Promise<Figures> {
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const next = await (PATHS[path] as Path)(bench, count);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    for (let i = 0; i < count; i++) await next(i);
    const cpu = process.cpuUsage(cpuBefore);
    walls.push(((performance.now() - started) * 1000) / count);
    cpus.push((cpu.user + cpu.system) / count);
  }
  return { wall: median(walls), cpu: median(cpus) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const count = Number(process.argv[2] ?? 2000);
  const paths = process.argv.length > 3 ? process.argv.slice(3) : Object.keys(PATHS);
  const algs = process.env.BENCH_ALG ? [process.env.BENCH_ALG] : ['ES256', 'RS256'];
  for (const alg of algs as ('ES256' | 'RS256')[]) {
    const dir = mkdtempSync(join(tmpdir(), 'dcr-in-process-tokens-'));
    try {
      const bench = await setUp(alg, dir);
      for (const path of paths) {
        if (!(path in PATHS)) throw new Error(`unknown path ${path}`);
        await pathMicros(bench, path, Math.max(200, count >> 3)); // warm-up
        const { wall, cpu } = await pathMicros(bench, path, count);
        console.log(
          `${alg} ${path.padEnd(18)} ${wall.toFixed(1).padStart(7)} µs wall ${cpu.toFixed(1).padStart(7)} µs CPU`,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
