import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DATA_DIR } from '../../local/embedded-store.js';

describe('the local data folder', () => {
  it('is .dcr-data inside the repository by default (git-ignored), never beside it', () => {
    expect(DEFAULT_DATA_DIR).toBe(join(process.cwd(), '.dcr-data'));
  });
});
