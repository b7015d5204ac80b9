import { type Command, check, eachPage, required } from '../options.js';

/** `block-software <software_id>`: the kill switch; `--delete-clients` deletes its clients too. */
export const run: Command = async (context) => {
  const id = required(context, 0, 'a software_id', 'block-software');
  const { values, io, json, client } = context;
  const deleteClients = Boolean(values['delete-clients']);
  let deleted = 0;
  await eachPage(async (cursor) => {
    const { body } = check(
      await client.request('POST', '/blocked-software-ids', {
        software_id: id,
        delete_clients: deleteClients,
        ...(cursor && { cursor }),
      }),
    );
    deleted += body.clients?.deleted ?? 0;
    const next = body.clients?.next_cursor;
    if (deleteClients && !json)
      io.err(`… ${deleted} client(s) deleted so far${next ? '' : ', done'}`);
    return next;
  });
  if (json)
    io.out(JSON.stringify({ software_id: id, blocked: true, ...(deleteClients && { deleted }) }));
  else
    io.out(
      `blocked ${id}${deleteClients ? `; deleted ${deleted} client(s)` : ' (its clients are kept: --delete-clients deletes them)'}`,
    );
  return 0;
};
