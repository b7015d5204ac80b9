import type { CommandContext } from '../options.js';
import { type Command, check, eachPage, required, UsageError, wholeNumber } from '../options.js';
import { date, printJson, table } from '../output.js';

const PATH = '/initial-access-tokens';

/** `iat create`: a new initial access token, printed this once. */
async function create({ values, io, json, client }: CommandContext): Promise<number> {
  const body = Object.fromEntries(
    Object.entries({
      max_uses: wholeNumber(values, 'max-uses'),
      expires_in: wholeNumber(values, 'expires-in'),
      scope: values.scope,
      software_id: values['software-id'],
      client_lifetime_seconds: wholeNumber(values, 'client-lifetime'),
      max_active_clients: wholeNumber(values, 'max-active-clients'),
      description: values.description,
    }).filter(([, v]) => v !== undefined),
  );
  const { body: created } = check(await client.request('POST', PATH, body));
  if (json) printJson(io, created);
  else {
    io.out(`initial_access_token ${created.initial_access_token}`);
    io.out(`id ${created.id}, expires ${date(created.expires_at)}`);
    io.err('the token is shown this once; present it as Authorization: Bearer to /register');
  }
  return 0;
}

/** `iat list`: the tokens (never the tokens themselves), a page or every page (`--all`). */
async function list({ values, io, json, client }: CommandContext): Promise<number> {
  const tokens: Record<string, unknown>[] = [];
  await eachPage(async (cursor) => {
    const query = cursor ? `?${new URLSearchParams({ cursor })}` : '';
    const { body } = check(await client.request('GET', `${PATH}${query}`));
    tokens.push(...body.initial_access_tokens);
    return values.all ? body.next_cursor : undefined;
  });
  if (json) {
    printJson(io, tokens);
    return 0;
  }
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
  ]))
    io.out(line);
  io.out(`${tokens.length} token(s)`);
  return 0;
}

/** `iat revoke <id>`: `--delete-clients` also deletes every client it registered, in steps. */
async function revoke(context: CommandContext): Promise<number> {
  const tokenId = required(context, 1, 'a token id', 'iat revoke');
  const { values, io, json, client } = context;
  const path = `${PATH}/${encodeURIComponent(tokenId)}`;
  if (!values['delete-clients']) {
    check(await client.request('DELETE', path));
    io.out(json ? JSON.stringify({ revoked: tokenId }) : `revoked ${tokenId}`);
    return 0;
  }
  let deleted = 0;
  await eachPage(async (cursor) => {
    const query = new URLSearchParams({ delete_clients: 'true', ...(cursor && { cursor }) });
    const { body } = check(await client.request('DELETE', `${path}?${query}`));
    deleted += body.deleted_clients;
    return body.next_cursor;
  });
  io.out(
    json
      ? JSON.stringify({ revoked: tokenId, deleted_clients: deleted })
      : `revoked ${tokenId}, deleted ${deleted} client(s)`,
  );
  return 0;
}

const SUBCOMMANDS = new Map<string | undefined, Command>([
  ['create', create],
  ['list', list],
  ['revoke', revoke],
]);

/** `iat create|list|revoke`: the operator's initial access tokens. */
export const run: Command = async (context) => {
  const sub = SUBCOMMANDS.get(context.args[0]);
  if (sub === undefined) throw new UsageError('iat needs create, list or revoke');
  return sub(context);
};
