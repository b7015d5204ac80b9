import { describe, expect, it } from 'vitest';
import { s256 } from '../../lambdas/core/authorization/pkce.js';
import {
  hashMatches,
  hashSecret,
  newClientId,
  newSecret,
  randomBytesFromPool,
  secretMatches,
} from '../../lambdas/core/secrets.js';

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

  // IVs of AES-GCM must never repeat under one key, and the bytes handed out stay the caller's.
  it('hands out random bytes once each, in copies the pool never overwrites', () => {
    const first = randomBytesFromPool(12);
    const kept = Buffer.from(first);
    const seen = new Set<string>([first.toString('hex')]);
    for (let i = 0; i < 1000; i++) {
      const bytes = randomBytesFromPool(12);
      expect(bytes.length).toBe(12);
      seen.add(bytes.toString('hex'));
      seen.add(newSecret());
    }
    expect(seen.size).toBe(2001);
    expect(first.equals(kept)).toBe(true);
  });

  it('matches a secret, or its hash computed once, against the stored hash only', () => {
    const secret = newSecret();
    const stored = hashSecret(secret);
    expect(secretMatches(secret, stored)).toBe(true);
    expect(hashMatches(hashSecret(secret), stored)).toBe(true);
    expect(hashMatches(hashSecret(newSecret()), stored)).toBe(false);
    expect(hashMatches(hashSecret(secret), stored.slice(0, 20))).toBe(false);
    expect(secretMatches(`${secret}x`, stored)).toBe(false);
  });

  it('computes the S256 challenge of RFC 7636 appendix B', () => {
    expect(s256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });
});
