import { inject } from 'vitest';
import { AdminClient } from '../../cli/admin-client.js';
import { type Io, main } from '../../cli/dcr-admin.js';
import { loadConfig } from '../../lambdas/config.js';
import { type LocalApp, type LocalAppOptions, startLocalApp } from '../../local/app.js';

/**
 * The server under test, on a free loopback port: the local server (in-memory embedded store by
 * default), or — in the `stack` test project — the synthesized stack's bundled handlers. The
 * same end-to-end tests run against both.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  options: LocalAppOptions = { store: 'embedded' },
): Promise<LocalApp> {
  if (process.env.DCR_TEST_TARGET === 'stack') {
    // Loaded here, not at the top: the local project's files never pay for the stack harness.
    const { startStackServer } = await import('./synthesized-stack.js');
    const { PORT, DCR_DATA_DIR, DCR_SIGNING_ALG: _decidedByTheTemplate, ...settings } = env;
    const { cdkOut } = inject('stack');
    const tls = inject('tls');
    return startStackServer({
      cdkOut,
      tls,
      // The template turns the registration rate limit on for the register function (every
      // request here comes from 127.0.0.1): off unless a test sets it, as for the local server.
      env: { DCR_REGISTRATION_RATE_LIMIT: 'off', ...settings },
      ...(PORT && { port: Number(PORT) }),
      ...(DCR_DATA_DIR && { dataDir: DCR_DATA_DIR }),
    });
  }
  return startLocalApp(loadConfig({ PORT: '0', ...env }), options);
}

export const jsonPost = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON response bodies.
export type Json = Record<string, any>;

export const readJson = (response: Response): Promise<Json> => response.json() as Promise<Json>;

/**
 * The operator's admin API client for the server under test: on the stack, SigV4 with an
 * operator's credentials (the IAM route); locally, the admin token.
 */
export function operatorAdmin(issuer: string, adminToken: string): AdminClient {
  if (process.env.DCR_TEST_TARGET !== 'stack')
    return new AdminClient({ url: issuer, token: adminToken });
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'operator',
    AWS_SECRET_ACCESS_KEY: 'operator-secret',
  });
  return new AdminClient({ url: issuer, sigv4: { region: 'local' } });
}

/**
 * `dcr-admin` run in process against the server under test, as `operatorAdmin` connects (on the
 * stack with `--sigv4`, locally with the admin token), with its exit code and standard output.
 */
export function operatorCli(issuer: string, adminToken: string) {
  const connection =
    process.env.DCR_TEST_TARGET === 'stack'
      ? ['--url', issuer, '--sigv4', '--region', 'local']
      : ['--url', issuer, '--token', adminToken];
  return async (...args: string[]) => {
    const out: string[] = [];
    const io: Io = { out: (l) => out.push(l), err: () => {} };
    const code = await main([...args, ...connection], io);
    return { code, out: out.join('\n') };
  };
}
