import { hkdfSync } from 'node:crypto';
import type { Clock } from '../clock.js';
import { invalidDpopProof, useDpopNonce } from '../errors.js';
import { endpointUrl, PATHS } from '../paths.js';
import type { Signer } from '../signing/ports.js';
import {
  type CheckedProof,
  checkDpopProof,
  DpopProofError,
  type NonceSource,
  rotatingNonces,
} from './dpop-proof.js';
import type { TokenStore } from './ports.js';

/** How far a proof's `iat` may be from now, either way: its `jti` is remembered that long. */
export const DPOP_PROOF_WINDOW_SECONDS = 300;

/** A proof is a compact JWS with one public key in its header: far below this. */
const MAX_PROOF_LENGTH = 8192;

/** A nonce is valid in its window and the next: 5 to 10 minutes. */
const NONCE_WINDOW_SECONDS = 300;

/** Not a JWS signing input (it has spaces): its signature can never pass for a token's. */
const NONCE_KEY_LABEL = 'serverless-dcr DPoP nonce key v1';

/**
 * Server nonces (RFC 9449 §8) with no store: an HMAC of the current time window under a key
 * every container derives alike, so no request writes anything and any container accepts the
 * nonce another issued. The key is HKDF-SHA-256 over the signing key's RS256 signature of a
 * fixed label: RSASSA-PKCS1-v1_5 is deterministic, so every container gets the same bytes, and
 * only the holder of the signing key (KMS, or the unwrapped key) can make them. One signature
 * per container and signing key; a key rotation (wrapped mode) changes the nonces, and a client
 * holding an old one is simply asked for the new one.
 */
export class DerivedNonces {
  private derived?: { readonly kid: string; readonly nonces: Promise<NonceSource> };

  constructor(
    private readonly signer: Signer,
    private readonly clock: Clock,
  ) {}

  async source(): Promise<NonceSource> {
    const { kid } = await this.signer.activeKey();
    if (this.derived?.kid !== kid) {
      const nonces = this.signer
        .sign(Buffer.from(NONCE_KEY_LABEL, 'ascii'), kid)
        .then((signature) => {
          const key = new Uint8Array(hkdfSync('sha256', signature, kid, 'dpop-nonce', 32));
          return rotatingNonces(key, NONCE_WINDOW_SECONDS, () => this.clock.now());
        });
      this.derived = { kid, nonces };
      // A failed signature is not remembered: the next request tries again.
      nonces.catch(() => {
        if (this.derived?.nonces === nonces) this.derived = undefined;
      });
    }
    return this.derived.nonces;
  }
}

/**
 * DPoP proofs at the token endpoint (RFC 9449 §4.3, §5): checked against the endpoint's public
 * URL — the issuer's, never the host that reached the function — and spent once, across every
 * container, by one conditional write.
 */
export class TokenEndpointProofs {
  constructor(
    private readonly store: TokenStore,
    private readonly clock: Clock,
    private readonly nonces?: DerivedNonces,
  ) {}

  /** The nonce to hand out with a successful response (RFC 9449 §8.2), when nonces are on. */
  async currentNonce(): Promise<string | undefined> {
    return this.nonces && (await this.nonces.source()).current();
  }

  /**
   * The request's proof checked (signature, `typ`, algorithm, public key, `htm`, `htu`, `iat`,
   * nonce), or undefined when it has none. Writes nothing: {@link spend} does, once the client
   * is known.
   */
  async check(header: string | undefined, issuer: string): Promise<CheckedProof | undefined> {
    if (header === undefined) return undefined;
    // Repeated headers arrive joined with ", "; a JWS has no comma.
    if (header.includes(',')) throw invalidDpopProof('exactly one DPoP proof is allowed');
    if (header.length > MAX_PROOF_LENGTH) throw invalidDpopProof('the DPoP proof is too long');
    const nonce = await this.nonces?.source();
    try {
      return await checkDpopProof(
        header,
        { method: 'POST', url: endpointUrl(issuer, PATHS.token) },
        {
          maxAgeSeconds: DPOP_PROOF_WINDOW_SECONDS,
          now: () => this.clock.now(),
          ...(nonce && { nonce }),
        },
      );
    } catch (error) {
      if (!(error instanceof DpopProofError)) throw error;
      const refuse = error.error === 'use_dpop_nonce' ? useDpopNonce : invalidDpopProof;
      throw refuse(error.message, error.nonce);
    }
  }

  /** Spends the proof's `jti` (single use, RFC 9449 §11.1): a second use anywhere is refused. */
  async spend(proof: CheckedProof): Promise<void> {
    const { jti, iat } = proof.claims as { jti: string; iat: number };
    const expiresAt = iat + DPOP_PROOF_WINDOW_SECONDS;
    if (!(await this.store.useDpopProof(`${proof.jkt}:${jti}`, expiresAt))) {
      throw invalidDpopProof('the DPoP proof was already used');
    }
  }
}
