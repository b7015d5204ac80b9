/**
 * `tsx bench/in-process.ts [registrations]`: the registration hot path in process, in memory, with
 * no socket and no load generator: the router called directly with the request autocannon
 * sends, many times in a row. Prints µs per registration, wall and CPU (`process.cpuUsage`),
 * each the median of 5 rounds: figures that depend far less on the machine's load than requests
 * over loopback do; run it under `node --cpu-prof` (via tsx's loader) to see where the time goes.
 *
 * `tsx bench/in-process.ts http [seconds]`: the same registrations over HTTP, ours in memory
 * against oidc-provider, each server pinned to core 0 and autocannon (10 connections) on core 1,
 * measured in alternating turns: req/s and the server process's CPU µs per request (from
 * /proc), which a shared machine distorts less than req/s.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { loadConfig } from '../lambdas/config.js';
import { systemClock } from '../lambdas/core/clock.js';
import type { HttpRequest } from '../lambdas/http/message.js';
import type { Router } from '../lambdas/http/router.js';
import { localRouter, memoryStores } from '../local/app.js';
import { choosePinning } from './pinning.js';
import { serveCommand } from './serve-command.js';

process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
const ISSUER = 'http://127.0.0.1:3000';
const BODY_TEXT = JSON.stringify({
  client_name: 'bench agent',
  grant_types: ['client_credentials'],
  response_types: [],
  token_endpoint_auth_method: 'client_secret_basic',
});
const BODY = new TextEncoder().encode(BODY_TEXT);
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

/** Registrations per turn of the event loop, as 10 connections bring them. */
const TURN = 10;

const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1] as number;

/** µs per registration, wall and CPU: the medians of 5 rounds of `count`. */
export async function registrationCost(
  router: Router,
  count: number,
): Promise<{ wall: number; cpu: number }> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let round = 0; round < 5; round++) {
    const started = performance.now();
    const startedCpu = process.cpuUsage();
    for (let i = 1; i <= count; i++) {
      const response = await router(REQUEST, ISSUER);
      if (response.status !== 201) throw new Error(`registration answered ${response.status}`);
      // A turn of the event loop every TURN registrations, as a server with TURN connections
      // gets: what runs after the request path (the statistics' batches) is counted too.
      if (i % TURN === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const usedCpu = process.cpuUsage(startedCpu);
    wall.push(((performance.now() - started) * 1000) / count);
    cpu.push((usedCpu.user + usedCpu.system) / count);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

interface Server {
  readonly url: string;
  readonly child: ChildProcess;
}

/** A bench/serve.ts target in its own node process (bundled, as `npm run bench` runs it). */
async function startServer(kind: string, pinning: ReturnType<typeof choosePinning>) {
  const { command, args } = serveCommand(pinning, kind);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  for await (const line of lines) {
    if (line.startsWith('READY ')) {
      const issuer = line.slice(6).split(' ')[0] as string;
      return { url: `${issuer}${kind === 'oidc-provider' ? '/reg' : '/register'}`, child };
    }
  }
  throw new Error(`${kind} did not start`);
}

/** The process's user + system CPU so far, in µs (/proc/<pid>/stat, clock ticks of 10 ms). */
function processCpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** One turn of `seconds`: req/s and the server's CPU µs per request. */
async function turn(server: Server, seconds: number) {
  const pid = server.child.pid as number;
  const cpuBefore = processCpuMicros(pid);
  const result = await autocannon({
    url: server.url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: BODY_TEXT,
    connections: 10,
    duration: seconds,
  });
  const requests = result.requests.total;
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${server.url}: failed requests`);
  return {
    rps: requests / seconds,
    cpu: (processCpuMicros(pid) - cpuBefore) / requests,
  };
}

/** Ours and oidc-provider in alternating turns (3 each), pinned where the machine allows. */
async function overHttp(seconds: number) {
  const pinning = choosePinning(true);
  console.log(pinning.description);
  const servers = {
    ours: await startServer('ours-memory', pinning),
    'oidc-provider': await startServer('oidc-provider', pinning),
  };
  try {
    const figures: Record<string, { rps: number[]; cpu: number[] }> = {};
    for (const [name, server] of Object.entries(servers)) {
      await turn(server, 1); // warm-up
      figures[name] = { rps: [], cpu: [] };
    }
    for (let round = 0; round < 3; round++) {
      const order = round % 2 === 0 ? Object.keys(servers) : Object.keys(servers).reverse();
      for (const name of order) {
        const { rps, cpu } = await turn(servers[name as keyof typeof servers], seconds);
        figures[name]?.rps.push(rps);
        figures[name]?.cpu.push(cpu);
      }
    }
    for (const [name, { rps, cpu }] of Object.entries(figures)) {
      console.log(
        `${name.padEnd(13)} register: ${median([...rps]).toFixed(0)} req/s (turns ${rps.map((r) => r.toFixed(0)).join(', ')}), ${median(cpu).toFixed(0)} µs CPU per request`,
      );
    }
    const ratio = (pick: (f: { rps: number[]; cpu: number[] }) => number) =>
      pick(figures.ours as never) / pick(figures['oidc-provider'] as never);
    console.log(
      `ratio: ${ratio((f) => median([...f.rps])).toFixed(2)}× req/s, ${(1 / ratio((f) => median([...f.cpu]))).toFixed(2)}× by CPU per request`,
    );
  } finally {
    for (const { child } of Object.values(servers)) child.kill('SIGTERM');
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv[2] === 'http') {
    await overHttp(Number(process.argv[3] ?? 3));
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'dcr-in-process-'));
    try {
      const router = inProcessRouter(dir);
      await registrationCost(router, 2000); // warm-up
      const { wall, cpu } = await registrationCost(router, Number(process.argv[2] ?? 10_000));
      console.log(
        `registration in process (memory): ${wall.toFixed(1)} µs each, ${cpu.toFixed(1)} µs CPU`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
