import { type Command, check, eachPage, filterOf } from '../options.js';

/** `bulk-delete`: every client matching the filters, a dry run (a count) unless `--yes`. */
export const run: Command = async ({ values, io, json, client }) => {
  const filter = filterOf(values);
  const dryRun = !values.yes;
  let matched = 0;
  await eachPage(async (cursor) => {
    const { body } = check(
      await client.request('POST', '/bulk-delete', {
        ...filter,
        dry_run: dryRun,
        ...(cursor && { cursor }),
      }),
    );
    matched += body.matched;
    if (!json)
      io.err(
        `… ${matched} ${dryRun ? 'matching' : 'deleted'} so far${body.next_cursor ? '' : ', done'}`,
      );
    return body.next_cursor;
  });
  if (json)
    io.out(JSON.stringify({ matched, dry_run: dryRun, ...(!dryRun && { deleted: matched }) }));
  else
    io.out(
      dryRun
        ? `${matched} client(s) match; run again with --yes to delete them`
        : `deleted ${matched} client(s)`,
    );
  return 0;
};
