import type { ChangeOrigin } from '../../core/clients/ports.js';
import { decodeCursor, encodeCursor } from '../../core/cursor.js';
import type { StoredTrustedIssuer, TrustedIssuerStore } from '../../core/federation/ports.js';

/** In-memory TrustedIssuerStore for unit tests, benchmarks and the in-memory local store. */
export class MemoryTrustedIssuers implements TrustedIssuerStore {
  private readonly issuers = new Map<string, StoredTrustedIssuer>();

  async get(issuer: string): Promise<StoredTrustedIssuer | undefined> {
    return this.issuers.get(issuer);
  }

  async put(record: StoredTrustedIssuer): Promise<StoredTrustedIssuer | undefined> {
    const replaced = this.issuers.get(record.issuer);
    this.issuers.set(record.issuer, structuredClone(record));
    return replaced;
  }

  async remove(issuer: string, removed: ChangeOrigin): Promise<StoredTrustedIssuer | undefined> {
    const record = this.issuers.get(issuer);
    this.issuers.delete(issuer);
    return record && { ...record, removed };
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
