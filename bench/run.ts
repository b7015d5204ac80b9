/**
 * `npm run bench [registration|discovery|tokens|grants|bundles|cleanup|stats|aws|dashboard|signing ...]`: throughput and
 * latency on loopback, the Lambda bundles' sizes and cold import times, the cleanup's and the
 * statistics' cost, printed as figures (never asserted). Each server runs in a child process;
 * autocannon drives it from here.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import autocannon from 'autocannon';
import { synthesizeStack } from '../test/support/synthesize.js';
import { lambdaRuntimeEnv, stackFunctions } from '../test/support/synthesized-stack.js';
import { cleanupBench } from './cleanup.js';
import { costLines } from './cost-model.js';
import { dashboardBench } from './dashboard.js';
import {
  BENCH_FAMILIES,
  BENCH_REDIRECT_URI,
  BENCH_RESOURCE,
  BENCH_VERIFIER,
  benchCode,
  benchFamily,
} from './grant-seeds.js';
import { kitBench } from './kit.js';
import { choosePinning, pinnedCommand } from './pinning.js';
import { regressionCheck } from './regression.js';
import { serveCommand } from './serve-command.js';
import { signingBench } from './signing.js';
import { statementRegistration, verificationBench } from './software-statements.js';
import { statsBench } from './stats.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const DURATION = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = [10, 50];
/** Servers on one core, the load generator on another (bench/pinning.ts). */
const pinning = choosePinning(process.env.BENCH_PIN !== 'off');
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
  /** The seeded public client (grant benchmarks only). */
  readonly clientId?: string;
  readonly child: ChildProcess;
  /** The process that serves, whose CPU time `cpuSeconds` reads. */
  readonly pid?: number;
}

/** Linux's clock ticks per second, in which /proc/<pid>/stat counts CPU time. */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system, every thread) a process has used so far; undefined off Linux. */
function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

async function startTarget(kind: string, env: Record<string, string> = {}): Promise<Target> {
  const { command, args } = serveCommand(pinning, kind);
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, ...env },
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  let pid: number | undefined;
  for await (const line of lines) {
    if (line.startsWith('PID ')) pid = Number(line.slice(4));
    if (line.startsWith('READY ')) {
      const [issuer, clientId] = line.slice(6).split(' ') as [string, string | undefined];
      return {
        issuer,
        child,
        ...(clientId !== undefined && { clientId }),
        ...(pid !== undefined && { pid }),
      };
    }
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
  /** The server's CPU time per request, µs (measured in turns only): its cost on one core. */
  readonly cpuMicros?: number;
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
/**
 * What bounds the token targets, as measured on this machine (bench/README.md, "The token
 * request's budget beyond node:http" and "What bounds the targets"): printed beside the figures
 * whenever a target is not met, so that the report says why and not only that.
 */
const BOUNDS = [
  'What bounds the token targets not met (measured on one pinned core; bench/README.md, "The token request\'s budget beyond node:http" and "What bounds the targets"):',
  '- client_credentials ES256 ≥ 3× allows ~150 µs of CPU a token. node:http alone answering a token-sized POST takes ~35 µs, the local server ~15–20 µs more, the P-256 signature ~35–55 µs and its hand-off to the thread pool ~40 µs (signing inline measured no better over HTTP, on a quiet core or a shared one): ~125–150 µs before any token logic, which is ~22 µs in process.',
  '- RS256 ≥ 1.5× (client_credentials, code exchange, refresh) allows ~770–840 µs a token, of which the RSA-2048 signature alone is ~690 µs (`openssl speed rsa2048`: 1,472 signatures/s on this core), leaving ~80–150 µs for everything else, which node:http, the local server and the hand-off (~100–120 µs together) already take. A server costing nothing but the signature would stop at ~1.7–1.8×.',
].join('\n');
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
    });
  }
  // Abuse control: the same registrations with the rate limit on (a limit never reached): one
  // more UpdateItem per registration on the embedded store.
  await withTarget('ours-embedded', { BENCH_RATE_LIMIT: '999999999/86400' }, async ({ issuer }) => {
    await measure('ours-embedded register, rate limit on', {
      url: `${issuer}/register`,
      method: 'POST',
      headers: JSON_HEADERS,
      body: REGISTRATION,
    });
  });
  compare('registration, in-memory', 'ours-memory register', 'oidc-provider register', 3);
  // With an initial access token: one consistent read and one conditional update more.
  const adminToken = 'bench-admin-token-0123456789-abcdefghijklmnop';
  for (const kind of ['ours-memory', 'ours-embedded']) {
    await withTarget(kind, { BENCH_ADMIN_TOKEN: adminToken }, async ({ issuer }) => {
      const created = await fetch(`${issuer}/admin/initial-access-tokens`, {
        method: 'POST',
        headers: { ...JSON_HEADERS, authorization: `Bearer ${adminToken}` },
        body: JSON.stringify({ expires_in: 3600, description: 'bench' }),
      });
      const { initial_access_token } = (await created.json()) as { initial_access_token: string };
      await measure(`${kind} register with initial access token`, {
        url: `${issuer}/register`,
        method: 'POST',
        headers: { ...JSON_HEADERS, authorization: `Bearer ${initial_access_token}` },
        body: REGISTRATION,
      });
    });
  }
  // Registration with a software statement: the same server with a trusted issuer.
  const { issuers, body } = await statementRegistration();
  for (const kind of ['ours-memory', 'ours-embedded']) {
    await withTarget(kind, { DCR_SOFTWARE_STATEMENT_ISSUERS: issuers }, async ({ issuer }) => {
      await measure(`${kind} register (software statement)`, {
        url: `${issuer}/register`,
        method: 'POST',
        headers: JSON_HEADERS,
        body,
      });
    });
  }
  bundleLines.push(...(await verificationBench()));
  for (const connections of CONNECTIONS) {
    const ratio =
      rate('ours-embedded register, rate limit on', connections) /
      rate('ours-embedded register', connections);
    summaries.push(
      `registration with the rate limit on, embedded store @${connections}: ${ratio.toFixed(2)}x without`,
    );
  }
}

