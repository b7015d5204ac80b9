import { familyCounterUpdates } from '../core/operator/client-health.js';
import type { ClientStatistics } from '../core/operator/ports.js';
import type { GrantRecord, GrantStore, Rotation } from '../core/tokens/ports.js';
import { logger } from '../log.js';

/**
 * Local mode has no DynamoDB stream: this grant store reports the family changes the audit
 * function counts in AWS (a family created, its first rotation) to the same counting rule. The
 * write is made first; a failed count is logged, never the caller's failure.
 */
export class CountedGrantStore implements GrantStore {
  constructor(
    private readonly inner: GrantStore,
    private readonly statistics: ClientStatistics,
  ) {}

  consentOnce(...args: Parameters<GrantStore['consentOnce']>) {
    return this.inner.consentOnce(...args);
  }
  putCode(...args: Parameters<GrantStore['putCode']>) {
    return this.inner.putCode(...args);
  }
  redeemCode(...args: Parameters<GrantStore['redeemCode']>) {
    return this.inner.redeemCode(...args);
  }
  getGrant(grantId: string) {
    return this.inner.getGrant(grantId);
  }
  revokeGrant(...args: Parameters<GrantStore['revokeGrant']>) {
    return this.inner.revokeGrant(...args);
  }
  recordUserGrant(...args: Parameters<GrantStore['recordUserGrant']>) {
    return this.inner.recordUserGrant(...args);
  }
  userGrants(...args: Parameters<GrantStore['userGrants']>) {
    return this.inner.userGrants(...args);
  }

  async createGrant(grant: GrantRecord, expiresAt: number): Promise<boolean> {
    const created = await this.inner.createGrant(grant, expiresAt);
    if (created) await this.count(grant.clientId, undefined, grant.generation, grant.createdAt);
    return created;
  }

  async rotateRefresh(grantId: string, presentedHash: string, next: Rotation): Promise<boolean> {
    const rotated = await this.inner.rotateRefresh(grantId, presentedHash, next);
    if (rotated && next.generation === 2) {
      const grant = await this.inner.getGrant(grantId);
      if (grant && 'clientId' in grant) await this.count(grant.clientId, 1, 2, next.lastUsedAt);
    }
    return rotated;
  }

  private async count(clientId: string, before: number | undefined, after: number, at: number) {
    const updates = familyCounterUpdates([
      { clientId, ...(before !== undefined && { before }), after, at },
    ]);
    await this.statistics
      .add(updates)
      .catch((error: Error) => logger.error('client health not counted', { error }));
  }
}
