import { decodeCursor, encodeCursor } from '../../core/cursor.js';
import type { StoredTrustedIssuer, TrustedIssuerStore } from '../../core/federation/ports.js';

/** In-memory TrustedIssuerStore for unit tests, benchmarks and the in-memory local store. */
export class MemoryTrustedIssuers implements TrustedIssuerStore {
  private readonly issuers = new Map<string, StoredTrustedIssuer>();

  async get(issuer: string): Promise<StoredTrustedIssuer | undefined> {
    return this.issuers.get(issuer);
  }

  async put(record: StoredTrustedIssuer): Promise<boolean> {
    const created = !this.issuers.has(record.issuer);
    this.issuers.set(record.issuer, structuredClone(record));
    return created;
  }

  async remove(issuer: string): Promise<boolean> {
    return this.issuers.delete(issuer);
  }

  async page(cursor: string | undefined, scanLimit: number) {
    const all = [...this.issuers.values()];
    const start = cursor === undefined ? 0 : decodeCursor<{ at: number }>(cursor).at;
    const end = start + scanLimit;
    return {
      records: all.slice(start, end),
      ...(end < all.length && { cursor: encodeCursor({ at: end }) }),
    };
  }
}
