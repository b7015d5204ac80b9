/**
 * `npm run bench [registration|tokens|bundles|cleanup|stats ...]`: throughput and latency on
 * loopback, the Lambda bundles' sizes and cold import times, the cleanup's and the statistics'
 * cost, printed as figures (never asserted). Each server runs in a child process; autocannon
 * drives it from here.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import autocannon from 'autocannon';
import {
  lambdaRuntimeEnv,
  stackFunctions,
  synthesizeStack,
} from '../test/support/synthesized-stack.js';
import { cleanupBench } from './cleanup.js';
import { statsBench } from './stats.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const DURATION = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = [10, 50];
const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
const serveScript = fileURLToPath(new URL('./serve.ts', import.meta.url));
// Kept in step with serve.ts (not imported: importing it would start a server here).
const REFERENCE_CLIENT = { id: 'bench', secret: 'bench-secret-with-enough-length-0123456789' };

const JSON_HEADERS = { 'content-type': 'application/json' };
const FORM = 'application/x-www-form-urlencoded';
const REGISTRATION = JSON.stringify({
  client_name: 'bench agent',
  grant_types: ['client_credentials'],
  response_types: [],
  token_endpoint_auth_method: 'client_secret_basic',
});

interface Target {
  readonly issuer: string;
  readonly child: ChildProcess;
}

async function startTarget(kind: string, env: Record<string, string> = {}): Promise<Target> {
  const child = spawn(tsx, [serveScript, kind], {
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, ...env },
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  for await (const line of lines) {
    if (line.startsWith('READY ')) return { issuer: line.slice(6), child };
  }
  throw new Error(`${kind} did not start`);
}

function stopTarget(target: Target): Promise<void> {
  return new Promise((resolve) => {
    target.child.once('exit', () => resolve());
    target.child.kill('SIGTERM');
  });
}

async function withTarget(
  kind: string,
  env: Record<string, string>,
  run: (t: Target) => Promise<void>,
) {
  const target = await startTarget(kind, env);
  try {
    await run(target);
  } finally {
    await stopTarget(target);
  }
}

interface Figures {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly failed: number;
}

const rows: { what: string; connections: number; figures: Figures }[] = [];

/** Warms up for a second, then measures at each connection count. */
async function measure(what: string, options: autocannon.Options) {
  await autocannon({ ...options, duration: 1, connections: 10 });
  for (const connections of CONNECTIONS) {
    const result = await autocannon({ ...options, duration: DURATION, connections });
    const figures = {
      rps: Math.round(result.requests.average),
      p50: result.latency.p50,
      p99: result.latency.p99,
      failed: result.non2xx + result.errors,
    };
    rows.push({ what, connections, figures });
    console.error(
      `  ${what} @${connections}: ${figures.rps} req/s, p50 ${figures.p50} ms, p99 ${figures.p99} ms`,
    );
  }
}

/** req/s of a measurement; NaN when any request failed, so no ratio is claimed from it. */
const rate = (what: string, connections: number) => {
  const figures = rows.find((r) => r.what === what && r.connections === connections)?.figures;
  return figures && figures.failed === 0 ? figures.rps : Number.NaN;
};

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function registerClient(issuer: string) {
  const response = await fetch(`${issuer}/register`, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: REGISTRATION,
  });
  return (await response.json()) as { client_id: string; client_secret: string };
}

const summaries: string[] = [];
const compare = (label: string, ours: string, reference: string, target: number) => {
  for (const connections of CONNECTIONS) {
    const ratio = rate(ours, connections) / rate(reference, connections);
    summaries.push(
      Number.isNaN(ratio)
        ? `${label} @${connections}: no ratio (a run had failed requests)`
        : `${label} @${connections}: ${ratio.toFixed(2)}x oidc-provider (target >= ${target}x) ${ratio >= target ? 'met' : 'NOT met'}`,
    );
  }
};

async function registrationBench() {
  for (const kind of ['ours-memory', 'ours-embedded', 'oidc-provider']) {
    await withTarget(kind, {}, async ({ issuer }) => {
      const path = kind === 'oidc-provider' ? '/reg' : '/register';
      await measure(`${kind} register`, {
        url: `${issuer}${path}`,
        method: 'POST',
        headers: JSON_HEADERS,
        body: REGISTRATION,
      });
      await measure(`${kind} discovery`, {
        url: `${issuer}/.well-known/oauth-authorization-server`,
      });
    });
  }
  compare('registration, in-memory', 'ours-memory register', 'oidc-provider register', 2);
}

