import { readFileSync } from 'node:fs';
import { JsonText } from '../admin-client.js';
import {
  type Command,
  type CommandContext,
  check,
  eachPage,
  required,
  UsageError,
} from '../options.js';
import { date, printJson, table } from '../output.js';

const PATH = '/trusted-issuers';
const pathOf = (issuer: string) => `${PATH}/${encodeURIComponent(issuer)}`;

/** Where an issuer's keys come from, in a table cell. */
const keysOf = (issuer: Record<string, unknown>) =>
  typeof issuer.jwks_uri === 'string'
    ? issuer.jwks_uri
    : `inline (${(issuer.jwks as { keys?: unknown[] } | undefined)?.keys?.length ?? 0} key(s))`;

/** `trusted-issuers list`: configured and stored issuers, with kind, keys and rules. */
async function list({ io, json, client }: CommandContext): Promise<number> {
  const issuers: Record<string, unknown>[] = [];
  await eachPage(async (cursor) => {
    const query = cursor ? `?${new URLSearchParams({ cursor })}` : '';
    const { body } = check(await client.request('GET', `${PATH}${query}`));
    issuers.push(...body.trusted_issuers);
    return body.next_cursor;
  });
  if (json) {
    printJson(io, issuers);
    return 0;
  }
  const rows = issuers.map((i) => ({
    ...i,
    keys: keysOf(i),
    rules: (i.rules as unknown[] | undefined)?.length ?? 0,
    updated_at: date(i.updated_at),
  }));
  for (const line of table(rows, [
    ['issuer', 'ISSUER'],
    ['source', 'SOURCE'],
    ['kind', 'KIND'],
    ['keys', 'KEYS'],
    ['rules', 'RULES'],
    ['updated_at', 'UPDATED'],
  ]))
    io.out(line);
  io.out(`${issuers.length} trusted issuer(s)`);
  return 0;
}

/** `trusted-issuers get <iss>`: one issuer's definition, as JSON. */
async function get(context: CommandContext): Promise<number> {
  const issuer = required(context, 1, 'an issuer (its iss URL)', 'trusted-issuers get');
  printJson(context.io, check(await context.client.request('GET', pathOf(issuer))).body);
  return 0;
}

/**
 * `trusted-issuers put <iss> <file>`: creates or replaces a stored issuer from a JSON file (`-`:
 * standard input), the same JSON as one value of DCR_TRUSTED_ISSUERS; the server checks it.
 */
async function put(context: CommandContext): Promise<number> {
  const issuer = required(context, 1, 'an issuer (its iss URL)', 'trusted-issuers put');
  const file = required(context, 2, 'a JSON file (- for standard input)', 'trusted-issuers put');
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const response = check(await context.client.request('PUT', pathOf(issuer), new JsonText(text)));
  const done = response.status === 201 ? 'created' : 'replaced';
  context.io.out(
    context.json ? JSON.stringify({ issuer, [done]: true }) : `${done} trusted issuer ${issuer}`,
  );
  return 0;
}

/** `trusted-issuers delete <iss>`: removes a stored issuer (a configured one is refused). */
async function remove(context: CommandContext): Promise<number> {
  const issuer = required(context, 1, 'an issuer (its iss URL)', 'trusted-issuers delete');
  check(await context.client.request('DELETE', pathOf(issuer)));
  context.io.out(
    context.json ? JSON.stringify({ issuer, deleted: true }) : `deleted trusted issuer ${issuer}`,
  );
  return 0;
}

const SUBCOMMANDS = new Map<string | undefined, Command>([
  ['list', list],
  ['get', get],
  ['put', put],
  ['delete', remove],
]);

/** `trusted-issuers list|get|put|delete`: the token issuers whose JWTs are exchanged here. */
export const run: Command = async (context) => {
  const sub = SUBCOMMANDS.get(context.args[0]);
  if (sub === undefined) throw new UsageError('trusted-issuers needs list, get, put or delete');
  return sub(context);
};
