import type { parseArgs } from 'node:util';
import type { AdminClient, AdminResponse } from './admin-client.js';
import type { Io } from './output.js';

/** Every option of every command (node:util parseArgs' form); the filters are added below. */
export const OPTIONS = {
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
  jwks: { type: 'boolean' },
  'max-uses': { type: 'string' },
  'expires-in': { type: 'string' },
  scope: { type: 'string' },
  'client-lifetime': { type: 'string' },
  'max-active-clients': { type: 'string' },
  description: { type: 'string' },
  'delete-clients': { type: 'boolean' },
  port: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<Parameters<typeof parseArgs>[0]>['options'];

/** The client filters: option → admin API parameter. */
export const FILTERS = {
  'software-id': 'software_id',
  'name-prefix': 'client_name_prefix',
  method: 'registration_method',
  'initial-access-token': 'initial_access_token_id',
  'created-after': 'created_after',
  'created-before': 'created_before',
  'last-used-after': 'last_used_after',
  'last-used-before': 'last_used_before',
} as const;

/** The filters that take an instant. */
const INSTANT_FILTERS = new Set<string>([
  'created-after',
  'created-before',
  'last-used-after',
  'last-used-before',
]);

export type Values = Partial<Record<string, string | boolean>>;

/** The command line was wrong: exit code 2, with what to fix. */
export class UsageError extends Error {}

/** The server refused the command: exit code 1, with the server's error. */
export class CommandError extends Error {}

/** What a command is given: its arguments after the command name, the options, the admin API. */
export interface CommandContext {
  readonly args: readonly (string | undefined)[];
  readonly values: Values;
  readonly io: Io;
  readonly json: boolean;
  readonly client: AdminClient;
}

/** One command: validates its arguments (UsageError) before any call, returns the exit code. */
export type Command = (context: CommandContext) => Promise<number>;

/** The server's answer, or a CommandError carrying its error. */
export function check(response: AdminResponse): AdminResponse {
  if (response.status >= 400) {
    const detail = response.body?.error_description ?? response.body?.message ?? '';
    const hint =
      response.status === 401 || response.status === 403
        ? ' (check the admin credentials: DCR_ADMIN_TOKEN or --token locally, --sigv4 for a deployed server)'
        : '';
    throw new CommandError(
      `server answered ${response.status} ${response.body?.error ?? ''} ${detail}`.trim() + hint,
    );
  }
  return response;
}

/** A positional argument the command cannot do without. */
export function required(context: CommandContext, index: number, what: string, command: string) {
  const value = context.args[index];
  if (!value) throw new UsageError(`${command} needs ${what}`);
  return value;
}

/** A whole-number option (absent = undefined). */
export function wholeNumber(values: Values, option: string): number | undefined {
  const value = values[option];
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || !Number.isSafeInteger(n))
    throw new UsageError(`--${option} takes a whole number, not ${JSON.stringify(value)}`);
  return n;
}

const INSTANT_FORMS =
  'epoch seconds, a date (2026-11-01) or a date and time with its offset (2026-11-01T12:00:00Z)';
const DATE = /^\d{4}-\d\d-\d\d$/;
const DATE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/;

/** Whether the text is an instant as the admin API reads one (a real date, not just its shape). */
const isInstant = (text: string) =>
  /^\d+$/.test(text) ||
  ((DATE.test(text) || DATE_TIME.test(text)) &&
    !Number.isNaN(Date.parse(DATE.test(text) ? `${text}T00:00:00Z` : text)) &&
    // Date.parse rolls 2026-02-30 over to March: the day must survive the round trip.
    new Date(Date.parse(`${text.slice(0, 10)}T00:00:00Z`)).toISOString().slice(0, 10) ===
      text.slice(0, 10));

/** The filter options given, as admin API parameters; a malformed instant is a UsageError. */
export function filterOf(values: Values): Record<string, string> {
  return Object.fromEntries(
    Object.entries(FILTERS).flatMap(([option, param]) => {
      const value = values[option];
      if (typeof value !== 'string') return [];
      if (INSTANT_FILTERS.has(option) && !isInstant(value))
        throw new UsageError(`--${option} ${value} is not an instant: use ${INSTANT_FORMS}`);
      return [[param, value]];
    }),
  );
}

/** Follows `next_cursor` from page to page, calling `step` with each cursor until the last. */
export async function eachPage(
  step: (cursor: string | undefined) => Promise<string | undefined>,
): Promise<void> {
  let cursor: string | undefined;
  do cursor = await step(cursor);
  while (cursor);
}
