import { decodeCursor, encodeCursor } from '../../core/cursor.js';
import type {
  InitialAccessTokenRecord,
  InitialAccessTokenStore,
} from '../../core/registration/ports.js';

/**
 * In-memory InitialAccessTokenStore with the DynamoDB adapter's semantics: `use` checks and
 * counts in one step (no await in between, as a conditional update is atomic).
 */
export class MemoryInitialAccessTokens implements InitialAccessTokenStore {
  private readonly tokens = new Map<string, InitialAccessTokenRecord>();

  async create(record: InitialAccessTokenRecord): Promise<void> {
    if (this.tokens.has(record.id)) throw new Error('initial access token collision');
    this.tokens.set(record.id, record);
  }

  async get(id: string) {
    return this.tokens.get(id);
  }

  async use(id: string, tokenHash: string, now: number) {
    const token = this.tokens.get(id);
    if (
      token === undefined ||
      token.tokenHash !== tokenHash ||
      token.expiresAt <= now ||
      (token.maxUses !== undefined && token.uses >= token.maxUses) ||
      (token.maxActiveClients !== undefined && (token.activeClients ?? 0) >= token.maxActiveClients)
    ) {
      return undefined;
    }
    const used = { ...token, uses: token.uses + 1, activeClients: (token.activeClients ?? 0) + 1 };
    this.tokens.set(id, used);
    return used;
  }

  async release(id: string) {
    const token = this.tokens.get(id);
    if (token?.activeClients)
      this.tokens.set(id, { ...token, activeClients: token.activeClients - 1 });
  }

  async delete(id: string) {
    return this.tokens.delete(id);
  }

  async page(cursor: string | undefined, scanLimit: number) {
    const all = [...this.tokens.values()];
    const start = cursor === undefined ? 0 : decodeCursor<{ at: number }>(cursor).at;
    const end = start + scanLimit;
    return {
      records: all.slice(start, end),
      ...(end < all.length && { cursor: encodeCursor({ at: end }) }),
    };
  }
}