async function tokenBench() {
  for (const alg of ['ES256', 'RS256']) {
    await withTarget('ours-memory', { BENCH_ALG: alg }, async ({ issuer }) => {
      const client = await registerClient(issuer);
      const authorization = basic(client.client_id, client.client_secret);
      await measure(`ours-memory token ${alg}`, {
        url: `${issuer}/token`,
        method: 'POST',
        headers: { 'content-type': FORM, authorization },
        body: 'grant_type=client_credentials',
      });
      const token = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': FORM, authorization },
        body: 'grant_type=client_credentials',
      }).then((r) => r.json() as Promise<{ access_token: string }>);
      await measure(`ours-memory introspect ${alg}`, {
        url: `${issuer}/introspect`,
        method: 'POST',
        headers: { 'content-type': FORM, authorization },
        body: `token=${token.access_token}`,
      });
    });
    await withTarget('oidc-provider', { BENCH_ALG: alg }, async ({ issuer }) => {
      await measure(`oidc-provider token ${alg}`, {
        url: `${issuer}/token`,
        method: 'POST',
        headers: {
          'content-type': FORM,
          authorization: basic(REFERENCE_CLIENT.id, REFERENCE_CLIENT.secret),
        },
        body: 'grant_type=client_credentials',
      });
    });
  }
  compare('tokens ES256, in-memory', 'ours-memory token ES256', 'oidc-provider token ES256', 1.5);
  compare('tokens RS256, in-memory', 'ours-memory token RS256', 'oidc-provider token RS256', 1.2);
}

/** Each function's bundle: minified and gzipped size, and its cold import time (median of 5). */
async function bundleBench() {
  const dir = mkdtempSync(join(tmpdir(), 'dcr-bench-stack-'));
  try {
    synthesizeStack(join(dir, 'cdk.out'));
    const loader = fileURLToPath(new URL('../test/support/load-bundle.mjs', import.meta.url));
    const env = lambdaRuntimeEnv({ dynamodb: 'http://127.0.0.1:9', kms: 'http://127.0.0.1:9' });
    const lines = [['function', 'minified KB', 'gzip KB', 'import ms (median)', 'network at init']];
    for (const fn of stackFunctions(join(dir, 'cdk.out'))) {
      const code = readFileSync(fn.bundle);
      const runs = Array.from({ length: 5 }, () =>
        JSON.parse(
          execFileSync(process.execPath, [loader, pathToFileURL(fn.bundle).href], {
            env: { PATH: process.env.PATH, ...env, ...fn.environment },
            encoding: 'utf8',
          })
            .trim()
            .split('\n')
            .at(-1) as string,
        ),
      );
      const median = runs.map((r) => r.importMs as number).sort((a, b) => a - b)[2] as number;
      lines.push([
        fn.logicalId.replace(/Function[0-9A-F]{8}$/, ''),
        (code.length / 1024).toFixed(0),
        (gzipSync(code).length / 1024).toFixed(0),
        median.toFixed(0),
        runs.some((r) => r.attempts.length > 0) ? 'YES' : 'none',
      ]);
    }
    const widths = (lines[0] as string[]).map((_, i) =>
      Math.max(...lines.map((l) => (l[i] as string).length)),
    );
    for (const l of lines)
      bundleLines.push(l.map((c, i) => c.padEnd(widths[i] as number)).join('  '));
    bundleLines.push(
      'targets: <= 700 KB minified, <= 200 KB gzipped, import <= 200 ms, no network at init',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Lines printed after the request table: bundle, cleanup and statistics figures. */
const bundleLines: string[] = [];

const BENCHES: Record<string, () => Promise<void>> = {
  registration: registrationBench,
  tokens: tokenBench,
  bundles: bundleBench,
  cleanup: async () => {
    bundleLines.push(...(await cleanupBench()));
  },
  stats: async () => {
    bundleLines.push(...(await statsBench()));
  },
};
const selected = process.argv.slice(2).filter((name) => name in BENCHES);
console.error(`benchmark: ${DURATION} s per figure, loopback only`);
for (const name of selected.length > 0 ? selected : Object.keys(BENCHES)) {
  await (BENCHES[name] as () => Promise<void>)();
}

const header = ['target / endpoint', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx'];
const table = rows.map((r) => [
  r.what,
  String(r.connections),
  String(r.figures.rps),
  String(r.figures.p50),
  String(r.figures.p99),
  String(r.figures.failed),
]);
const widths = header.map((h, i) =>
  Math.max(h.length, ...table.map((r) => (r[i] as string).length)),
);
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
if (table.length > 0) {
  console.log(line(header));
  for (const row of table) console.log(line(row));
}
for (const summary of summaries) console.log(summary);
for (const line of bundleLines) console.log(line);
