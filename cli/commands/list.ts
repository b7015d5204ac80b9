import { type Command, check, eachPage, filterOf, wholeNumber } from '../options.js';
import { date, printJson, table } from '../output.js';

/** `list`: the clients matching the filters, a page (`--limit`) or every page (`--all`). */
export const run: Command = async ({ values, io, json, client }) => {
  const filter = filterOf(values);
  const limit = wholeNumber(values, 'limit');
  const clients: Record<string, unknown>[] = [];
  await eachPage(async (cursor) => {
    const query = new URLSearchParams({
      ...filter,
      ...(limit !== undefined && { limit: String(limit) }),
      ...(cursor && { cursor }),
    });
    const { body } = check(await client.request('GET', `/clients?${query}`));
    clients.push(...body.clients);
    if (!values.all && body.next_cursor && !json) io.err('more: --all for every page');
    return values.all ? body.next_cursor : undefined;
  });
  if (json) {
    printJson(io, clients);
    return 0;
  }
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
  ]))
    io.out(line);
  io.out(`${clients.length} client(s)`);
  return 0;
};
