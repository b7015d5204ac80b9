import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DATA_DIR } from '../../local/embedded-store.js';

describe('the local data folder', () => {
  it('is .dcr-data inside the repository by default (git-ignored), never beside it', () => {
    expect(DEFAULT_DATA_DIR).toBe(join(process.cwd(), '.dcr-data'));
  });

  it('is the same folder in the bundle `npm start` runs', () => {
    // Bundled as `npm start` bundles local/main.ts, then read by plain node from the bundle.
    rmSync('.build/embedded-store.js', { force: true });
    execFileSync(process.execPath, ['local/bundle.mjs', 'local/embedded-store.ts']);
    const printed = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import { DEFAULT_DATA_DIR } from './.build/embedded-store.js'; process.stdout.write(DEFAULT_DATA_DIR);",
      ],
      { encoding: 'utf8' },
    );
    expect(printed).toBe(join(process.cwd(), '.dcr-data'));
  });
});
