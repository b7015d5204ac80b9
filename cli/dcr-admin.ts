import { parseArgs } from 'node:util';
import { AdminClient } from './admin-client.js';
import { type Command, FILTERS, OPTIONS, UsageError, type Values } from './options.js';
import { consoleIo, escapingIo, type Io } from './output.js';

export type { Io } from './output.js';

const USAGE = `dcr-admin — the operator's registry of serverless-dcr

usage: dcr-admin <command> [options]

commands:
  list                       list clients (filters below; --limit N, --all for every page)
  get <client_id>            one client: where its codes go (redirect hosts and URIs), grant
                             types, auth method, keys, contacts, who registered it; never its
                             secrets (--jwks prints its registered key set)
  delete <client_id>         delete a client as the operator
  bulk-delete                delete every client matching the filters: a dry run unless --yes
  rotate-secret <client_id>  issue a new secret; --grace SECONDS keeps the old one working
  stats                      active clients by registration method; registrations, updates,
                             rotations, deletions and expiries per day (--days N, default 30)
  block-software <software_id>
                             the kill switch: the software can no longer register (by
                             statement or by body); --delete-clients deletes its clients too
  unblock-software <software_id>
                             lets the software register again
  blocked                    the blocked software_ids: when, by whom, from where
  recount-stats              recount the active clients from the registry itself (after an
                             upgrade, or to correct drift): a walk in steps, with progress
  iat create                 issue an initial access token, printed once: --max-uses N
                             --expires-in SECONDS --scope "a b" --software-id ID
                             --client-lifetime SECONDS --max-active-clients N
                             --description TEXT
  iat list                   initial access tokens (never the tokens themselves; --all)
  iat revoke <id>            revoke one; --delete-clients also deletes every client it registered
  trusted-issuers list       the token issuers whose JWTs are exchanged here (jwt-bearer):
                             configured ones (read-only here) and stored ones
  trusted-issuers get <iss>  one issuer's definition, as JSON
  trusted-issuers put <iss> <file>
                             add or replace a stored issuer from a JSON file (- = stdin): one
                             value of DCR_TRUSTED_ISSUERS; the server checks it
  trusted-issuers delete <iss>
                             remove a stored issuer (its workloads' tokens stop being granted)
  export <file>              the registry (clients, refresh token families, initial access
                             tokens, blocked software_ids, stored trusted issuers; secrets
                             only as hashes) as JSON lines, read from the running server:
                             an online backup
  import <file>              load an export into this server's store (a deployed one: --sigv4);
                             skips what exists, so it can be run again or resumed
  dashboard                  serve the registry dashboard on 127.0.0.1 over this admin API
                             (--port N, default any free port); prints the URL to open,
                             runs until Ctrl-C

filters: --software-id ID --name-prefix P --method M --initial-access-token ID
         --created-after T --created-before T
         --last-used-after T --last-used-before T
         (T: epoch seconds, a date 2026-11-01, or a date and time 2026-11-01T12:00:00Z)

connection:
  --url URL        the server (default $DCR_ADMIN_URL, else http://127.0.0.1:3000)
  --token TOKEN    local server: the admin bearer token (default $DCR_ADMIN_TOKEN)
  --sigv4          deployed server: sign with IAM credentials from the standard chain
  --region R       region for --sigv4 (default $AWS_REGION)
  --json           machine-readable output

exit codes: 0 done, 1 failed (the server's error, or why it could not be reached), 2 usage
`;

/** Each command's module, loaded only when it runs: a call loads what it uses and no more. */
const COMMANDS = new Map<string, () => Promise<{ run: Command }>>([
  ['list', () => import('./commands/list.js')],
  ['get', () => import('./commands/get.js')],
  ['delete', () => import('./commands/delete.js')],
  ['bulk-delete', () => import('./commands/bulk-delete.js')],
  ['rotate-secret', () => import('./commands/rotate-secret.js')],
  ['stats', () => import('./commands/stats.js')],
  ['block-software', () => import('./commands/block-software.js')],
  ['unblock-software', () => import('./commands/unblock-software.js')],
  ['blocked', () => import('./commands/blocked.js')],
  ['recount-stats', () => import('./commands/recount-stats.js')],
  ['iat', () => import('./commands/iat.js')],
  ['trusted-issuers', () => import('./commands/trusted-issuers.js')],
  ['dashboard', () => import('./commands/dashboard.js')],
  ['export', () => import('./commands/export.js')],
  ['import', () => import('./commands/import.js')],
]);

/** The admin API as the connection options and environment say; a UsageError if they cannot. */
function connect(values: Values): AdminClient {
  const url =
    (values.url as string | undefined) ?? process.env.DCR_ADMIN_URL ?? 'http://127.0.0.1:3000';
  if (values.sigv4) {
    const region = (values.region as string | undefined) ?? process.env.AWS_REGION;
    if (!region) throw new UsageError('--sigv4 needs --region or AWS_REGION');
    return new AdminClient({ url, sigv4: { region } });
  }
  const token = (values.token as string | undefined) ?? process.env.DCR_ADMIN_TOKEN;
  if (!token)
    throw new UsageError(
      'no admin token: set DCR_ADMIN_TOKEN or pass --token (a deployed server: --sigv4 --region R)',
    );
  return new AdminClient({ url, token });
}

/** Runs one command; returns the process exit code (0 ok, 1 failed, 2 usage). */
export async function main(argv: string[], rawIo: Io = consoleIo): Promise<number> {
  const io = escapingIo(rawIo);
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        ...OPTIONS,
        ...Object.fromEntries(Object.keys(FILTERS).map((k) => [k, { type: 'string' as const }])),
      },
    });
    const [command, ...args] = positionals;
    if (values.help || command === undefined) {
      (values.help ? io.out : io.err)(USAGE);
      return values.help ? 0 : 2;
    }
    const load = COMMANDS.get(command);
    if (load === undefined) throw new UsageError(`unknown command ${command}`);
    const client = connect(values);
    const { run } = await load();
    return await run({ args, values, io, json: Boolean(values.json), client });
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      io.err(`dcr-admin: ${(error as Error).message}\n(dcr-admin --help for usage)`);
      return 2;
    }
    // The server's refusal (CommandError), no server (AdminUnreachable), no AWS credentials.
    io.err(`dcr-admin: ${(error as Error).message}`);
    return 1;
  }
}