async function tokenBench() {
  for (const alg of ['ES256', 'RS256']) {
    const trusting = { BENCH_ALG: alg, DCR_TRUSTED_ISSUERS: TRUSTED_PLATFORM };
    await withTarget('ours-memory', trusting, async ({ issuer }) => {
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
      // Beside client_credentials, in the same server: a workload's platform JWT per token.
      await measure(`ours-memory token ${alg} jwt-bearer (workload)`, workloadTokenRequest(issuer));
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
  for (const alg of ['ES256', 'RS256']) {
    const ratio = (connections: number) =>
      (
        rate(`ours-memory token ${alg} jwt-bearer (workload)`, connections) /
        rate(`ours-memory token ${alg}`, connections)
      ).toFixed(2);
    summaries.push(
      `workload identity (jwt-bearer) tokens ${alg}, in-memory: ${CONNECTIONS.map((c) => `${ratio(c)}x client_credentials @${c}`).join(', ')}`,
    );
  }
  compare('tokens ES256, in-memory', 'ours-memory token ES256', 'oidc-provider token ES256', 3);
  compare('tokens RS256, in-memory', 'ours-memory token RS256', 'oidc-provider token RS256', 1.5);
}

/**
 * Discovery (RFC 8414 metadata), in fresh processes measured in turns: ours in memory and on the
 * embedded store (the same route: they differ only in what else the process holds),
 * oidc-provider, and node:http alone sending the same bytes and headers (the ceiling of any
 * server on Node). Besides req/s, each server's CPU time per request (from /proc): its cost on
 * one core, which the load generator's own limit on its core does not bound.
 */
async function discoveryBench() {
  const kinds = ['node-http', 'ours-memory', 'ours-embedded', 'oidc-provider'];
  const names = ['node:http alone', 'ours-memory', 'ours-embedded', 'oidc-provider'];
  await withTargets(kinds, {}, (targets) =>
    measureInterleaved(
      targets.map((target, i) => ({
        what: `${names[i]} discovery`,
        options: () => ({ url: `${target.issuer}/.well-known/oauth-authorization-server` }),
        ...(target.pid !== undefined && { pid: target.pid }),
      })),
    ),
  );
  compare('discovery, in-memory', 'ours-memory discovery', 'oidc-provider discovery', 4);
  for (const connections of CONNECTIONS) {
    const micros = names.map(
      (name) =>
        rows.find((r) => r.what === `${name} discovery` && r.connections === connections)?.figures
          .cpuMicros,
    );
    const [bare, memory, embedded, reference] = micros;
    if (micros.some((m) => m === undefined)) continue;
    const times = (a = 0, b = 1) => `${(a / b).toFixed(2)}x`;
    summaries.push(
      `discovery @${connections}, server CPU a request: ours-memory ${memory?.toFixed(1)} µs, ours-embedded ${embedded?.toFixed(1)} µs, oidc-provider ${reference?.toFixed(1)} µs, node:http alone ${bare?.toFixed(1)} µs; per core ours-memory = ${times(reference, memory)} oidc-provider, node:http alone (the ceiling) = ${times(reference, bare)}`,
    );
  }
}

/** An ES256 key pair signing compact JWTs synchronously (node:crypto, ~0.1 ms each). */
function es256Jwts() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return {
    jwk: { kty, crv, x, y },
    sign: (header: Record<string, unknown>, claims: Record<string, unknown>) => {
      const input = `${encode({ ...header, alg: 'ES256' })}.${encode(claims)}`;
      const signature = sign('sha256', Buffer.from(input), {
        key: privateKey,
        dsaEncoding: 'ieee-p1363',
      });
      return `${input}.${signature.toString('base64url')}`;
    },
  };
}

/**
 * A fresh DPoP proof (ES256) for every request: both servers spend each `jti` once. Made
 * synchronously in autocannon's `setupRequest`, the same cost for both.
 */
function dpopProofs(tokenEndpoint: string) {
  const keys = es256Jwts();
  return () =>
    keys.sign(
      { typ: 'dpop+jwt', jwk: keys.jwk },
      { jti: randomUUID(), htm: 'POST', htu: tokenEndpoint, iat: Math.floor(Date.now() / 1000) },
    );
}

/** The workload identity benchmark's platform: its issuer, key and the one rule it trusts. */
const PLATFORM = 'https://ci.bench.example';
const PLATFORM_SUBJECT = 'repo:bench/agent:ref:refs/heads/main';
const platformKeys = es256Jwts();
const TRUSTED_PLATFORM = JSON.stringify({
  [PLATFORM]: {
    kind: 'workload',
    jwks: { keys: [{ ...platformKeys.jwk, kid: 'bench' }] },
    rules: [{ claims: { sub: PLATFORM_SUBJECT }, resources: [BENCH_RESOURCE] }],
  },
});

/** A jwt-bearer request with a fresh platform JWT each time (each `jti` is spent once). */
const workloadTokenRequest = (issuer: string): autocannon.Options => ({
  url: `${issuer}/token`,
  requests: [
    {
      method: 'POST',
      setupRequest: (request) => {
        const now = Math.floor(Date.now() / 1000);
        const assertion = platformKeys.sign(
          { typ: 'JWT', kid: 'bench' },
          {
            iss: PLATFORM,
            sub: PLATFORM_SUBJECT,
            aud: `${issuer}/token`,
            jti: randomUUID(),
            iat: now,
            exp: now + 300,
          },
        );
        return {
          ...request,
          headers: { 'content-type': FORM },
          body: new URLSearchParams({
            grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
            assertion,
            resource: BENCH_RESOURCE,
          }).toString(),
        };
      },
    },
  ],
});

/** A client_credentials request with a new DPoP proof each time. */
const dpopTokenRequest = (issuer: string, authorization: string): autocannon.Options => {
  const proof = dpopProofs(`${issuer}/token`);
  return {
    url: `${issuer}/token`,
    requests: [
      {
        method: 'POST',
        body: 'grant_type=client_credentials',
        setupRequest: (request) => ({
          ...request,
          headers: { 'content-type': FORM, authorization, dpop: proof() },
        }),
      },
    ],
  };
};

/**
 * Token issuance with a DPoP proof (RFC 9449 §5), ours and oidc-provider's, RS256 tokens: both
 * servers run at once and are measured in turns (measureInterleaved).
 */
async function dpopBench() {
  const kinds = ['ours-memory', 'oidc-provider'];
  await withTargets(kinds, { BENCH_ALG: 'RS256' }, async ([ours, reference]) => {
    const client = await registerClient((ours as Target).issuer);
    const credentials = [
      basic(client.client_id, client.client_secret),
      basic(REFERENCE_CLIENT.id, REFERENCE_CLIENT.secret),
    ];
    await measureInterleaved(
      [ours, reference].map((target, i) => ({
        what: `${kinds[i]} token RS256 with a DPoP proof`,
        options: () => dpopTokenRequest((target as Target).issuer, credentials[i] as string),
      })),
    );
  });
  compare(
    'DPoP-bound tokens RS256, in-memory',
    'ours-memory token RS256 with a DPoP proof',
    'oidc-provider token RS256 with a DPoP proof',
    1.2,
  );
}

/** What a slice run with skipAggregateResult returns (autocannon's types omit it). */
interface SliceResult {
  readonly totalCompletedRequests: number;
  readonly duration: number;
  readonly non2xx: number;
  readonly errors: number;
}
const aggregate = (
  autocannon as unknown as {
    aggregateResult(
      results: SliceResult[],
      opts: { url: string; connections: number },
    ): {
      latency: { p50: number; p99: number };
    };
  }
).aggregateResult;

/**
 * Like measure, for targets compared with each other: after a second of warm-up each, they take
 * turns in one-second slices (the order alternating every round), so that the load of whatever
 * else runs on the machine falls on both alike. Each figure is DURATION seconds of slices:
 * completed requests over their time, latencies from the merged histograms.
 */
async function measureInterleaved(
  entries: readonly {
    readonly what: string;
    readonly options: () => autocannon.Options;
    /** The serving process, to count its CPU time per request. */
    readonly pid?: number;
  }[],
) {
  for (const entry of entries) {
    await autocannon({ ...entry.options(), duration: 1, connections: 10 });
  }
  const rounds = Math.max(1, Math.round(DURATION));
  const measured = entries.map(() => [] as { connections: number; figures: Figures }[]);
  for (const connections of CONNECTIONS) {
    const slices = entries.map(() => [] as SliceResult[]);
    const cpu = entries.map(() => 0 as number | undefined);
    for (let round = 0; round < rounds; round++) {
      const order = entries.map((_, i) => i);
      if (round % 2 === 1) order.reverse();
      for (const i of order) {
        const entry = entries[i] as (typeof entries)[number];
        const options = { ...entry.options(), connections };
        const before = cpuSeconds(entry.pid);
        const slice = (await autocannon({
          ...options,
          duration: 1,
          skipAggregateResult: true,
        })) as unknown as SliceResult;
        const after = cpuSeconds(entry.pid);
        const used = cpu[i];
        cpu[i] =
          used !== undefined && before !== undefined && after !== undefined
            ? used + after - before
            : undefined;
        (slices[i] as SliceResult[]).push(slice);
      }
    }
    entries.forEach((entry, i) => {
      const runs = slices[i] as SliceResult[];
      const sum = (f: (r: SliceResult) => number) => runs.reduce((a, r) => a + f(r), 0);
      const { latency } = aggregate(runs, { url: String(entry.options().url), connections });
      const completed = sum((r) => r.totalCompletedRequests);
      const used = cpu[i];
      const figures = {
        rps: Math.round(completed / sum((r) => r.duration)),
        p50: latency.p50,
        p99: latency.p99,
        failed: sum((r) => r.non2xx + r.errors),
        ...(used !== undefined && completed > 0 && { cpuMicros: (used * 1e6) / completed }),
      };
      (measured[i] as { connections: number; figures: Figures }[]).push({ connections, figures });
      const cpuNote =
        figures.cpuMicros === undefined ? '' : `, ${figures.cpuMicros.toFixed(1)} µs CPU a request`;
      console.error(
        `  ${entry.what} @${connections}: ${figures.rps} req/s, p50 ${figures.p50} ms, p99 ${figures.p99} ms${cpuNote}`,
      );
    });
  }
  entries.forEach((entry, i) => {
    for (const m of measured[i] as { connections: number; figures: Figures }[]) {
      rows.push({ what: entry.what, ...m });
    }
  });
}

/**
 * Authorization codes a code exchange target seeds: the warm-up second and both connection
 * counts at up to 20 000 exchanges/s, twice the fastest seen here (ES256, ours). Running out
 * shows as failed requests, and then no ratio is claimed. 5 s figures: 220 000 codes, about
 * 300 MB in our process and 600 MB in oidc-provider's.
 */
const SEEDED_CODES = Math.ceil((1 + CONNECTIONS.length * DURATION) * 20_000);
/** Refresh token families a target uses: one per connection of each slice and the warm-up. */
const FAMILIES_USED = 10 + Math.max(1, Math.round(DURATION)) * CONNECTIONS.reduce((a, c) => a + c);

const form = (params: Record<string, string>) => new URLSearchParams(params).toString();
const TOKEN_HEADERS = { 'content-type': FORM };

/** Code exchange: each request spends the next of the codes serve.ts seeded. */
function codeExchange({ issuer, clientId }: Target): () => autocannon.Options {
  let nextCode = 0;
  return () => ({
    url: issuer,
    requests: [
      {
        method: 'POST',
        path: '/token',
        headers: TOKEN_HEADERS,
        setupRequest: (request) => ({
          ...request,
          body: form({
            grant_type: 'authorization_code',
            code: benchCode(nextCode++),
            code_verifier: BENCH_VERIFIER,
            redirect_uri: BENCH_REDIRECT_URI,
            resource: BENCH_RESOURCE,
            client_id: clientId as string,
          }),
        }),
      },
    ],
  });
}

/**
 * Refresh: each connection follows a refresh token family of its own, presenting the token the
 * last response returned, so rotations never race. autocannon resets a request's context on
 * every loop, so each connection keeps its chain in a closure.
 */
function refreshChain({ issuer, clientId }: Target): () => autocannon.Options {
  let nextFamily = 0;
  return () => ({
    url: issuer,
    setupClient: (connection) => {
      if (nextFamily >= BENCH_FAMILIES) throw new Error('out of seeded refresh token families');
      let refreshToken = benchFamily(nextFamily++).refreshToken;
      connection.setRequests([
        {
          method: 'POST',
          path: '/token',
          headers: TOKEN_HEADERS,
          setupRequest: (request) => ({
            ...request,
            body: form({
              grant_type: 'refresh_token',
              refresh_token: refreshToken,
              resource: BENCH_RESOURCE,
              client_id: clientId as string,
            }),
          }),
          onResponse: (status, body) => {
            if (status === 200) {
              refreshToken = (JSON.parse(body) as { refresh_token: string }).refresh_token;
            }
          },
        },
      ]);
    },
  });
}

/**
 * Reuse absorbed: each connection presents the first token of a family of its own again and
 * again. The first request rotates; every later one is a reuse within the grace window (the
 * run is far shorter than its 60 s), answered with the same successor and a new access token.
 */
function reusedParent({ issuer, clientId }: Target): () => autocannon.Options {
  let nextFamily = BENCH_FAMILIES - 1;
  return () => ({
    url: issuer,
    setupClient: (connection) => {
      if (nextFamily < FAMILIES_USED) throw new Error('out of seeded refresh token families');
      const { refreshToken } = benchFamily(nextFamily--);
      connection.setRequests([
        {
          method: 'POST',
          path: '/token',
          headers: TOKEN_HEADERS,
          body: form({
            grant_type: 'refresh_token',
            refresh_token: refreshToken,
            resource: BENCH_RESOURCE,
            client_id: clientId as string,
          }),
        },
      ]);
    },
  });
}

/** Starts every target (in parallel processes, each with `env` and its own), runs, stops them all. */
async function withTargets(
  kinds: readonly (string | readonly [string, Record<string, string>])[],
  env: Record<string, string>,
  run: (targets: Target[]) => Promise<void>,
) {
  const targets = await Promise.all(
    kinds.map((kind) =>
      typeof kind === 'string'
        ? startTarget(kind, env)
        : startTarget(kind[0], { ...env, ...kind[1] }),
    ),
  );
  try {
    await run(targets);
  } finally {
    await Promise.all(targets.map(stopTarget));
  }
}

/**
 * The user grants of an MCP client, in memory, ours against oidc-provider: both serve a public
 * client (PKCE S256 required), a resource indicator, JWT access tokens signed with BENCH_ALG's
 * key, and a new (rotated) refresh token with every response. Both servers run at once and are
 * measured in turns (measureInterleaved). The refresh grant runs in processes of their own,
 * without the seeded codes, whose memory would weigh on it.
 */
async function grantBench() {
  if (FAMILIES_USED > BENCH_FAMILIES) throw new Error('BENCH_SECONDS too long for the families');
  const kinds = ['ours-memory', 'oidc-provider'];
  for (const alg of ['RS256', 'ES256']) {
    const codeEnv = { BENCH_ALG: alg, BENCH_GRANTS: String(SEEDED_CODES) };
    await withTargets(kinds, codeEnv, (targets) =>
      measureInterleaved(
        targets.map((t, i) => ({
          what: `${kinds[i]} code exchange ${alg}`,
          options: codeExchange(t),
        })),
      ),
    );
    // Ours with the reuse grace window (the default: every rotation also seals its successor),
    // ours strict (0), and oidc-provider, which rotates without a grace window.
    const refreshKinds = [
      ['ours-memory', {}],
      ['ours-memory', { BENCH_REUSE_GRACE: '0' }],
      ['oidc-provider', {}],
    ] as const;
    const refreshNames = ['ours-memory', 'ours-memory, no grace window,', 'oidc-provider'];
    await withTargets(refreshKinds, { BENCH_ALG: alg, BENCH_GRANTS: '0' }, (targets) =>
      measureInterleaved([
        ...targets.map((t, i) => ({
          what: `${refreshNames[i]} refresh ${alg}`,
          options: refreshChain(t),
        })),
        {
          what: `ours-memory refresh, reuse absorbed ${alg}`,
          options: reusedParent(targets[0] as Target),
        },
      ]),
    );
  }
  for (const grant of ['code exchange', 'refresh']) {
    compare(
      `${grant} RS256, in-memory`,
      `ours-memory ${grant} RS256`,
      `oidc-provider ${grant} RS256`,
      1.5,
    );
  }
  for (const alg of ['RS256', 'ES256']) {
    for (const connections of CONNECTIONS) {
      const ratio =
        rate(`ours-memory refresh ${alg}`, connections) /
        rate(`ours-memory, no grace window, refresh ${alg}`, connections);
      summaries.push(
        Number.isNaN(ratio)
          ? `refresh ${alg} with the grace window @${connections}: no ratio (a run had failed requests)`
          : `refresh ${alg} with the grace window @${connections}: ${ratio.toFixed(2)}x without it (sealing each successor)`,
      );
    }
  }
  for (const grant of ['code exchange', 'refresh']) {
    for (const connections of CONNECTIONS) {
      const ratio =
        rate(`ours-memory ${grant} ES256`, connections) /
        rate(`oidc-provider ${grant} ES256`, connections);
      summaries.push(
        Number.isNaN(ratio)
          ? `${grant} ES256, in-memory @${connections}: no ratio (a run had failed requests)`
          : `${grant} ES256, in-memory @${connections}: ${ratio.toFixed(2)}x oidc-provider (no target)`,
      );
    }
  }
}

/** Each function's bundle: minified and gzipped size, and its cold import time (median of 5). */
async function bundleBench() {
  const dir = mkdtempSync(join(tmpdir(), 'dcr-bench-stack-'));
  try {
    synthesizeStack(join(dir, 'cdk.out'));
    const loader = fileURLToPath(new URL('../test/support/load-bundle.mjs', import.meta.url));
    const env = lambdaRuntimeEnv({ dynamodb: 'http://127.0.0.1:9', kms: 'http://127.0.0.1:9' });
    const lines = [
      [
        'function',
        'minified KB',
        'gzip KB',
        'import ms (median)',
        'import CPU ms',
        'network at init',
      ],
    ];
    for (const fn of stackFunctions(join(dir, 'cdk.out'))) {
      const code = readFileSync(fn.bundle);
      const probe = pinnedCommand(pinning, process.execPath, [
        loader,
        pathToFileURL(fn.bundle).href,
      ]);
      const runs = Array.from({ length: 5 }, () =>
        JSON.parse(
          execFileSync(probe.command, probe.args, {
            env: { PATH: process.env.PATH, ...env, ...fn.environment },
            encoding: 'utf8',
          })
            .trim()
            .split('\n')
            .at(-1) as string,
        ),
      );
      const median = (field: string) =>
        runs.map((r) => r[field] as number).sort((a, b) => a - b)[2] as number;
      lines.push([
        fn.logicalId.replace(/Function[0-9A-F]{8}$/, ''),
        (code.length / 1024).toFixed(0),
        (gzipSync(code).length / 1024).toFixed(0),
        median('importMs').toFixed(0),
        median('cpuMs').toFixed(0),
        runs.some((r) => r.attempts.length > 0) ? 'YES' : 'none',
      ]);
    }
    const widths = (lines[0] as string[]).map((_, i) =>
      Math.max(...lines.map((l) => (l[i] as string).length)),
    );
    for (const l of lines)
      bundleLines.push(l.map((c, i) => c.padEnd(widths[i] as number)).join('  '));
    bundleLines.push(
      `targets: <= 150 KB gzipped, import <= 60 ms, no network at init (load average ${(loadavg()[0] as number).toFixed(1)})`,
    );
    if (lines.slice(1).some((l) => Number(l[4]) > 60)) {
      bundleLines.push(
        "what bounds the import: a bundle holding only the AWS SDK's DynamoDB and document clients takes 56-60 ms of import CPU on this core (node's https/tls ~20 ms, crypto ~8, compiling ~50 ms a MB, the SDK's modules and client ~15); bench/README.md, \"Cold initialisation: source maps, and what was taken off\"",
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Lines printed after the request table: bundle, cleanup and statistics figures. */
const bundleLines: string[] = [];

/** What an operation costs in AWS calls: test/stack/aws-calls on the synthesized stack. */
interface AwsCost {
  readonly operation: string;
  readonly reads: number;
  readonly writes: number;
  readonly kms: number;
  readonly calls: Record<string, number>;
}
const awsCosts: AwsCost[] = [];

async function awsCallsBench() {
  const dir = mkdtempSync(join(tmpdir(), 'dcr-bench-aws-'));
  const report = join(dir, 'aws-calls.json');
  try {
    const vitest = fileURLToPath(new URL('../node_modules/.bin/vitest', import.meta.url));
    execFileSync(vitest, ['run', 'test/stack/aws-calls.test.ts', '--project', 'stack'], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, DCR_AWS_CALLS_REPORT: report },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    awsCosts.push(...(JSON.parse(readFileSync(report, 'utf8')) as AwsCost[]));
    for (const c of awsCosts) {
      console.error(`  ${c.operation}: ${c.reads} reads, ${c.writes} writes, ${c.kms} Sign`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const BENCHES: Record<string, () => Promise<void>> = {
  registration: registrationBench,
  discovery: discoveryBench,
  tokens: tokenBench,
  dpop: dpopBench,
  grants: grantBench,
  bundles: bundleBench,
  cleanup: async () => {
    bundleLines.push(...(await cleanupBench()));
  },
  stats: async () => {
    bundleLines.push(...(await statsBench()));
  },
  aws: awsCallsBench,
  signing: async () => {
    bundleLines.push(...(await signingBench()));
  },
  dashboard: async () => {
    bundleLines.push(...(await dashboardBench()));
  },
  kit: async () => {
    bundleLines.push(...(await kitBench()));
  },
};
const selected = process.argv.slice(2).filter((name) => name in BENCHES);
console.error(`benchmark: ${DURATION} s per figure, loopback only; ${pinning.description}`);
const startedAt = new Date();
const loadBefore = loadavg()[0] as number;
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

// Against the previous BENCHMARKS.md (read before a full run replaces it).
const benchmarksPath = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
const previous = (() => {
  try {
    return readFileSync(benchmarksPath, 'utf8');
  } catch {
    return '';
  }
})();
const regression = regressionCheck(
  previous,
  rows.map((r) => ({ what: r.what, connections: r.connections, ...r.figures })),
  pinning.pinned,
);
if (rows.length > 0) for (const line of regression) console.log(line);
const costs = costLines(awsCosts);
if (awsCosts.length > 0) for (const line of costs) console.log(line);

/** The reference's figure for one of ours: the same work, oidc-provider's name for it. */
const referenceOf = (what: string, connections: number) =>
  rows.find(
    (r) =>
      r.what === what.replace(/^ours-(memory|embedded)/, 'oidc-provider') &&
      r.connections === connections,
  )?.figures;

/**
 * BENCHMARKS.md, regenerated by a full run (`npm run bench` with no selection): the machine,
 * every figure of this run side by side with oidc-provider's where it did the same work.
 */
function report(): string {
  const cpu = cpus();
  const cell = (f?: Figures) => (f ? [String(f.rps), `${f.p50} / ${f.p99}`] : ['—', '—']);
  const requestRows = rows
    .filter((r) => !r.what.startsWith('oidc-provider'))
    .map((r) => {
      const reference = referenceOf(r.what, r.connections);
      const ratio =
        reference && reference.failed === 0 && r.figures.failed === 0
          ? `${(r.figures.rps / reference.rps).toFixed(2)}×`
          : '—';
      return `| ${r.what} | ${r.connections} | ${cell(r.figures).join(' | ')} | ${r.figures.failed} | ${cell(reference).join(' | ')} | ${ratio} |`;
    });
  return [
    '# Benchmarks',
    '',
    `Generated by \`npm run bench\` (bench/run.ts) on ${startedAt.toISOString()}; do not edit by hand.`,
    '',
    `- Machine: ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${process.platform} ${process.arch}; load average ${loadBefore.toFixed(1)} at the start, ${(loadavg()[0] as number).toFixed(1)} at the end`,
    `- Node ${process.version}; each server in its own process (bench/serve.ts bundled, plain node, as npm start runs), autocannon over loopback, ${DURATION} s per figure after a 1 s warm-up`,
    `- Cores: ${pinning.description}`,
    '- Reference: node-oidc-provider 9 doing the same work in the same run (its in-memory adapter; registration and client_credentials enabled; JWT access tokens with the same algorithm); ratio = our req/s ÷ its req/s. oidc-provider refuses to introspect JWT access tokens (`unsupported_token_type`), so introspection has no reference; initial access tokens, software statements and the rate limit are ours alone.',
    '',
    '## Requests',
    '',
    '| operation | conns | req/s | p50 / p99 ms | non-2xx | oidc-provider req/s | p50 / p99 ms | ratio |',
    '|---|---|---|---|---|---|---|---|',
    ...requestRows,
    '',
    ...summaries.map((line) => `- ${line}`),
    '',
    ...(summaries.some((line) => line.endsWith('NOT met')) ? [BOUNDS, ''] : []),
    '## AWS calls per operation (synthesized stack)',
    '',
    'Counted by the IAM gate in front of every AWS stand-in (`test/stack/aws-calls.test.ts`): reads, writes and KMS `Sign` calls of the function that served the request; the last column lists every call, the audit function (run by the table stream, after the response) included.',
    '',
    '| operation | DynamoDB reads | DynamoDB writes | KMS Sign | all calls |',
    '|---|---|---|---|---|',
    ...awsCosts.map(
      (c) =>
        `| ${c.operation} | ${c.reads} | ${c.writes} | ${c.kms} | ${Object.entries(c.calls)
          .map(([call, n]) => `${call} ×${n}`)
          .join(', ')} |`,
    ),
    '',
    '## Regression check',
    '',
    '```',
    ...regression,
    '```',
    '',
    '## Cost per operation (model)',
    '',
    ...costs,
    '',
    '## Bundles, cleanup, statistics, statement verification, the resource-server kit',
    '',
    '```',
    ...bundleLines,
    '```',
    '',
  ].join('\n');
}

if (selected.length === 0) {
  writeFileSync(benchmarksPath, report());
  console.error(`wrote ${benchmarksPath}`);
}
