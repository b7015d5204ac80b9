import { type Command, check, eachPage } from '../options.js';
import { date, printJson, table } from '../output.js';

/** `blocked`: the blocked software_ids, with when, by whom and from where each was blocked. */
export const run: Command = async ({ io, json, client }) => {
  const blocked: Record<string, unknown>[] = [];
  await eachPage(async (cursor) => {
    const query = new URLSearchParams(cursor ? { cursor } : {});
    const { body } = check(await client.request('GET', `/blocked-software-ids?${query}`));
    blocked.push(...body.blocked_software_ids);
    return body.next_cursor;
  });
  if (json) {
    printJson(io, blocked);
    return 0;
  }
  const rows = blocked.map((b) => ({ ...b, blocked_at: date(b.blocked_at) }));
  for (const line of table(rows, [
    ['software_id', 'SOFTWARE ID'],
    ['blocked_at', 'BLOCKED'],
    ['blocked_by', 'BY'],
    ['source_ip', 'FROM'],
  ]))
    io.out(line);
  io.out(`${blocked.length} blocked software_id(s)`);
  return 0;
};
