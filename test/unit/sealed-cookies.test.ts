import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CookieKeySource } from '../../lambdas/core/authorization/ports.js';
import { browserState } from '../../lambdas/http/browser-state.js';
import { CookieSealer } from '../../lambdas/http/sealed-cookies.js';
import { FakeClock } from '../support/fakes.js';

const NOW = 1_800_000_000;
const keySource = (key: Uint8Array = randomBytes(32)): CookieKeySource => ({
  key: async () => key,
});

describe('sealed cookies', () => {
  it('open what they sealed, until it expires', async () => {
    const sealer = new CookieSealer(keySource());
    const value = await sealer.seal('dcr_session', { sub: 'dev:alice' }, NOW + 60);
    expect(value).toMatch(/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(value).not.toContain(Buffer.from('dev:alice').toString('base64url'));
    expect(await sealer.open('dcr_session', value, NOW + 59)).toMatchObject({ sub: 'dev:alice' });
    expect(await sealer.open('dcr_session', value, NOW + 60)).toBeUndefined();
  });

  it('refuse a tampered value, whichever part is changed', async () => {
    const sealer = new CookieSealer(keySource());
    const value = await sealer.seal('dcr_session', { sub: 'dev:alice' }, NOW + 60);
    const parts = value.split('.');
    for (const index of [0, 2, 3, 4]) {
      const part = parts[index] as string;
      const flipped = (part[5] === 'A' ? 'B' : 'A') + part.slice(6);
      const tampered = [...parts];
      tampered[index] = part.slice(0, 5) + flipped;
      expect(await sealer.open('dcr_session', tampered.join('.'), NOW)).toBeUndefined();
    }
    expect(await sealer.open('dcr_session', 'garbage', NOW)).toBeUndefined();
    expect(await sealer.open('dcr_session', '', NOW)).toBeUndefined();
  });

  it('refuse a value sealed under another key', async () => {
    const value = await new CookieSealer(keySource()).seal('dcr_session', { a: 1 }, NOW + 60);
    expect(await new CookieSealer(keySource()).open('dcr_session', value, NOW)).toBeUndefined();
  });

  it('refuse a value moved to another cookie name (the name is authenticated)', async () => {
    const sealer = new CookieSealer(keySource());
    const value = await sealer.seal('dcr_tx_AAAA', { id: 'AAAA' }, NOW + 60);
    expect(await sealer.open('dcr_tx_AAAA', value, NOW)).toBeDefined();
    expect(await sealer.open('dcr_tx_BBBB', value, NOW)).toBeUndefined();
    expect(await sealer.open('dcr_session', value, NOW)).toBeUndefined();
  });

  it('refuse a key shorter than 32 bytes, and read the key source once', async () => {
    await expect(new CookieSealer(keySource(randomBytes(16))).seal('n', {}, NOW)).rejects.toThrow(
      /32 bytes/,
    );
    let reads = 0;
    const counted = new CookieSealer({
      key: async () => {
        reads += 1;
        return randomBytes(32);
      },
    });
    await counted.seal('n', {}, NOW + 1);
    await counted.csrfToken('p');
    expect(reads).toBe(1);
  });
});

describe('CSRF tokens', () => {
  it('are bound to their purpose and key, and compared exactly', async () => {
    const key = randomBytes(32);
    const sealer = new CookieSealer(keySource(key));
    const token = await sealer.csrfToken('consent:tx1');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await sealer.csrfMatches('consent:tx1', token)).toBe(true);
    expect(await new CookieSealer(keySource(key)).csrfMatches('consent:tx1', token)).toBe(true);
    expect(await sealer.csrfMatches('consent:tx2', token)).toBe(false);
    expect(await sealer.csrfMatches('login:tx1', token)).toBe(false);
    expect(await new CookieSealer(keySource()).csrfMatches('consent:tx1', token)).toBe(false);
    expect(await sealer.csrfMatches('consent:tx1', `${token}A`)).toBe(false);
    expect(await sealer.csrfMatches('consent:tx1', '')).toBe(false);
    expect(await sealer.csrfMatches('consent:tx1', null)).toBe(false);
  });
});

describe('browser cookies', () => {
  const transaction = {
    id: 'A'.repeat(22),
    request: {
      clientId: 'c',
      redirectUri: 'http://127.0.0.1/cb',
      codeChallenge: 'x'.repeat(43),
      resources: [],
      forceLogin: false,
      noPrompt: false,
    },
    expiresAt: NOW + 600,
  };
  const state = browserState(keySource(), new FakeClock(NOW), { sessionLifetimeSeconds: 3600 });

  it.each([
    ['https://id.example.com', '__Host-dcr_tx_', 'Path=/; HttpOnly; SameSite=Lax; Secure'],
    [
      'https://id.example.com/tenant-a',
      'dcr_tx_',
      'Path=/tenant-a; HttpOnly; SameSite=Lax; Secure',
    ],
    ['http://127.0.0.1:3000', 'dcr_tx_', 'Path=/; HttpOnly; SameSite=Lax'],
  ])('for the issuer %s: %s…, %s', async (issuer, prefix, attributes) => {
    const cookie = await state.transactionCookie(issuer, transaction);
    expect(cookie).toMatch(
      new RegExp(`^${prefix}${transaction.id}=[^;]+; Max-Age=600; ${attributes}$`),
    );
    const session = await state.sessionCookie(issuer, { sub: 'dev:alice', authTime: NOW });
    expect(session).toMatch(
      new RegExp(`^${prefix.replace('tx_', 'session')}=[^;]+; Max-Age=3600; ${attributes}$`),
    );
    expect(state.endTransaction(issuer, transaction.id)).toBe(
      `${prefix}${transaction.id}=; Max-Age=0; ${attributes}`,
    );
  });

  it('refuses a request too large to keep in a cookie', async () => {
    const huge = { ...transaction, request: { ...transaction.request, state: 'x'.repeat(3000) } };
    await expect(state.transactionCookie('http://127.0.0.1:3000', huge)).rejects.toMatchObject({
      status: 400,
      error: 'invalid_request',
    });
  });
});
