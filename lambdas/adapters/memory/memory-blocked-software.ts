import type { ChangeOrigin } from '../../core/clients/ports.js';
import { decodeCursor, encodeCursor } from '../../core/cursor.js';
import type { BlockedSoftwareIds } from '../../core/registration/ports.js';

/** In-memory BlockedSoftwareIds for unit tests, benchmarks and the in-memory local store. */
export class MemoryBlockedSoftwareIds implements BlockedSoftwareIds {
  private readonly blocked = new Map<string, ChangeOrigin>();

  async isBlocked(softwareId: string): Promise<boolean> {
    return this.blocked.has(softwareId);
  }

  async block(softwareId: string, origin: ChangeOrigin): Promise<void> {
    this.blocked.set(softwareId, origin);
  }

  async unblock(softwareId: string): Promise<boolean> {
    return this.blocked.delete(softwareId);
  }

  async page(cursor: string | undefined, scanLimit: number) {
    const all = [...this.blocked].map(([softwareId, origin]) => ({ softwareId, ...origin }));
    const start = cursor === undefined ? 0 : decodeCursor<{ at: number }>(cursor).at;
    const end = start + scanLimit;
    return {
      records: all.slice(start, end),
      ...(end < all.length && { cursor: encodeCursor({ at: end }) }),
    };
  }
}
