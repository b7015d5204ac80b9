import { parseArgs } from 'node:util';
import { displaySafe } from '../lambdas/core/text.js';
import { AdminClient, type AdminResponse } from './admin-client.js';
import { startDashboard } from './dashboard.js';

const USAGE = `dcr-admin — the operator's registry of serverless-dcr

usage: dcr-admin <command> [options]

commands:
  list                       list clients (filters below; --limit N, --all for every page)
  get <client_id>            one client (never its secrets)
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
  recount-stats              recount the active clients from the registry itself (after an
                             upgrade, or to correct drift): a walk in steps, with progress
  iat create                 issue an initial access token, printed once: --max-uses N
                             --expires-in SECONDS --scope "a b" --software-id ID
                             --client-lifetime SECONDS --max-active-clients N
                             --description TEXT
  iat list                   initial access tokens (never the tokens themselves; --all)
  iat revoke <id>            revoke one; --delete-clients also deletes every client it registered
  dashboard                  serve the registry dashboard on 127.0.0.1 over this admin API
                             (--port N, default any free port); prints the URL to open,
                             runs until Ctrl-C

filters: --software-id ID --name-prefix P --method M --initial-access-token ID
         --created-after T --created-before T
         --last-used-after T --last-used-before T   (T: epoch seconds or an ISO date/time)

connection:
  --url URL        the server (default $DCR_ADMIN_URL, else http://127.0.0.1:3000)
  --token TOKEN    local server: the admin bearer token (default $DCR_ADMIN_TOKEN)
  --sigv4          deployed server: sign with IAM credentials from the standard chain
  --region R       region for --sigv4 (default $AWS_REGION)
  --json           machine-readable output
`;

const FILTERS = {
  'software-id': 'software_id',
  'name-prefix': 'client_name_prefix',
  method: 'registration_method',
  'initial-access-token': 'initial_access_token_id',
  'created-after': 'created_after',
  'created-before': 'created_before',
  'last-used-after': 'last_used_after',
  'last-used-before': 'last_used_before',
} as const;

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

const consoleIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

const date = (seconds: unknown) =>
  typeof seconds === 'number' ? new Date(seconds * 1000).toISOString().replace('.000Z', 'Z') : '';

function table(rows: Record<string, unknown>[], columns: [string, string][]): string[] {
  const cells = rows.map((row) => columns.map(([key]) => displaySafe(String(row[key] ?? ''))));
  const widths = columns.map(([, title], i) =>
    Math.max(title.length, ...cells.map((c) => (c[i] as string).length)),
  );
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  return [line(columns.map(([, t]) => t)), ...cells.map(line)];
}

class CommandError extends Error {}

function check(response: AdminResponse): AdminResponse {
  if (response.status >= 400) {
    const detail = response.body?.error_description ?? response.body?.message ?? '';
    throw new CommandError(
      `server answered ${response.status} ${response.body?.error ?? ''} ${detail}`.trim(),
    );
  }
  return response;
}

/** Runs one command; returns the process exit code (0 ok, 1 failed, 2 usage). */
/**
 * Everything printed passes through here: client metadata is the client's own text, and a
 * control character in it must show as an escape, never act on the operator's terminal.
 */
const escaped = (text: string) => text.split('\n').map(displaySafe).join('\n');
const escapingIo = (io: Io): Io => ({
  out: (text) => io.out(escaped(text)),
  err: (text) => io.err(escaped(text)),
});

