import { type Command, check, required } from '../options.js';

/** `delete <client_id>`: deletes the client as the operator. */
export const run: Command = async (context) => {
  const id = required(context, 0, 'a client_id', 'delete');
  check(await context.client.request('DELETE', `/clients/${encodeURIComponent(id)}`));
  context.io.out(context.json ? JSON.stringify({ deleted: id }) : `deleted ${id}`);
  return 0;
};
