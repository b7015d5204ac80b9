import type { Clock } from '../../core/clock.js';
import type { TokenStore } from '../../core/tokens/ports.js';

/** In-memory TokenStore for unit tests and benchmarks; entries vanish once expired. */
export class MemoryTokenStore implements TokenStore {
  private readonly revoked = new Map<string, number>();
  /** Single-use identifiers (client assertions, DPoP proofs, issuers' assertions), until they expire. */
  private readonly used = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  async revoke(jti: string, expiresAt: number): Promise<void> {
    this.revoked.set(jti, expiresAt);
  }

  async isRevoked(jti: string): Promise<boolean> {
    return (this.revoked.get(jti) ?? 0) > this.clock.now();
  }

  async useAssertionId(clientId: string, jti: string, expiresAt: number): Promise<boolean> {
    return this.useOnce(`assertion#${clientId}#${jti}`, expiresAt);
  }

  async useDpopProof(proofId: string, expiresAt: number): Promise<boolean> {
    return this.useOnce(`dpop#${proofId}`, expiresAt);
  }

  async useIssuerAssertion(issuer: string, jti: string, expiresAt: number): Promise<boolean> {
    return this.useOnce(`federated#${issuer}#${jti}`, expiresAt);
  }

  /** Nothing to keep: the change feed (AuditedTokenStore) reports the event. */
  async recordExchange(): Promise<void> {}

  private useOnce(key: string, expiresAt: number): boolean {
    if ((this.used.get(key) ?? 0) > this.clock.now()) return false;
    this.used.set(key, expiresAt);
    return true;
  }
}
