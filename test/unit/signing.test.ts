import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { derToJose } from '../../lambdas/adapters/kms/ecdsa-signature.js';
import { LocalSigner } from '../../lambdas/adapters/signing/local-signer.js';
import { LocalCookieKey } from '../../local/local-cookie-key.js';
import { settlesBeforeThreadPoolWork } from '../support/thread-pool.js';

describe('derToJose', () => {
  it('turns DER ECDSA signatures into 64-byte r||s that verify as IEEE P1363', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    // Enough signatures to meet r or s with a leading zero byte (DER pads or shortens them).
    for (let i = 0; i < 300; i++) {
      const data = Buffer.from(`message ${i}`);
      const der = sign('sha256', data, privateKey);
      const jose = derToJose(der);
      expect(jose).toHaveLength(64);
      expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, jose)).toBe(
        true,
      );
    }
  });

  it.each([
    ['empty', ''],
    ['not a sequence', '3102020101'],
    ['wrong length', '300602010102'],
    ['trailing bytes', '3006020101020101ff'],
    ['integer too long', `3026022101${'ff'.repeat(32)}020101`],
  ])('refuses a malformed signature (%s)', (_, hex) => {
    expect(() => derToJose(Buffer.from(hex, 'hex'))).toThrow(/malformed/);
  });
});

describe('LocalSigner', () => {
  it('keeps its key in the data folder (mode 0600) and reuses it after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcr-key-'));
    try {
      const first = LocalSigner.create('ES256', dir);
      const second = LocalSigner.create('ES256', dir);
      expect((await second.activeKey()).kid).toBe((await first.activeKey()).kid);
      const file = join(dir, 'signing-key-es256.pem');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readFileSync(file, 'utf8')).toContain('PRIVATE KEY');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the cookie key, too: 32 bytes kept in the data folder (mode 0600), the same after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcr-cookie-key-'));
    try {
      const first = await LocalCookieKey.create(dir).key();
      const second = await LocalCookieKey.create(dir).key();
      expect(first).toHaveLength(32);
      expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true);
      expect(statSync(join(dir, 'cookie-key')).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(['RS256', 'ES256'] as const)(
    '%s: signs so that the published key verifies',
    async (alg) => {
      const signer = LocalSigner.create(alg);
      const key = await signer.activeKey();
      expect(key.jwk).toMatchObject({ alg, use: 'sig', kid: key.kid });
      expect(key.jwk).not.toHaveProperty('d');
      const data = Buffer.from('header.payload');
      const signature = await signer.sign(data);
      const publicKey = createPublicKey({ key: key.jwk as never, format: 'jwk' });
      expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(
        true,
      );
    },
  );

  it('signs on the thread pool: the local server’s event loop stays free for other connections', async () => {
    const signer = LocalSigner.create('ES256');
    await signer.activeKey();
    const data = Buffer.from('header.payload');
    expect(await settlesBeforeThreadPoolWork(() => signer.sign(data))).toBe(false);
  });

  it.each([
    ['before its key id is known', false],
    ['once its key is published', true],
  ])('signs only by its own key: another kid is refused %s', async (_, published) => {
    const signer = LocalSigner.create('ES256');
    if (published) await signer.publishedKeys();
    const data = Buffer.from('header.payload');
    await expect(signer.sign(data, 'another-key')).rejects.toThrow(/not the active key/);
    const { kid, jwk } = await signer.activeKey();
    const signature = await signer.sign(data, kid);
    const publicKey = createPublicKey({ key: jwk as JWK, format: 'jwk' });
    expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(
      true,
    );
  });
});
