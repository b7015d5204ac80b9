import type { Clock } from '../../core/clock.js';
import type { TokenStore } from '../../core/tokens/ports.js';

/** In-memory TokenStore for unit tests and benchmarks; entries vanish once expired. */
export class MemoryTokenStore implements TokenStore {
  private readonly revoked = new Map<string, number>();
  private readonly assertions = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  async revoke(jti: string, expiresAt: number): Promise<void> {
    this.revoked.set(jti, expiresAt);
  }

  async isRevoked(jti: string): Promise<boolean> {
    return (this.revoked.get(jti) ?? 0) > this.clock.now();
  }

  async useAssertionId(clientId: string, jti: string, expiresAt: number): Promise<boolean> {
    const key = `${clientId}#${jti}`;
    if ((this.assertions.get(key) ?? 0) > this.clock.now()) return false;
    this.assertions.set(key, expiresAt);
    return true;
  }
}
