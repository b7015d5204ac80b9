import { displaySafe } from '../lambdas/core/text.js';

/** Where a command prints: results to `out`, progress and errors to `err`. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
}

export const consoleIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/**
 * Everything printed passes through here: client metadata is the client's own text, and a
 * control character in it must show as an escape, never act on the operator's terminal.
 */
const escaped = (text: string) => text.split('\n').map(displaySafe).join('\n');
export const escapingIo = (io: Io): Io => ({
  out: (text) => io.out(escaped(text)),
  err: (text) => io.err(escaped(text)),
});

/** An instant (epoch seconds) as ISO 8601 UTC to the second; '' when absent. */
export const date = (seconds: unknown) =>
  typeof seconds === 'number' ? new Date(seconds * 1000).toISOString().replace('.000Z', 'Z') : '';

/** Rows as aligned columns under a title line. */
export function table(rows: Record<string, unknown>[], columns: [string, string][]): string[] {
  const cells = rows.map((row) => columns.map(([key]) => displaySafe(String(row[key] ?? ''))));
  const widths = columns.map(([, title], i) =>
    Math.max(title.length, ...cells.map((c) => (c[i] as string).length)),
  );
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  return [line(columns.map(([, t]) => t)), ...cells.map(line)];
}

/**
 * Named values, one per line, the names aligned; a value of several lines (a list read one
 * item at a time) continues under the first.
 */
export function fields(entries: [string, string | string[]][]): string[] {
  const width = Math.max(0, ...entries.map(([name]) => name.length)) + 1;
  return entries.flatMap(([name, value]) => {
    const [first = '', ...more] = Array.isArray(value) ? value : [value];
    return [
      `${name.padEnd(width)} ${first}`,
      ...more.map((line) => `${' '.repeat(width)} ${line}`),
    ];
  });
}

/** Prints the value as indented JSON (for `--json`). */
export const printJson = (io: Io, value: unknown) => io.out(JSON.stringify(value, null, 2));
