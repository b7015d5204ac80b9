import type { Clock } from '../clock.js';
import { OAuthError } from '../errors.js';
import { endpointUrl, PATHS } from '../paths.js';
import {
  type CheckedProof,
  checkDpopProof,
  DpopProofError,
  type NonceSource,
} from './dpop-proof.js';
import type { TokenStore } from './ports.js';

/** How far a proof's `iat` may be from now, either way: its `jti` is remembered that long. */
export const DPOP_PROOF_WINDOW_SECONDS = 300;

/** A proof is a compact JWS with one public key in its header: far below this. */
const MAX_PROOF_LENGTH = 8192;

export const invalidDpopProof = (description: string) =>
  new OAuthError(400, 'invalid_dpop_proof', description);

/**
 * DPoP proofs at the token endpoint (RFC 9449 §4.3, §5): checked against the endpoint's public
 * URL — the issuer's, never the host that reached the function — and spent once, across every
 * container, by one conditional write.
 */
export class TokenEndpointProofs {
  constructor(
    private readonly store: TokenStore,
    private readonly clock: Clock,
    private readonly nonces?: NonceSource,
  ) {}

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
    try {
      return await checkDpopProof(
        header,
        { method: 'POST', url: endpointUrl(issuer, PATHS.token) },
        {
          maxAgeSeconds: DPOP_PROOF_WINDOW_SECONDS,
          now: () => this.clock.now(),
          ...(this.nonces && { nonce: this.nonces }),
        },
      );
    } catch (error) {
      if (!(error instanceof DpopProofError)) throw error;
      const headers: Record<string, string> = error.nonce ? { 'dpop-nonce': error.nonce } : {};
      throw new OAuthError(400, error.error, error.message, headers);
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
