/** A public signing key as published in the JWKS. */
export interface PublishedKey {
  readonly kid: string;
  readonly alg: 'RS256' | 'ES256';
  /** The public JWK with kid, alg and use. */
  readonly jwk: Readonly<Record<string, unknown>>;
}

/**
 * Signs JWS signing inputs with the active key (KMS in AWS, a local key otherwise). The private
 * key never leaves the adapter.
 */
export interface Signer {
  /** The active key: fixed per process for KMS and local keys; wrapped keys rotate. Cheap. */
  activeKey(): Promise<PublishedKey>;
  /** Every key a verifier may meet: the active one first, then the others still published. */
  publishedKeys(): Promise<readonly PublishedKey[]>;
  /**
   * A JOSE-form signature (r||s for ECDSA) of the ASCII signing input, by the key `kid` (as
   * activeKey() named it: the header already says it) or, without one, the active key.
   */
  sign(signingInput: Buffer, kid?: string): Promise<Buffer>;
}

/**
 * A signing key of the wrapped mode as the keyring lists it: public parts only (docs/architecture.md
 * "Storage", `keyring#signing`). Its private half is stored apart, wrapped by KMS.
 */
export interface KeyringEntry {
  readonly kid: string;
  readonly alg: PublishedKey['alg'];
  /** The public JWK as published (kid, alg, use included). */
  readonly jwk: Readonly<Record<string, unknown>>;
  readonly createdAt: number;
  /** It signs from this instant on, until the next key activates. */
  readonly activatesAt: number;
  /** Set when its successor is made: it leaves the JWKS then (its last tokens have expired). */
  readonly expiresAt?: number;
}

/** The keyring: one small item, read strongly consistent, replaced under its version. */
export interface Keyring {
  readonly version: number;
  readonly keys: readonly KeyringEntry[];
}

/** What a function that only publishes or verifies reads: the keyring, nothing private. */
export interface KeyringReader {
  readKeyring(): Promise<Keyring | undefined>;
}

/** The token function's reads: the keyring, and a key's wrapped private half. */
export interface SigningKeyReader extends KeyringReader {
  /** The KMS ciphertext of the key's private half (PKCS#8 DER once unwrapped). */
  readWrappedKey(kid: string): Promise<Uint8Array | undefined>;
}

/** The rotation function's store: one conditional single-item write each. */
export interface SigningKeyStore extends KeyringReader {
  putWrappedKey(kid: string, wrappedPrivateKey: Uint8Array, createdAt: number): Promise<void>;
  /** Replaces the keyring if it is still at `keyring.version - 1` (absent for version 1). */
  replaceKeyring(keyring: Keyring): Promise<boolean>;
  /** Lets the private half expire (TTL, cleanup) at `expiresAt`. */
  expireWrappedKey(kid: string, expiresAt: number): Promise<void>;
}

/** Unwraps a private key (KMS Decrypt); the plaintext never leaves the caller's memory. */
export interface PrivateKeyUnwrapper {
  unwrap(wrappedPrivateKey: Uint8Array): Promise<Uint8Array>;
}

/** Makes a key pair whose private half only KMS can unwrap (the rotation never sees it). */
export interface WrappedKeyGenerator {
  generate(
    alg: PublishedKey['alg'],
  ): Promise<{ readonly key: PublishedKey; readonly wrappedPrivateKey: Uint8Array }>;
}
