/**
 * `npm run bench`: throughput and latency of this server's endpoints on loopback, printed as
 * figures (never asserted). Each target runs in a child process; autocannon drives it from here.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const DURATION = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = [10, 50];
const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
const serveScript = fileURLToPath(new URL('./serve.ts', import.meta.url));

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

async function startTarget(kind: string): Promise<Target> {
  const child = spawn(tsx, [serveScript, kind], { stdio: ['ignore', 'pipe', 'inherit'] });
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

export interface Figures {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly non2xx: number;
}

export async function load(options: autocannon.Options): Promise<Figures> {
  const result = await autocannon({ duration: DURATION, ...options });
  return {
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx + result.errors,
  };
}

const rows: string[][] = [];
const record = (what: string, connections: number, f: Figures) => {
  rows.push([what, String(connections), String(f.rps), `${f.p50}`, `${f.p99}`, String(f.non2xx)]);
  console.error(`  ${what} @${connections}: ${f.rps} req/s p50 ${f.p50} ms p99 ${f.p99} ms`);
};

async function measure(kind: string, registerPath: string, withDiscovery: boolean) {
  const target = await startTarget(kind);
  try {
    // Warm up (JIT, lazy initialisation) before measuring.
    await autocannon({
      url: `${target.issuer}${registerPath}`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: REGISTRATION,
      duration: 1,
      connections: 10,
    });
    for (const connections of CONNECTIONS) {
      record(
        `${kind} register`,
        connections,
        await load({
          url: `${target.issuer}${registerPath}`,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: REGISTRATION,
          connections,
        }),
      );
    }
    if (withDiscovery) {
      for (const connections of CONNECTIONS) {
        record(
          `${kind} discovery`,
          connections,
          await load({
            url: `${target.issuer}/.well-known/oauth-authorization-server`,
            connections,
          }),
        );
      }
    }
  } finally {
    await stopTarget(target);
  }
}

console.error(`benchmark: ${DURATION} s per figure, loopback only`);
await measure('ours-memory', '/register', true);
await measure('ours-embedded', '/register', true);
await measure('oidc-provider', '/reg', true);

const header = ['target / endpoint', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx'];
const widths = header.map((h, i) =>
  Math.max(h.length, ...rows.map((r) => (r[i] as string).length)),
);
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
console.log(line(header));
for (const row of rows) console.log(line(row));

const rate = (what: string, connections: number) =>
  Number(rows.find((r) => r[0] === what && r[1] === String(connections))?.[2] ?? 0);
for (const connections of CONNECTIONS) {
  const ratio =
    rate('ours-memory register', connections) / rate('oidc-provider register', connections);
  console.log(
    `registration, in-memory vs oidc-provider @${connections}: ${ratio.toFixed(2)}x (target >= 2x)`,
  );
}
