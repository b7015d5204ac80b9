import type { ChangeOrigin } from '../../core/clients/ports.js';
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
}
