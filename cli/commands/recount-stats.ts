import type { AdminResponse } from '../admin-client.js';
import { type Command, check, eachPage } from '../options.js';
import { printJson } from '../output.js';

/** `recount-stats`: recounts the active clients from the registry, a step at a time. */
export const run: Command = async ({ io, json, client }) => {
  let body: AdminResponse['body'];
  await eachPage(async (cursor) => {
    ({ body } = check(await client.request('POST', '/stats/recount', cursor ? { cursor } : {})));
    if (!json) io.err(`… ${body.counted} client(s) counted${body.next_cursor ? '' : ', done'}`);
    return body.next_cursor;
  });
  if (json) printJson(io, body);
  else io.out(`active clients recounted: ${body.counted}`);
  return 0;
};
