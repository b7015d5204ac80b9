import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A secret kept in the local data folder: the file's content if it exists, else `generate()`'s,
 * written first (folder mode 0700, file mode 0600, never over an existing file).
 */
export function keptInDataFolder(
  dataDir: string,
  fileName: string,
  generate: () => string | Uint8Array,
): Buffer {
  const file = join(dataDir, fileName);
  if (existsSync(file)) return readFileSync(file);
  const content = generate();
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, content, { mode: 0o600, flag: 'wx' });
  return Buffer.from(content);
}
