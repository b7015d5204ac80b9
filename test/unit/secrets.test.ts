import { describe, expect, it } from 'vitest';
import { newClientId, newSecret } from '../../lambdas/core/secrets.js';

describe('secrets', () => {
  it('never repeats across many draws, pool refills included', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      seen.add(newSecret());
      seen.add(newClientId());
    }
    expect(seen.size).toBe(4000);
  });

  // dcr-admin (and any command line) would take `-abc` for an option: 1 id in 64 did.
  it('never hands out a client id starting with a dash', () => {
    const ids = Array.from({ length: 5000 }, () => newClientId());
    expect(ids.filter((id) => id.startsWith('-'))).toEqual([]);
    expect(ids.every((id) => /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/.test(id))).toBe(true);
  });
});
