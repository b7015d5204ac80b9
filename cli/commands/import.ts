import { readFileSync } from 'node:fs';
import {
  ARCHIVE_FORMAT,
  ARCHIVE_VERSION,
  IMPORT_BATCH,
  type ImportCounts,
  isRegistryKey,
} from '../../lambdas/core/operator/registry-archive.js';
import { type Command, CommandError, check, required, UsageError } from '../options.js';

/** A batch's body stays under the admin API's 64 KiB request limit. */
const BATCH_BYTES = 48 * 1024;

/** The file's items, every line checked before anything is sent. */
function readArchive(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const [first = '', ...rest] = text.split('\n');
  const lines = rest.at(-1) === '' ? rest.slice(0, -1) : rest;
  const parse = (line: string, number: number) => {
    try {
      return JSON.parse(line) as unknown;
    } catch {
      throw new UsageError(`${file} line ${number}: not JSON (nothing was imported)`);
    }
  };
  const header = parse(first, 1) as { format?: unknown; version?: unknown } | null;
  if (header?.format !== ARCHIVE_FORMAT || header.version !== ARCHIVE_VERSION)
    throw new UsageError(
      `${file} is not a ${ARCHIVE_FORMAT} export of version ${ARCHIVE_VERSION} (its first line says ${JSON.stringify(first.slice(0, 120))})`,
    );
  return lines.map((line, index) => {
    const item = parse(line, index + 2) as { pk?: unknown } | null;
    if (typeof item?.pk !== 'string' || !isRegistryKey(item.pk))
      throw new UsageError(`${file} line ${index + 2}: not a registry item (nothing was imported)`);
    return line;
  });
}

/** The lines in batches of at most IMPORT_BATCH items and BATCH_BYTES. */
function batchesOf(lines: readonly string[]): string[][] {
  const batches: string[][] = [];
  let batch: string[] = [];
  let bytes = 0;
  for (const line of lines) {
    if (batch.length === IMPORT_BATCH || (batch.length > 0 && bytes + line.length > BATCH_BYTES)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(line);
    bytes += line.length + 1;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/**
 * `import <file>`: restores an export through the admin API, in batches of conditional puts:
 * what exists already is skipped, so a second run (or the rest of an interrupted one) is safe.
 * The server checks every batch first (a dry run: what its readers need, a trusted issuer as
 * its PUT would), so a file with one item it refuses writes nothing.
 */
export const run: Command = async (context) => {
  const { io, json, client } = context;
  const file = required(context, 0, 'the export file to read', 'import');
  const batches = batchesOf(readArchive(file));
  const items = (batch: string[]) => batch.map((l) => JSON.parse(l));
  let line = 2;
  for (const batch of batches) {
    const checked = await client.request('POST', '/import', { items: items(batch), dry_run: true });
    const item = /^item (\d+)\b/.exec(checked.body?.error_description ?? '');
    if (checked.status === 400 && item) {
      throw new CommandError(
        `${file} line ${line + Number(item[1]) - 1}: the server refused it: ${checked.body.error_description} (nothing was imported)`,
      );
    }
    check(checked);
    // A server from before dry runs ignores the flag and restores the batch (conditional puts).
    if (checked.body?.checked !== batch.length) {
      throw new CommandError(
        'the server restored the first batch instead of checking it (a version from before import checks): upgrade the server, then import again (what is there is skipped)',
      );
    }
    line += batch.length;
  }
  const total: ImportCounts = { imported: 0, present: 0, expired: 0 };
  const count = batches.reduce((n, batch) => n + batch.length, 0);
  for (const batch of batches) {
    const { body } = check(await client.request('POST', '/import', { items: items(batch) }));
    for (const key of Object.keys(total) as (keyof ImportCounts)[]) total[key] += body[key];
    if (!json) io.err(`… ${total.imported + total.present + total.expired} of ${count}`);
  }
  if (json) io.out(JSON.stringify(total));
  else
    io.out(
      `imported ${total.imported}, already present ${total.present}, expired (left out) ${total.expired}; run recount-stats to count the clients`,
    );
  return 0;
};
