import { mergeCounterUpdates } from '../core/operator/client-statistics.js';
import type {
  ClientStatistics,
  CounterUpdate,
  SoftwareCount,
  StatsSnapshot,
} from '../core/operator/ports.js';
import { logger } from '../log.js';

/**
 * Counter updates written in the background, as the stream batches them in AWS: the request
 * that made a change does not wait for its count. A write starts once the event loop has run
 * what is ready (every request of that turn joins it) and merges what arrives while it is in
 * flight, so under load many changes cost one write per item. Reads wait for what is pending
 * first, so they see every change made before them. A failed write is logged and its counts are
 * lost.
 */
export class CoalescingClientStatistics implements ClientStatistics {
  private pending: CounterUpdate[] = [];
  private draining: Promise<void> | undefined;

  constructor(private readonly inner: ClientStatistics) {}

  async add(updates: readonly CounterUpdate[]): Promise<void> {
    this.pending.push(...updates);
    // Not for nothing: a drain with nothing to write ends before it is stored, and flush() would
    // then wait on it forever.
    if (this.pending.length > 0) this.draining ??= this.drain();
  }

  /** Resolves once every update added so far is written (or has failed). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  async read(days: readonly string[]): Promise<StatsSnapshot> {
    await this.flush();
    return this.inner.read(days);
  }

  async setActive(values: Readonly<Record<string, number>>, at: number): Promise<void> {
    await this.flush();
    await this.inner.setActive(values, at);
  }

  async topSoftware(limit: number): Promise<SoftwareCount[]> {
    await this.flush();
    return this.inner.topSoftware(limit);
  }

  async resetSoftware(): Promise<void> {
    await this.flush();
    await this.inner.resetSoftware();
  }

  noteRegistration(fingerprint: string, clientId: string, at: number, windowSeconds: number) {
    return this.inner.noteRegistration(fingerprint, clientId, at, windowSeconds);
  }

  async clientHealth(clientId: string, fingerprint: string | undefined, now: number) {
    await this.flush();
    return this.inner.clientHealth(clientId, fingerprint, now);
  }

  private async drain(): Promise<void> {
    try {
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.pending.length > 0) {
        const batch = mergeCounterUpdates(this.pending);
        this.pending = [];
        await this.inner
          .add(batch)
          .catch((error: Error) => logger.error('statistics not updated', { error }));
      }
    } finally {
      this.draining = undefined;
    }
  }
}
