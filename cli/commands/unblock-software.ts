import { type Command, check, required } from '../options.js';

/** `unblock-software <software_id>`: the software may register again. */
export const run: Command = async (context) => {
  const id = required(context, 0, 'a software_id', 'unblock-software');
  check(await context.client.request('DELETE', `/blocked-software-ids/${encodeURIComponent(id)}`));
  context.io.out(
    context.json ? JSON.stringify({ software_id: id, blocked: false }) : `unblocked ${id}`,
  );
  return 0;
};
