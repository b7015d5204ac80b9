import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import { temporarilyUnavailable } from '../../core/errors.js';
import { activeEntry, asPublishedKey, publishedEntries } from '../../core/signing/keyring.js';
import type {
  Keyring,
  KeyringReader,
  PrivateKeyUnwrapper,
  PublishedKey,
  Signer,
  SigningKeyReader,
} from '../../core/signing/ports.js';
import { type SigningPlace, signWith } from './local-signer.js';
import { publishedKey } from './published-key.js';

export interface WrappedKeySignerOptions {
  /** How often the keyring is read again (a new key is seen at most this late). */
  readonly refreshSeconds: number;
}

/** A Lambda container serves one request at a time: nothing could run while it signs. */
const INLINE: SigningPlace = { offload: false };

/** What the token function has: the private halves' store and the means to unwrap them. */
export interface Unwrapping {
  readonly store: SigningKeyReader;
  readonly unwrapper: PrivateKeyUnwrapper;
}

/**
 * The wrapped mode's signer (docs/deployment.md "Signing modes"). It reads the keyring (one small item,
 * strongly consistent) at most every `refreshSeconds`, and knows from it when the next key
 * activates, so it switches on time without another read. The active key's private half is
 * unwrapped by KMS once per container and key and kept in memory only: never logged, never
 * written anywhere, never part of an error. Functions that only publish or verify are built
 * without `unwrapping`: they read public keys and cannot sign.
 */
export class WrappedKeySigner implements Signer {
  private keyring?: { readonly value: Promise<Keyring | undefined>; readonly readAt: number };
  private readonly privateKeys = new Map<string, Promise<KeyObject>>();
  private published?: {
    readonly keyring: Keyring;
    readonly at: string;
    readonly keys: PublishedKey[];
  };

  constructor(
    private readonly keyringReader: KeyringReader,
    private readonly clock: Clock,
    private readonly options: WrappedKeySignerOptions,
    private readonly unwrapping?: Unwrapping,
  ) {}

  async activeKey(): Promise<PublishedKey> {
    const entry = activeEntry(await this.currentKeyring(), this.clock.now());
    if (entry === undefined) {
      throw temporarilyUnavailable('no signing key is active yet');
    }
    return asPublishedKey(entry);
  }

  async publishedKeys(): Promise<readonly PublishedKey[]> {
    const keyring = await this.currentKeyring();
    if (keyring === undefined) return [];
    const now = this.clock.now();
    const entries = publishedEntries(keyring, now);
    // The same array while nothing changes: callers may cache what they derive from it.
    const at = entries.map((e) => e.kid).join(' ');
    if (this.published?.keyring !== keyring || this.published.at !== at) {
      this.published = { keyring, at, keys: entries.map(asPublishedKey) };
    }
    return this.published.keys;
  }

  async sign(signingInput: Buffer, kid?: string): Promise<Buffer> {
    if (this.unwrapping === undefined) throw new Error('this function does not sign');
    const keyring = await this.currentKeyring();
    const now = this.clock.now();
    const active = activeEntry(keyring, now);
    // A key that activated a moment ago, after the header named its predecessor, still signs.
    const entry =
      kid === undefined ? active : publishedEntries(keyring, now).find((e) => e.kid === kid);
    if (entry === undefined || entry.activatesAt > now) {
      throw temporarilyUnavailable('no signing key is active yet');
    }
    return signWith(await this.privateKey(entry.kid, entry.jwk), signingInput, INLINE);
  }

  private currentKeyring(): Promise<Keyring | undefined> {
    const now = this.clock.now();
    if (this.keyring === undefined || now - this.keyring.readAt >= this.options.refreshSeconds) {
      const value = this.keyringReader.readKeyring();
      const read = { value, readAt: now };
      this.keyring = read;
      // A failed read (throttling) is retried by the next request, not remembered.
      value.then(
        (keyring) => this.forgetRetired(keyring),
        () => {
          if (this.keyring === read) this.keyring = undefined;
        },
      );
    }
    return this.keyring.value;
  }

  /** Private halves of keys the keyring no longer lists leave memory. */
  private forgetRetired(keyring: Keyring | undefined) {
    const listed = new Set(keyring?.keys.map((e) => e.kid));
    for (const kid of this.privateKeys.keys()) if (!listed.has(kid)) this.privateKeys.delete(kid);
  }

  private privateKey(kid: string, jwk: Readonly<Record<string, unknown>>): Promise<KeyObject> {
    let key = this.privateKeys.get(kid);
    if (key === undefined) {
      key = this.unwrap(kid, jwk);
      this.privateKeys.set(kid, key);
      key.catch(() => this.privateKeys.delete(kid));
    }
    return key;
  }

  private async unwrap(kid: string, jwk: Readonly<Record<string, unknown>>): Promise<KeyObject> {
    const { store, unwrapper } = this.unwrapping as Unwrapping;
    const wrapped = await store.readWrappedKey(kid);
    if (wrapped === undefined) throw new Error(`the private half of signing key ${kid} is missing`);
    const plaintext = await unwrapper.unwrap(wrapped);
    const der = Buffer.from(plaintext);
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    } catch {
      // Never the parser's message: it could quote the bytes.
      throw new Error(`the private half of signing key ${kid} does not parse`);
    } finally {
      // The key lives on in the KeyObject only.
      der.fill(0);
      plaintext.fill(0);
    }
    // The private half must be the one the keyring publishes (a swapped item signs nothing).
    const derived = await publishedKey(createPublicKey(privateKey), jwk.alg as PublishedKey['alg']);
    if (derived.kid !== kid)
      throw new Error(`the private half of signing key ${kid} does not match it`);
    return privateKey;
  }
}
