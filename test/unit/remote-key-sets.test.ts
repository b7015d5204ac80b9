import { describe, expect, it } from 'vitest';
import { isPublicAddress } from '../../lambdas/adapters/fetch/guarded-fetch.js';
import { jwksFetch } from '../../lambdas/adapters/fetch/remote-key-sets.js';

const guardedFetch = jwksFetch();

const options = () => ({
  headers: new Headers(),
  method: 'GET' as const,
  redirect: 'manual' as const,
  signal: AbortSignal.timeout(2000),
});

describe('jwks_uri guard', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    '::ffff:127.0.0.1',
    // IPv4-compatible (::/96), IPv4-translated (::ffff:0:0:0/96), local-use NAT64
    // (64:ff9b:1::/48), 6to4 (2002::/16) and Teredo (2001::/32): each can carry an IPv4 address.
    '::7f00:1',
    '::ffff:0:a00:1',
    '64:ff9b:1::a00:1',
    '2002:7f00:1::1',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    'not-an-ip',
  ])('treats %s as non-public', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '2001:4860:4860::8888'])(
    'treats %s as public',
    (address) => {
      expect(isPublicAddress(address)).toBe(true);
    },
  );

  // Each of these is refused before any connection is attempted.
  it.each([
    ['http', 'http://keys.example.com/jwks'],
    ['a loopback literal', 'https://127.0.0.1/jwks'],
    ['the metadata service', 'https://169.254.169.254/latest/meta-data'],
    ['an IPv6 loopback literal', 'https://[::1]/jwks'],
    ['a name that resolves to loopback', 'https://localhost/jwks'],
  ])('refuses %s', async (_, url) => {
    await expect(guardedFetch(url, options())).rejects.toThrow(/https|non-public|public address/);
  });
});
