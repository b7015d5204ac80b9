import type { Clock } from '../clock.js';
import { activeEntry, type KeySchedule, pendingEntry, withNewKey } from './keyring.js';
import type { Keyring, PublishedKey, SigningKeyStore, WrappedKeyGenerator } from './ports.js';

export interface RotationSettings extends KeySchedule {
  /** The algorithm of the keys it makes. */
  readonly alg: PublishedKey['alg'];
}

export type RotationOutcome =
  /** A key was added: `activatesAt` says when it signs. */
  | { readonly outcome: 'created'; readonly kid: string; readonly activatesAt: number }
  /** Nothing to do: a key exists (at deploy) or one is already waiting to activate. */
  | { readonly outcome: 'unchanged'; readonly kid?: string };

/**
 * Makes the wrapped mode's signing keys (docs/deployment.md "Signing modes"). Each key pair comes from KMS
 * with its private half already wrapped, so this never holds a private key. Every write is a
 * single-item conditional one: two rotations at once add one key, and the loser's orphaned
 * private half is given an expiry at once.
 */
export class KeyRotation {
  constructor(
    private readonly store: SigningKeyStore,
    private readonly generator: WrappedKeyGenerator,
    private readonly clock: Clock,
    private readonly settings: RotationSettings,
  ) {}

  /**
   * At deploy: a key signs afterwards; a second call adds none. A keyring whose keys have all
   * expired (a table kept from a stack deleted long ago) gets a key that signs at once.
   */
  async ensureKey(): Promise<RotationOutcome> {
    const keyring = await this.store.readKeyring();
    const active = activeEntry(keyring, this.clock.now());
    if (active !== undefined) return { outcome: 'unchanged', kid: active.kid };
    return this.addKey(keyring);
  }

  /** On the schedule: the next key, unless one already waits to activate (a retried run). */
  async rotate(): Promise<RotationOutcome> {
    const keyring = await this.store.readKeyring();
    const pending = pendingEntry(keyring, this.clock.now());
    if (pending !== undefined) return { outcome: 'unchanged', kid: pending.kid };
    return this.addKey(keyring);
  }

  /** Adds a key to the keyring as it was read: a rotation that ran meanwhile makes this one fail. */
  private async addKey(current: Keyring | undefined): Promise<RotationOutcome> {
    const { key, wrappedPrivateKey } = await this.generator.generate(this.settings.alg);
    const now = this.clock.now();
    await this.store.putWrappedKey(key.kid, wrappedPrivateKey, now);
    const next = withNewKey(current, key, now, this.settings);
    if (!(await this.store.replaceKeyring(next))) {
      // Another rotation won: this private half belongs to no keyring.
      await this.store.expireWrappedKey(key.kid, now);
      throw new Error('the keyring changed during the rotation; the next run retries');
    }
    // The superseded keys' private halves expire with them (idempotent: retried next time).
    for (const entry of next.keys) {
      if (entry.expiresAt !== undefined)
        await this.store.expireWrappedKey(entry.kid, entry.expiresAt);
    }
    const added = next.keys.at(-1) as { kid: string; activatesAt: number };
    return { outcome: 'created', kid: added.kid, activatesAt: added.activatesAt };
  }
}
