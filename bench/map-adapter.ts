/**
 * An unbounded in-memory adapter for oidc-provider in the grant benchmarks. Its default memory
 * adapter is an LRU of 1000 entries, which would evict the seeded codes and refresh tokens;
 * this one is a plain Map (expiry is oidc-provider's own check on `exp`), with the grant index
 * `revokeByGrantId` needs, as the default adapter keeps it.
 */
type Payload = Record<string, unknown> & { grantId?: string; uid?: string; userCode?: string };

const items = new Map<string, Payload>();
const byGrant = new Map<string, Set<string>>();
const bySessionUid = new Map<string, string>();
const byUserCode = new Map<string, string>();

const epochTime = () => Math.floor(Date.now() / 1000);

export class MapAdapter {
  constructor(private readonly model: string) {}

  private key(id: string) {
    return `${this.model}:${id}`;
  }

  async upsert(id: string, payload: Payload, _expiresIn?: number): Promise<void> {
    const key = this.key(id);
    items.set(key, payload);
    if (payload.grantId !== undefined) {
      let members = byGrant.get(payload.grantId);
      if (members === undefined) {
        members = new Set();
        byGrant.set(payload.grantId, members);
      }
      members.add(key);
    }
    if (this.model === 'Session' && payload.uid !== undefined) bySessionUid.set(payload.uid, id);
    if (payload.userCode !== undefined) byUserCode.set(payload.userCode, id);
  }

  async find(id: string): Promise<Payload | undefined> {
    return items.get(this.key(id));
  }

  async findByUid(uid: string): Promise<Payload | undefined> {
    const id = bySessionUid.get(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode: string): Promise<Payload | undefined> {
    const id = byUserCode.get(userCode);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id: string): Promise<void> {
    const payload = items.get(this.key(id));
    if (payload) payload.consumed = epochTime();
  }

  async destroy(id: string): Promise<void> {
    const key = this.key(id);
    const payload = items.get(key);
    items.delete(key);
    if (payload?.grantId !== undefined) byGrant.get(payload.grantId)?.delete(key);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    for (const key of byGrant.get(grantId) ?? []) items.delete(key);
    byGrant.delete(grantId);
  }
}
