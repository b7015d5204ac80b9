import type { SoftwareClientCounts } from '../../core/registration/ports.js';

/** In-memory SoftwareClientCounts: check and add in one step, as the conditional update does. */
export class MemorySoftwareClientCounts implements SoftwareClientCounts {
  private readonly counts = new Map<string, number>();

  async claim(softwareId: string, cap: number): Promise<boolean> {
    const count = this.counts.get(softwareId) ?? 0;
    if (count >= cap) return false;
    this.counts.set(softwareId, count + 1);
    return true;
  }

  async release(softwareId: string): Promise<void> {
    const count = this.counts.get(softwareId) ?? 0;
    if (count <= 1) this.counts.delete(softwareId);
    else this.counts.set(softwareId, count - 1);
  }
}
