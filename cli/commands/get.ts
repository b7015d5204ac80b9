import type { KeyDescription } from '../../lambdas/core/operator/admin.js';
import type { ClientHealth } from '../../lambdas/core/operator/client-health.js';
import { type Command, check, required } from '../options.js';
import { date, fields, printJson } from '../output.js';

/** The members that are instants (epoch seconds), printed as ISO dates. */
const INSTANTS = new Set([
  'client_id_issued_at',
  'last_used_at',
  'expires_at',
  'active_until',
  'client_secret_expires_at',
]);

/** One member of the client view, as text: instants as dates, lists one item a line. */
function shown(name: string, value: unknown): string | string[] {
  if (INSTANTS.has(name)) return value === 0 ? 'never' : date(value);
  if (name === 'last_change') {
    const change = value as { at: number; actor?: string; source_ip?: string };
    return `${date(change.at)}${change.actor ? ` by ${change.actor}` : ''}${change.source_ip ? ` from ${change.source_ip}` : ''}`;
  }
  if (name === 'jwks_keys') {
    const keys = value as KeyDescription[];
    const described = keys.map(
      (k) => `${k.kid ?? '(no kid)'} (${[k.kty, k.crv, k.alg].filter(Boolean).join(' ')})`,
    );
    return `${keys.length} key${keys.length === 1 ? '' : 's'}: ${described.join(', ')}`;
  }
  if (name === 'redirect_uris') return value as string[];
  if (name === 'health') return healthLines(value as ClientHealth);
  if (Array.isArray(value)) return value.join(' ');
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/** docs/operations.md "Client health", one figure a line. */
function healthLines(health: ClientHealth): string[] {
  const repeats = health.same_metadata_registrations ?? 1;
  return [
    `refresh tokens never used: ${health.refresh_tokens_never_used}`,
    `refresh reuse absorbed: ${health.refresh_reuse_absorbed}`,
    `refresh families revoked by reuse: ${health.refresh_families_revoked_by_reuse}`,
    ...(health.metadata_fingerprint === undefined
      ? []
      : [
          repeats > 1
            ? `same metadata registered: ${repeats} times since ${date(health.same_metadata_since)}, last ${date(health.same_metadata_last_at)}`
            : 'same metadata registered: once',
        ]),
  ];
}

/**
 * `get <client_id>`: every non-secret member of the client, where its codes go (redirect hosts,
 * then each redirect URI) right under its name; `--jwks` prints its registered key set too.
 */
export const run: Command = async (context) => {
  const id = required(context, 0, 'a client_id', 'get');
  const query = context.values.jwks ? '?jwks=full' : '';
  const { body } = check(
    await context.client.request('GET', `/clients/${encodeURIComponent(id)}${query}`),
  );
  if (context.json) {
    printJson(context.io, body);
    return 0;
  }
  const entries = Object.entries(body as Record<string, unknown>).map(
    ([name, value]): [string, string | string[]] => [
      name === 'jwks_keys' ? 'jwks' : name,
      shown(name, value),
    ],
  );
  for (const line of fields(entries)) context.io.out(line);
  return 0;
};
