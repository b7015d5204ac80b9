import { type Command, check, wholeNumber } from '../options.js';
import { date, printJson, table } from '../output.js';

/** `stats`: active clients by registration method, and the changes of each of the last days. */
export const run: Command = async ({ values, io, json, client }) => {
  const days = wholeNumber(values, 'days');
  const query = days === undefined ? '' : `?${new URLSearchParams({ days: String(days) })}`;
  const { body } = check(await client.request('GET', `/stats${query}`));
  if (json) {
    printJson(io, body);
    return 0;
  }
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
  ]))
    io.out(line);
  return 0;
};
