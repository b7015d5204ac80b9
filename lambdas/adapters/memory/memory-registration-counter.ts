import type { Clock } from '../../core/clock.js';
import type { RegistrationCounter } from '../../core/registration/ports.js';

/**
 * In-memory counters (tests, benchmarks, the local server on its memory store). Bounded: an
 * entry is dropped once its window has passed, and past `maxEntries` live entries the oldest
 * goes first (a flood of distinct sources cannot grow the process without bound).
 */
export class MemoryRegistrationCounter implements RegistrationCounter {
  private readonly counters = new Map<string, { hits: number; expiresAt: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly maxEntries = 10_000,
  ) {}

  async hit(key: string, expiresAt: number): Promise<number> {
    const now = this.clock.now();
    const current = this.counters.get(key);
    if (current && current.expiresAt > now) {
      current.hits += 1;
      return current.hits;
    }
    this.counters.delete(key);
    if (this.counters.size >= this.maxEntries) this.evict(now);
    this.counters.set(key, { hits: 1, expiresAt });
    return 1;
  }

  /** How many counters are held (tests of the bound). */
  get size(): number {
    return this.counters.size;
  }

  private evict(now: number): void {
    for (const [key, entry] of this.counters) {
      if (entry.expiresAt <= now) this.counters.delete(key);
    }
    // Still full: drop the oldest (insertion order) until there is room.
    for (const key of this.counters.keys()) {
      if (this.counters.size < this.maxEntries) break;
      this.counters.delete(key);
    }
  }
}
