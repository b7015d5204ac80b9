import { pinnedElsewhere } from '../../core/regions.js';
import type {
  AuthorizationCodeRecord,
  CodeBinding,
  CodeRedemption,
  GrantRecord,
  GrantStore,
  RevokedGrant,
  Rotation,
  UserGrantEntry,
  UserGrantQuery,
} from '../../core/tokens/ports.js';

interface StoredCode extends AuthorizationCodeRecord {
  readonly redeemedAt?: number;
}

const bound = (code: AuthorizationCodeRecord, binding: CodeBinding) =>
  code.clientId === binding.clientId &&
  code.redirectUri === binding.redirectUri &&
  code.codeChallenge === binding.codeChallenge &&
  (code.dpopJkt === undefined || code.dpopJkt === binding.jkt) &&
  !pinnedElsewhere(code, binding.region);

/**
 * In-memory GrantStore for unit tests, the memory-only local server and benchmarks: the same
 * outcomes as the DynamoDB adapter, with the same single-step checks (JavaScript runs each
 * method to its first await without interleaving, as a conditional write is atomic).
 */
export class MemoryGrantStore implements GrantStore {
  private readonly codes = new Map<string, StoredCode>();
  private readonly grants = new Map<string, GrantRecord | RevokedGrant>();
  /** Answered transactions (the memory store never expires them: each is 128 random bits). */
  private readonly consented = new Set<string>();
  private readonly byUser = new Map<string, UserGrantEntry[]>();

  async consentOnce(transactionId: string): Promise<boolean> {
    if (this.consented.has(transactionId)) return false;
    this.consented.add(transactionId);
    return true;
  }

  async putCode(code: AuthorizationCodeRecord): Promise<void> {
    if (this.codes.has(code.codeHash)) throw new Error('authorization code collision');
    this.codes.set(code.codeHash, code);
  }

  async recordUserGrant(entry: UserGrantEntry): Promise<void> {
    this.byUser.set(entry.sub, [...(this.byUser.get(entry.sub) ?? []), entry]);
  }

  /** In the DynamoDB store's order: by client, then the newest first. */
  async userGrants(sub: string, { clientId, limit }: UserGrantQuery) {
    const key = (e: UserGrantEntry) =>
      `${e.clientId}#${String(e.createdAt).padStart(12, '0')}#${e.grantId}`;
    return (this.byUser.get(sub) ?? [])
      .filter((e) => clientId === undefined || e.clientId === clientId)
      .sort((a, b) => (key(a) < key(b) ? 1 : -1))
      .slice(0, limit);
  }

  async redeemCode(codeHash: string, binding: CodeBinding, now: number): Promise<CodeRedemption> {
    const code = this.codes.get(codeHash);
    if (code === undefined || !bound(code, binding)) return { outcome: 'refused' };
    if (code.redeemedAt !== undefined) return { outcome: 'reused', code };
    if (code.expiresAt <= now) return { outcome: 'refused' };
    const outside = binding.resources.find((r) => !code.resources.includes(r));
    if (outside !== undefined) return { outcome: 'not-granted', resource: outside };
    this.codes.set(codeHash, { ...code, redeemedAt: now });
    return { outcome: 'redeemed', code };
  }

  async createGrant(grant: GrantRecord): Promise<boolean> {
    if (this.grants.has(grant.grantId)) return false;
    this.grants.set(grant.grantId, grant);
    return true;
  }

  async getGrant(grantId: string) {
    return this.grants.get(grantId);
  }

  async rotateRefresh(grantId: string, presentedHash: string, next: Rotation): Promise<boolean> {
    const grant = this.grants.get(grantId);
    if (!grant || grant.revokedAt !== undefined || !('currentHash' in grant)) return false;
    if (grant.currentHash !== presentedHash) return false;
    const { expiresAt: _, ...rotation } = next;
    const { sealedSuccessor: __, ...kept } = grant;
    this.grants.set(grantId, { ...kept, ...rotation });
    return true;
  }

  async revokeGrant(grantId: string, at: number): Promise<void> {
    const grant = this.grants.get(grantId);
    this.grants.set(grantId, { ...(grant ?? { grantId }), revokedAt: grant?.revokedAt ?? at });
  }
}
