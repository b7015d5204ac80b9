import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalSigner } from '../../lambdas/adapters/signing/local-signer.js';
import { loadConfig } from '../../lambdas/config.js';
import { DerivedNonces } from '../../lambdas/core/tokens/token-endpoint-proofs.js';
import { FakeClock } from '../support/fakes.js';

const dataDir = mkdtempSync(join(tmpdir(), 'dcr-nonces-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('DPoP nonces derived from the signing key', () => {
  it('two containers with the same key agree with no store; another key’s nonces are refused', async () => {
    const clock = new FakeClock(1_800_000_000);
    // Two processes reading the same key (two Lambda containers reaching the same KMS key).
    const first = await new DerivedNonces(LocalSigner.create('RS256', dataDir), clock).source();
    const second = await new DerivedNonces(LocalSigner.create('RS256', dataDir), clock).source();
    const nonce = first.current();
    expect(second.current()).toBe(nonce);
    expect(second.accepts(nonce)).toBe(true);
    const stranger = await new DerivedNonces(LocalSigner.create('RS256'), clock).source();
    expect(stranger.accepts(nonce)).toBe(false);
  });

  it('a nonce is accepted in its 5-minute window and the next, then refused', async () => {
    const clock = new FakeClock(1_800_000_000);
    const nonces = await new DerivedNonces(LocalSigner.create('RS256', dataDir), clock).source();
    const nonce = nonces.current();
    clock.advance(300);
    expect(nonces.accepts(nonce)).toBe(true);
    expect(nonces.current()).not.toBe(nonce);
    clock.advance(300);
    expect(nonces.accepts(nonce)).toBe(false);
  });

  it('DCR_DPOP_NONCE=on needs RS256: ECDSA signatures are random', () => {
    expect(() => loadConfig({ DCR_DPOP_NONCE: 'on', DCR_SIGNING_ALG: 'ES256' })).toThrow(
      /DCR_DPOP_NONCE.*RS256/,
    );
    expect(loadConfig({ DCR_DPOP_NONCE: 'on' }).dpopNonce).toBe(true);
    expect(loadConfig({}).dpopNonce).toBe(false);
  });
});
