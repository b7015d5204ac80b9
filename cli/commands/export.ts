import { renameSync, writeFileSync } from 'node:fs';
import {
  ARCHIVE_FORMAT,
  ARCHIVE_VERSION,
  type RegistryItem,
} from '../../lambdas/core/operator/registry-archive.js';
import { type Command, check, eachPage, required } from '../options.js';

/**
 * `export <file>`: the registry's items as JSON lines behind a header line, read page by page
 * from the running server (an online backup). Written beside the file first, then renamed: a
 * file of that name is always a whole export.
 */
export const run: Command = async (context) => {
  const { io, client } = context;
  const file = required(context, 0, 'the file to write', 'export');
  const exportedAt = Math.floor(Date.now() / 1000);
  const items: RegistryItem[] = [];
  await eachPage(async (cursor) => {
    const query = new URLSearchParams(cursor ? { cursor } : {});
    const { body } = check(await client.request('GET', `/export?${query}`));
    items.push(...body.items);
    return body.next_cursor;
  });
  const counts: Record<string, number> = {};
  for (const { pk } of items) {
    const kind = pk.slice(0, pk.indexOf('#'));
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  const header = {
    format: ARCHIVE_FORMAT,
    version: ARCHIVE_VERSION,
    issuer: client.url,
    exported_at: exportedAt,
    counts,
  };
  const lines = [header, ...items].map((line) => `${JSON.stringify(line)}\n`);
  // Hashes only, but still the registry: readable by this user alone.
  writeFileSync(`${file}.partial`, lines.join(''), { mode: 0o600 });
  renameSync(`${file}.partial`, file);
  io.out(
    `exported ${items.length} item(s) to ${file}: ${Object.entries(counts)
      .map(([kind, n]) => `${kind} ${n}`)
      .join(', ')}`,
  );
  return 0;
};
