import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { banner, type Started, startLocalProcess as start } from '../support/local-process.js';

/**
 * What `npm start` tells a newcomer: where things are, what clients may ask for, and two
 * commands that work as printed (run here through the shell, as someone pasting them would).
 */
const run = promisify(execFile);

/** A command the banner prints: the lines from its `curl` to the end of its continuation. */
function command(text: string, startsWith: string): string {
  const lines = text.split('\n');
  const first = lines.findIndex((line) => line.trim().startsWith(startsWith));
  expect(first).toBeGreaterThanOrEqual(0);
  let last = first;
  while (lines[last]?.endsWith('\\')) last++;
  return lines.slice(first, last + 1).join('\n');
}

describe('npm start', () => {
  const dirs: string[] = [];
  const running: Started[] = [];
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcr-start-up-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    for (const started of running.splice(0)) {
      if (started.child.exitCode === null) process.kill(-(started.child.pid as number), 'SIGTERM');
      await started.exited;
    }
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('prints discovery, the scopes and resources, and register and token commands that work', async () => {
    const resource = 'https://mcp.example.com/mcp';
    const started = start({
      DCR_DATA_DIR: dataDir(),
      DCR_ALLOWED_SCOPES: 'mcp:tools read',
      DCR_RESOURCES: resource,
    });
    running.push(started);
    const text = await banner(started);
    const issuer = /issuer:\s+(http\S+)/.exec(text)?.[1] as string;
    expect(issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(text).toMatch(
      new RegExp(`discovery:\\s+${issuer}/\\.well-known/oauth-authorization-server\\n`),
    );
    expect(text).toMatch(/scopes:\s+mcp:tools read\n/);
    expect(text).toContain(`resources:  ${resource}\n`);

    // The commands as printed: register, then a token with the client's id and secret.
    const registered = JSON.parse(
      (await run('sh', ['-c', command(text, 'curl -s -X POST http')])).stdout,
    ) as { client_id: string; client_secret: string; scope: string };
    expect(registered.scope).toBe('mcp:tools');
    const tokenCommand = command(text.slice(text.indexOf('get a token')), 'curl');
    const { stdout } = await run('sh', ['-c', tokenCommand], {
      env: {
        ...process.env,
        CLIENT_ID: registered.client_id,
        CLIENT_SECRET: registered.client_secret,
      },
    });
    const token = JSON.parse(stdout) as { access_token: string };
    expect(decodeJwt(token.access_token)).toMatchObject({ aud: resource, scope: 'mcp:tools' });
  });

  it('with nothing configured, says that any scope goes and that tokens are for the issuer', async () => {
    const started = start({ DCR_DATA_DIR: dataDir() });
    running.push(started);
    const text = await banner(started);
    expect(text).toMatch(/scopes:\s+any \(set DCR_ALLOWED_SCOPES/);
    expect(text).toMatch(/resources:\s+none: tokens are for the issuer/);
  });

  it('warns of a DCR_ variable that names no setting, with the one meant, and still starts', async () => {
    const started = start({ DCR_DATA_DIR: dataDir(), DCR_ALLOWED_SCOPE: 'read' });
    running.push(started);
    await banner(started);
    expect(started.stderr()).toContain(
      'serverless-dcr: warning: DCR_ALLOWED_SCOPE is not a setting (ignored); did you mean DCR_ALLOWED_SCOPES?',
    );
  });

  it('refuses to start on a TLS file that is not there, naming the setting and the path', async () => {
    const dir = dataDir();
    const started = start({
      DCR_DATA_DIR: dir,
      DCR_TLS_CERT: join(dir, 'missing-cert.pem'),
      DCR_TLS_KEY: join(dir, 'missing-key.pem'),
    });
    running.push(started);
    expect(await started.exited).toBe(1);
    expect(started.stderr()).toContain(
      `serverless-dcr: invalid configuration: DCR_TLS_CERT: cannot read ${join(dir, 'missing-cert.pem')} (no such file)`,
    );
    expect(started.stdout()).not.toContain('listening');
  });
});