export async function main(argv: string[], rawIo: Io = consoleIo): Promise<number> {
  const io = escapingIo(rawIo);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        sigv4: { type: 'boolean' },
        region: { type: 'string' },
        json: { type: 'boolean' },
        limit: { type: 'string' },
        all: { type: 'boolean' },
        yes: { type: 'boolean' },
        grace: { type: 'string' },
        days: { type: 'string' },
        'max-uses': { type: 'string' },
        'expires-in': { type: 'string' },
        scope: { type: 'string' },
        'client-lifetime': { type: 'string' },
        'max-active-clients': { type: 'string' },
        description: { type: 'string' },
        'delete-clients': { type: 'boolean' },
        port: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(Object.keys(FILTERS).map((k) => [k, { type: 'string' as const }])),
      },
    });
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, id] = positionals;
  if (values.help || !command) {
    (values.help ? io.out : io.err)(USAGE);
    return values.help ? 0 : 2;
  }
  const region = (values.region as string | undefined) ?? process.env.AWS_REGION;
  if (values.sigv4 && !region) {
    io.err('--sigv4 needs --region or AWS_REGION');
    return 2;
  }
  const client = new AdminClient({
    url: (values.url as string | undefined) ?? process.env.DCR_ADMIN_URL ?? 'http://127.0.0.1:3000',
    ...(values.sigv4
      ? { sigv4: { region: region as string } }
      : { token: (values.token as string | undefined) ?? process.env.DCR_ADMIN_TOKEN ?? '' }),
  });
  const json = Boolean(values.json);
  const filter = Object.fromEntries(
    Object.entries(FILTERS).flatMap(([option, param]) =>
      values[option] === undefined ? [] : [[param, values[option] as string]],
    ),
  );
  const needId = () => {
    if (!id) throw new CommandError(`${command} needs a client_id`);
    return encodeURIComponent(id);
  };

  try {
    switch (command) {
      case 'list': {
        const clients: Record<string, unknown>[] = [];
        let cursor: string | undefined;
        do {
          const query = new URLSearchParams({
            ...filter,
            ...(values.limit ? { limit: values.limit as string } : {}),
            ...(cursor ? { cursor } : {}),
          });
          const { body } = check(await client.request('GET', `/clients?${query}`));
          clients.push(...body.clients);
          cursor = values.all ? body.next_cursor : undefined;
          if (!values.all && body.next_cursor && !json) io.err(`more: --all for every page`);
        } while (cursor);
        if (json) io.out(JSON.stringify(clients, null, 2));
        else {
          const rows = clients.map((c) => ({
            ...c,
            client_id_issued_at: date(c.client_id_issued_at),
            last_used_at: date(c.last_used_at),
            active_until: date(c.active_until),
          }));
          for (const line of table(rows, [
            ['client_id', 'CLIENT ID'],
            ['client_name', 'NAME'],
            ['software_id', 'SOFTWARE'],
            ['registration_method', 'METHOD'],
            ['client_id_issued_at', 'REGISTERED'],
            ['last_used_at', 'LAST USED'],
            ['active_until', 'EXPIRES'],
          ])) {
            io.out(line);
          }
          io.out(`${clients.length} client(s)`);
        }
        return 0;
      }
      case 'get': {
        const { body } = check(await client.request('GET', `/clients/${needId()}`));
        if (json) io.out(JSON.stringify(body, null, 2));
        else
          for (const [k, v] of Object.entries(body))
            io.out(`${k.padEnd(26)} ${Array.isArray(v) ? v.join(' ') : String(v)}`);
        return 0;
      }
      case 'delete': {
        check(await client.request('DELETE', `/clients/${needId()}`));
        io.out(json ? JSON.stringify({ deleted: id }) : `deleted ${id}`);
        return 0;
      }
      case 'bulk-delete': {
        const dryRun = !values.yes;
        let matched = 0;
        let cursor: string | undefined;
        do {
          const { body } = check(
            await client.request('POST', '/bulk-delete', {
              ...filter,
              dry_run: dryRun,
              ...(cursor && { cursor }),
            }),
          );
          matched += body.matched;
          cursor = body.next_cursor;
          if (!json)
            io.err(
              `… ${matched} ${dryRun ? 'matching' : 'deleted'} so far${cursor ? '' : ', done'}`,
            );
        } while (cursor);
        if (json)
          io.out(
            JSON.stringify({ matched, dry_run: dryRun, ...(!dryRun && { deleted: matched }) }),
          );
        else
          io.out(
            dryRun
              ? `${matched} client(s) match; run again with --yes to delete them`
              : `deleted ${matched} client(s)`,
          );
        return 0;
      }
      case 'rotate-secret': {
        const grace = Number(values.grace ?? 0);
        if (!Number.isInteger(grace) || grace < 0)
          throw new CommandError('--grace takes whole seconds');
        const { body } = check(
          await client.request('POST', `/clients/${needId()}/rotate-secret`, {
            grace_period_seconds: grace,
          }),
        );
        if (json) io.out(JSON.stringify(body, null, 2));
        else {
          io.out(`client_secret ${body.client_secret}`);
          io.out(
            body.previous_secret_valid_until
              ? `the previous secret works until ${date(body.previous_secret_valid_until)}`
              : 'the previous secret no longer works',
          );
        }
        return 0;
      }
      case 'stats': {
        const query = values.days ? `?${new URLSearchParams({ days: values.days as string })}` : '';
        const { body } = check(await client.request('GET', `/stats${query}`));
        if (json) io.out(JSON.stringify(body, null, 2));
        else {
          io.out(`active clients: ${body.active_clients}`);
          for (const [method, n] of Object.entries(body.active_clients_by_registration_method))
            io.out(`  ${method}: ${n}`);
          if (body.counting_since) io.out(`counted since ${date(body.counting_since)}`);
          const active = (body.per_day as Record<string, unknown>[]).filter((d) =>
            Object.entries(d).some(([k, v]) => k !== 'day' && typeof v === 'number' && v > 0),
          );
          for (const line of table(active, [
            ['day', 'DAY'],
            ['registered', 'REGISTERED'],
            ['updated', 'UPDATED'],
            ['secret_rotated', 'ROTATED'],
            ['deleted_by_client', 'DELETED BY CLIENT'],
            ['deleted_by_operator', 'DELETED BY OPERATOR'],
            ['expired', 'EXPIRED'],
          ])) {
            io.out(line);
          }
        }
        return 0;
      }
      case 'block-software': {
        if (!id) throw new CommandError('block-software needs a software_id');
        const deleteClients = Boolean(values['delete-clients']);
        let deleted = 0;
        let cursor: string | undefined;
        do {
          const { body } = check(
            await client.request('POST', '/blocked-software-ids', {
              software_id: id,
              delete_clients: deleteClients,
              ...(cursor && { cursor }),
            }),
          );
          deleted += body.clients?.deleted ?? 0;
          cursor = body.clients?.next_cursor;
          if (deleteClients && !json)
            io.err(`… ${deleted} client(s) deleted so far${cursor ? '' : ', done'}`);
        } while (cursor);
        if (json)
          io.out(
            JSON.stringify({ software_id: id, blocked: true, ...(deleteClients && { deleted }) }),
          );
        else
          io.out(
            `blocked ${id}${deleteClients ? `; deleted ${deleted} client(s)` : ' (its clients are kept: --delete-clients deletes them)'}`,
          );
        return 0;
      }
      case 'unblock-software': {
        if (!id) throw new CommandError('unblock-software needs a software_id');
        check(await client.request('DELETE', `/blocked-software-ids/${encodeURIComponent(id)}`));
        io.out(json ? JSON.stringify({ software_id: id, blocked: false }) : `unblocked ${id}`);
        return 0;
      }
      case 'recount-stats': {
        let body: AdminResponse['body'];
        let cursor: string | undefined;
        do {
          ({ body } = check(
            await client.request('POST', '/stats/recount', cursor ? { cursor } : {}),
          ));
          cursor = body.next_cursor;
          if (!json) io.err(`… ${body.counted} client(s) counted${cursor ? '' : ', done'}`);
        } while (cursor);
        if (json) io.out(JSON.stringify(body, null, 2));
        else io.out(`active clients recounted: ${body.counted}`);
        return 0;
      }
      case 'iat':
        return await initialAccessTokens(client, id, positionals[2], values, io, json);
      case 'dashboard': {
        const running = await startDashboard(client, {
          port: wholeNumber('port', values.port) ?? 0,
        });
        io.out(`dcr-admin dashboard: open ${running.signInUrl}`);
        io.out('(the link signs this browser in; keep it to yourself). Ctrl-C stops it.');
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await running.close();
        return 0;
      }
      default:
        io.err(`unknown command ${command}\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    io.err(
      `dcr-admin: ${error instanceof CommandError ? error.message : `cannot reach the server: ${(error as Error).message}`}`,
    );
    return 1;
  }
}

const wholeNumber = (option: string, value: unknown): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new CommandError(`--${option} takes a whole number`);
  return n;
};

/** `iat create|list|revoke`: the operator's initial access tokens. */
async function initialAccessTokens(
  client: AdminClient,
  sub: string | undefined,
  tokenId: string | undefined,
  values: Record<string, string | boolean | (string | boolean)[] | undefined>,
  io: Io,
  json: boolean,
): Promise<number> {
  switch (sub) {
    case 'create': {
      const body = Object.fromEntries(
        Object.entries({
          max_uses: wholeNumber('max-uses', values['max-uses']),
          expires_in: wholeNumber('expires-in', values['expires-in']),
          scope: values.scope,
          software_id: values['software-id'],
          client_lifetime_seconds: wholeNumber('client-lifetime', values['client-lifetime']),
          max_active_clients: wholeNumber('max-active-clients', values['max-active-clients']),
          description: values.description,
        }).filter(([, v]) => v !== undefined),
      );
      const { body: created } = check(await client.request('POST', '/initial-access-tokens', body));
      if (json) io.out(JSON.stringify(created, null, 2));
      else {
        io.out(`initial_access_token ${created.initial_access_token}`);
        io.out(`id ${created.id}, expires ${date(created.expires_at)}`);
        io.err('the token is shown this once; present it as Authorization: Bearer to /register');
      }
      return 0;
    }
    case 'list': {
      const tokens: Record<string, unknown>[] = [];
      let cursor: string | undefined;
      do {
        const query = cursor ? `?${new URLSearchParams({ cursor })}` : '';
        const { body } = check(await client.request('GET', `/initial-access-tokens${query}`));
        tokens.push(...body.initial_access_tokens);
        cursor = values.all ? body.next_cursor : undefined;
      } while (cursor);
      if (json) io.out(JSON.stringify(tokens, null, 2));
      else {
        const rows = tokens.map((t) => ({
          ...t,
          uses: `${t.uses}/${t.max_uses ?? '∞'}`,
          active: `${t.active_clients}/${t.max_active_clients ?? '∞'}`,
          expires_at: date(t.expires_at),
        }));
        for (const line of table(rows, [
          ['id', 'ID'],
          ['status', 'STATUS'],
          ['uses', 'USES'],
          ['active', 'ACTIVE'],
          ['scope', 'SCOPE'],
          ['software_id', 'SOFTWARE'],
          ['expires_at', 'EXPIRES'],
          ['description', 'DESCRIPTION'],
        ])) {
          io.out(line);
        }
        io.out(`${tokens.length} token(s)`);
      }
      return 0;
    }
    case 'revoke': {
      if (!tokenId) throw new CommandError('iat revoke needs a token id');
      const path = `/initial-access-tokens/${encodeURIComponent(tokenId)}`;
      if (!values['delete-clients']) {
        check(await client.request('DELETE', path));
        io.out(json ? JSON.stringify({ revoked: tokenId }) : `revoked ${tokenId}`);
        return 0;
      }
      let deleted = 0;
      let cursor: string | undefined;
      do {
        const query = new URLSearchParams({ delete_clients: 'true', ...(cursor && { cursor }) });
        const { body } = check(await client.request('DELETE', `${path}?${query}`));
        deleted += body.deleted_clients;
        cursor = body.next_cursor;
      } while (cursor);
      io.out(
        json
          ? JSON.stringify({ revoked: tokenId, deleted_clients: deleted })
          : `revoked ${tokenId}, deleted ${deleted} client(s)`,
      );
      return 0;
    }
    default:
      throw new CommandError('iat needs create, list or revoke');
  }
}
