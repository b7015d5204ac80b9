import { describe, expect, it } from 'vitest';
import { MemoryTrustedIssuers } from '../../lambdas/adapters/memory/memory-trusted-issuers.js';
import { OAuthError } from '../../lambdas/core/errors.js';
import {
  STORED_ISSUER_CACHE_ENTRIES,
  STORED_ISSUER_READS_PER_SECOND,
  StoredIssuerLookup,
} from '../../lambdas/core/federation/stored-issuers.js';
import type { TrustedIssuerSettings } from '../../lambdas/core/federation/trusted-issuers.js';
import { parseTrustedIssuer } from '../../lambdas/settings.js';

/**
 * The token path's view of the issuers stored through the admin API: one read per issuer and
 * cache time, found or not; a bounded number of reads for issuers it does not know, whatever
 * anyone sends; a removal seen once the cache time has passed (by the clock, not by waiting).
 */
const ISSUER = 'https://ci.example';
const RESOURCE = 'https://mcp.example/api';
const DEFINITION = {
  kind: 'workload',
  jwks_uri: 'https://ci.example/jwks',
  rules: [{ claims: { sub: 'repo:acme/app:ref:refs/heads/main' }, resources: [RESOURCE] }],
};

function setUp(cacheSeconds = 30) {
  const store = new MemoryTrustedIssuers();
  let reads = 0;
  const counted = {
    get: (issuer: string) => {
      reads++;
      return store.get(issuer);
    },
  };
  const clock = { at: 1_800_000_000, now: () => clock.at };
  const lookup = new StoredIssuerLookup(counted, clock, cacheSeconds, (iss, definition) => {
    const parsed = parseTrustedIssuer(iss, definition, { resources: new Set([RESOURCE]) });
    return 'issuer' in parsed ? parsed.issuer : undefined;
  });
  const put = () =>
    store.put({ issuer: ISSUER, definition: DEFINITION, updated: { at: clock.at } });
  return { store, lookup, clock, put, reads: () => reads };
}

describe('stored trusted issuers on the token path', () => {
  it('reads an issuer once per cache time, found or not', async () => {
    const { lookup, clock, put, reads } = setUp(30);
    expect(await lookup.find(ISSUER)).toBeUndefined();
    expect(await lookup.find(ISSUER)).toBeUndefined();
    expect(reads()).toBe(1);
    await put();
    clock.at += 29;
    expect(await lookup.find(ISSUER)).toBeUndefined();
    clock.at += 1;
    const found = (await lookup.find(ISSUER)) as TrustedIssuerSettings;
    expect(found).toMatchObject({ kind: 'workload', jwksUri: 'https://ci.example/jwks' });
    expect(await lookup.find(ISSUER)).toBe(found);
    expect(reads()).toBe(2);
  });

  it('stops trusting a removed issuer once the cache time has passed; at once when told', async () => {
    const { store, lookup, clock, put } = setUp(30);
    await put();
    expect(await lookup.find(ISSUER)).toBeDefined();
    await store.remove(ISSUER, { at: clock.at });
    clock.at += 29;
    expect(await lookup.find(ISSUER)).toBeDefined();
    clock.at += 1;
    expect(await lookup.find(ISSUER)).toBeUndefined();
    await put();
    lookup.forget(ISSUER);
    expect(await lookup.find(ISSUER)).toBeDefined();
  });

  it('shares one read among concurrent lookups of one issuer', async () => {
    const { lookup, put, reads } = setUp();
    await put();
    await Promise.all(Array.from({ length: 10 }, () => lookup.find(ISSUER)));
    expect(reads()).toBe(1);
  });

  it('bounds the reads for unknown issuers per second: beyond, 503 without a read', async () => {
    const { lookup, clock, reads } = setUp();
    for (let i = 0; i < STORED_ISSUER_READS_PER_SECOND; i++) {
      expect(await lookup.find(`https://made-up-${i}.example`)).toBeUndefined();
    }
    const refused = await lookup.find('https://one-more.example').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OAuthError);
    expect((refused as OAuthError).status).toBe(503);
    expect((refused as OAuthError).headers['retry-after']).toBe('1');
    expect(reads()).toBe(STORED_ISSUER_READS_PER_SECOND);
    // Known ones (remembered) still answer; the next second reads again.
    expect(await lookup.find('https://made-up-0.example')).toBeUndefined();
    clock.at += 1;
    expect(await lookup.find('https://one-more.example')).toBeUndefined();
    expect(reads()).toBe(STORED_ISSUER_READS_PER_SECOND + 1);
  });

  it('remembers a bounded number of issuers, the oldest forgotten first', async () => {
    const { lookup, clock, reads } = setUp();
    for (let i = 0; i <= STORED_ISSUER_CACHE_ENTRIES; i++) {
      if (i % STORED_ISSUER_READS_PER_SECOND === 0) clock.at += 1;
      await lookup.find(`https://issuer-${i}.example`);
    }
    const before = reads();
    await lookup.find(`https://issuer-${STORED_ISSUER_CACHE_ENTRIES}.example`);
    expect(reads()).toBe(before);
    clock.at += 1;
    await lookup.find('https://issuer-0.example');
    expect(reads()).toBe(before + 1);
  });

  it('ignores a stored definition that no longer passes the configuration’s checks', async () => {
    const { store, lookup, clock } = setUp();
    await store.put({
      issuer: ISSUER,
      definition: { ...DEFINITION, rules: [{ claims: { sub: 'x' }, resources: ['https://gone'] }] },
      updated: { at: clock.at },
    });
    expect(await lookup.find(ISSUER)).toBeUndefined();
  });
});
