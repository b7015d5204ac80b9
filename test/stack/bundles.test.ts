import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, inject, it } from 'vitest';
import { lambdaRuntimeEnv, stackFunctions } from '../support/synthesized-stack.js';

const loader = fileURLToPath(new URL('../support/load-bundle.mjs', import.meta.url));
const { cdkOut } = inject('stack');
// Endpoints nobody listens on: a cold start must not call them anyway.
const unreachable = lambdaRuntimeEnv({
  dynamodb: 'http://127.0.0.1:9',
  kms: 'http://127.0.0.1:9',
  secretsManager: 'http://127.0.0.1:9',
});

describe.each(stackFunctions(cdkOut).map((fn) => [fn.logicalId, fn] as const))(
  'bundle of %s',
  (_, fn) => {
    it('loads in a fresh Node process with its template environment, without network calls', () => {
      const output = execFileSync(process.execPath, [loader, pathToFileURL(fn.bundle).href], {
        env: { PATH: process.env.PATH, ...unreachable, ...fn.environment },
        encoding: 'utf8',
      });
      const report = JSON.parse(output.trim().split('\n').at(-1) as string);
      expect(report.handler).toBe('function');
      expect(report.attempts).toEqual([]);
    });

    // Readable stack traces in CloudWatch at no start-up cost: Node reads a map at the first stack
    // trace, not at start (bench/README.md); the sources' text, for debuggers only, stays out.
    it('carries a source map of its TypeScript sources, without their text, and runs with it', () => {
      expect(fn.environment.NODE_OPTIONS).toBe('--enable-source-maps');
      expect(readFileSync(fn.bundle, 'utf8')).toMatch(
        /\n\/\/# sourceMappingURL=index\.mjs\.map\s*$/,
      );
      const map = JSON.parse(readFileSync(`${fn.bundle}.map`, 'utf8'));
      expect(map.sources).toContainEqual(
        expect.stringMatching(/\/lambdas\/functions\/[a-z-]+\/handler\.ts$/),
      );
      expect(map.mappings.length).toBeGreaterThan(0);
      expect(map.sourcesContent).toBeUndefined();
    });

    // The SDK's event-stream codec, for operations none of the functions' clients has
    // (test/unit/dependencies.test.ts), is left out: its message of a malformed event.
    it("carries no event-stream codec of the SDK's", () => {
      expect(readFileSync(fn.bundle, 'utf8')).not.toContain('Truncated event message received');
    });

    // What a cold start downloads and parses: only what the function runs (bench/README.md).
    it('stays within 150 KB gzipped', () => {
      expect(gzipSync(readFileSync(fn.bundle)).length).toBeLessThanOrEqual(150 * 1024);
    });
  },
);

describe('a stack trace from a bundle', () => {
  it('names the TypeScript file and line it came from', () => {
    const token = stackFunctions(cdkOut).find((fn) =>
      fn.logicalId.startsWith('FunctiontokenFunction'),
    );
    // A setting that does not parse stops the function as it loads, with the error's stack.
    const run = spawnSync(process.execPath, [loader, pathToFileURL(token?.bundle as string).href], {
      env: {
        PATH: process.env.PATH,
        ...unreachable,
        ...token?.environment,
        DCR_ACCESS_TOKEN_LIFETIME_SECONDS: 'soon',
      },
      encoding: 'utf8',
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('DCR_ACCESS_TOKEN_LIFETIME_SECONDS');
    expect(run.stderr).toMatch(/at loadConfig \(\S*\/lambdas\/config\.ts:\d+:\d+\)/);
  });
});

describe('the authorize bundle', () => {
  // The development login's page says so in its title; only the local app imports its module.
  const MARKER = 'Development login';
  const devLogin = fileURLToPath(new URL('../../local/dev-login.ts', import.meta.url));

  it('exists in the interactive stack and carries no development login', () => {
    const authorize = stackFunctions(cdkOut).find((fn) =>
      fn.logicalId.startsWith('FunctionauthorizeFunction'),
    );
    expect(authorize).toBeDefined();
    expect(readFileSync(devLogin, 'utf8')).toContain(MARKER); // the marker is a real one
    const code = readFileSync(authorize?.bundle as string, 'utf8');
    expect(code).toContain('/authorize');
    expect(code).not.toContain(MARKER);
  });
});

describe('the bundles of functions that never validate client metadata', () => {
  // A message of the registration body's schema: building that schema is a cold start's cost.
  const MARKER = 'must be a public RSA, EC or OKP key';
  const bundleOf = (name: string) =>
    readFileSync(
      stackFunctions(cdkOut).find((fn) => fn.logicalId.startsWith(`Function${name}Function`))
        ?.bundle as string,
      'utf8',
    );

  it('carry no metadata schema, which the registration bundle does', () => {
    expect(bundleOf('register')).toContain(MARKER); // the marker is a real one
    for (const name of ['discovery', 'jwks', 'cleanup', 'audit']) {
      expect(bundleOf(name), name).not.toContain(MARKER);
    }
  });
});

describe('the cold-start probe', () => {
  it('does see a module that opens a connection while it loads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcr-probe-'));
    const chatty = join(dir, 'chatty.mjs');
    writeFileSync(
      chatty,
      "import net from 'node:net'; net.connect(9, '127.0.0.1').on('error', () => {}); export const handler = () => {};",
    );
    const output = execFileSync(process.execPath, [loader, pathToFileURL(chatty).href], {
      encoding: 'utf8',
    });
    expect(JSON.parse(output).attempts).toHaveLength(1);
  });
});
