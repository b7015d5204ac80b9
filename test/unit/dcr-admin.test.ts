import { execFile } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Io, main } from '../../cli/dcr-admin.js';

/** A stand-in admin API that answers every call with an empty page and records what reached it. */
let server: Server;
let url: string;
const reached: string[] = [];
const TOKEN = 'x'.repeat(40);

beforeAll(async () => {
  server = createServer((req, res) => {
    reached.push(`${req.method} ${req.url}`);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ clients: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  reached.length = 0;
});

async function run(args: string[], connection = ['--url', url, '--token', TOKEN]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (l) => out.push(l), err: (l) => err.push(l) };
  const code = await main([...args, ...connection], io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('dcr-admin usage errors', () => {
  it.each([
    [['get'], 'get needs a client_id'],
    [['delete'], 'delete needs a client_id'],
    [['rotate-secret'], 'rotate-secret needs a client_id'],
    [['rotate-secret', 'c1', '--grace', 'soon'], '--grace takes a whole number'],
    [['list', '--limit', 'many'], '--limit takes a whole number'],
    [['stats', '--days', 'week'], '--days takes a whole number'],
    [['block-software'], 'block-software needs a software_id'],
    [['unblock-software'], 'unblock-software needs a software_id'],
    [['iat', 'frobnicate'], 'iat needs create, list or revoke'],
    [['iat', 'revoke'], 'iat revoke needs a token id'],
    [['export'], 'export needs the file to write'],
    [['import'], 'import needs the export file to read'],
    [['iat', 'create', '--max-uses', 'lots'], '--max-uses takes a whole number'],
    [['trusted-issuers'], 'trusted-issuers needs list, get, put or delete'],
    [['trusted-issuers', 'get'], 'trusted-issuers get needs an issuer'],
    [['trusted-issuers', 'put', 'https://ci.example'], 'trusted-issuers put needs a JSON file'],
    [['trusted-issuers', 'put', 'https://ci.example', '/nonexistent/issuer.json'], 'cannot read'],
    [['trusted-issuers', 'delete'], 'trusted-issuers delete needs an issuer'],
    [['dashboard', '--port', 'any'], '--port takes a whole number'],
    [['frobnicate'], 'unknown command frobnicate'],
    [['list', '--frobnicate'], "Unknown option '--frobnicate'"],
  ])('%j exits 2 with "%s", before any request', async (args, message) => {
    const { code, err } = await run(args);
    expect(err).toContain(message);
    expect(code).toBe(2);
    expect(reached).toEqual([]);
  });

  it.each(['created-after', 'created-before', 'last-used-after', 'last-used-before'])(
    'refuses --%s yesterday with the accepted formats, before any request',
    async (option) => {
      const { code, err } = await run(['list', `--${option}`, 'yesterday']);
      expect(code).toBe(2);
      expect(err).toContain(`--${option} yesterday is not an instant`);
      expect(err).toContain('epoch seconds, a date (2026-11-01) or a date and time');
      expect(reached).toEqual([]);
    },
  );

  it('passes instants of each accepted form on to the server', async () => {
    for (const instant of ['1800000000', '2026-11-01', '2026-11-01T12:00:00Z']) {
      expect((await run(['list', '--created-after', instant])).code).toBe(0);
    }
    expect(
      reached.map((r) => new URL(r.split(' ')[1] ?? '', url).searchParams.get('created_after')),
    ).toEqual(['1800000000', '2026-11-01', '2026-11-01T12:00:00Z']);
  });

  it('explains a missing admin token, before any request', async () => {
    const saved = process.env.DCR_ADMIN_TOKEN;
    delete process.env.DCR_ADMIN_TOKEN;
    try {
      const { code, err } = await run(['list'], ['--url', url]);
      expect(code).toBe(2);
      expect(err).toContain('no admin token: set DCR_ADMIN_TOKEN or pass --token');
      expect(err).toContain('--sigv4');
      expect(reached).toEqual([]);
    } finally {
      if (saved !== undefined) process.env.DCR_ADMIN_TOKEN = saved;
    }
  });
});

describe('dcr-admin blocked', () => {
  it('follows every page of the blocked software_ids and prints them as a table, exit 0', async () => {
    const pages = createServer((req, res) => {
      reached.push(`${req.method} ${req.url}`);
      res.setHeader('content-type', 'application/json');
      const first = !req.url?.includes('cursor=');
      res.end(
        JSON.stringify({
          blocked_software_ids: [
            first
              ? { software_id: 'acme-agent', blocked_at: 1_800_000_000, blocked_by: 'ops' }
              : { software_id: 'rogue\u202ekit', blocked_at: 1_800_000_060 },
          ],
          ...(first && { next_cursor: 'page-2' }),
        }),
      );
    });
    await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
    try {
      const at = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
      const { code, out } = await run(['blocked'], ['--url', at, '--token', TOKEN]);
      expect(code).toBe(0);
      expect(reached).toEqual([
        'GET /admin/blocked-software-ids',
        'GET /admin/blocked-software-ids?cursor=page-2',
      ]);
      expect(out.split('\n')).toEqual([
        'SOFTWARE ID     BLOCKED               BY   FROM',
        'acme-agent      2027-01-15T08:00:00Z  ops',
        'rogue\\u202ekit  2027-01-15T08:01:00Z',
        '2 blocked software_id(s)',
      ]);
    } finally {
      await new Promise<void>((resolve) => pages.close(() => resolve()));
    }
  });

  it('exits 1 with the server’s error', async () => {
    const refusing = createServer((_, res) => {
      res.statusCode = 400;
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({ error: 'invalid_request', error_description: 'cursor is malformed' }),
      );
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    try {
      const at = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`;
      const { code, err } = await run(['blocked'], ['--url', at, '--token', TOKEN]);
      expect(code).toBe(1);
      expect(err).toContain('cursor is malformed');
    } finally {
      await new Promise<void>((resolve) => refusing.close(() => resolve()));
    }
  });
});

describe('dcr-admin connection failures', () => {
  it('names the URL and the cause when the server cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { code, err } = await run(
      ['stats'],
      ['--url', `http://127.0.0.1:${port}`, '--token', TOKEN],
    );
    expect(code).toBe(1);
    expect(err).toContain(`cannot reach http://127.0.0.1:${port}/admin/stats`);
    expect(err).toContain('ECONNREFUSED');
  });
});

describe('dcr-admin start-up', () => {
  const bin = fileURLToPath(new URL('../../bin/dcr-admin.js', import.meta.url));
  const recorder = fileURLToPath(new URL('../support/import-recorder.mjs', import.meta.url));
  /** What a call to a local server need not load: the SDK, the CDK, the dashboard's server. */
  const HEAVY =
    /\/node_modules\/(@aws-sdk|@smithy|@aws-lambda-powertools|aws-cdk-lib)\/|\/lambdas\/(http|local)\/|\/cli\/(dashboard|sigv4)[-.]|\/cli\/commands\/dashboard[-.]/;

  /** Runs the dcr-admin command; every module it imported, as resolved URLs. */
  async function imports(args: string[]) {
    const dir = mkdtempSync(join(tmpdir(), 'dcr-admin-imports-'));
    const log = join(dir, 'imports.log');
    try {
      await promisify(execFile)(process.execPath, ['--import', recorder, bin, ...args], {
        env: { ...process.env, DCR_IMPORT_LOG: log },
      });
      return readFileSync(log, 'utf8').split('\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('loads neither the AWS SDK nor the dashboard for a call to a local server', async () => {
    const modules = await imports(['list', '--url', url, '--token', TOKEN]);
    expect(reached).toEqual(['GET /admin/clients']);
    expect(modules).toContainEqual(expect.stringMatching(/\/cli\/commands\/list[-.]/));
    expect(modules.filter((m) => HEAVY.test(m))).toEqual([]);
  });

  it('loads no command, nor the admin client, for --help', async () => {
    const modules = await imports(['--help']);
    expect(modules.filter((m) => HEAVY.test(m) || m.includes('/cli/commands/'))).toEqual([]);
  });

  it('runs the CLI as its sources are now: a changed source is bundled again', async () => {
    // A copy of the project whose sources the test may change, over the same packages.
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const copy = mkdtempSync(join(tmpdir(), 'dcr-admin-copy-'));
    try {
      for (const dir of ['bin', 'cli', 'lambdas', 'local'])
        cpSync(join(root, dir), join(copy, dir), { recursive: true });
      writeFileSync(join(copy, 'package.json'), readFileSync(join(root, 'package.json')));
      mkdirSync(join(copy, 'node_modules'));
      for (const name of readdirSync(join(root, 'node_modules')).filter((n) => n !== '.cache'))
        symlinkSync(join(root, 'node_modules', name), join(copy, 'node_modules', name));
      const help = async () =>
        (await promisify(execFile)(process.execPath, [join(copy, 'bin/dcr-admin.js'), '--help']))
          .stdout;
      expect(await help()).toContain("dcr-admin — the operator's registry");
      const main = join(copy, 'cli/dcr-admin.ts');
      writeFileSync(main, readFileSync(main, 'utf8').replace("the operator's registry", 'edited'));
      expect(await help()).toContain('dcr-admin — edited of serverless-dcr');
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
