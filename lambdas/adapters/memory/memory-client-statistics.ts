import { clientHealth } from '../../core/operator/client-health.js';
import { rankSoftware } from '../../core/operator/client-statistics.js';
import type {
  ClientStatistics,
  CounterUpdate,
  MetadataRun,
  SoftwareCount,
  StatsItem,
  StatsSnapshot,
} from '../../core/operator/ports.js';

/** In-memory counters with the DynamoDB adapter's semantics, for the in-memory local store. */
export class MemoryClientStatistics implements ClientStatistics {
  private readonly items = new Map<StatsItem, Record<string, number>>();
  private readonly runs = new Map<string, MetadataRun & { lastClientId: string }>();
  private countingSince?: number;
  private recountedAt?: number;

  async add(updates: readonly CounterUpdate[]): Promise<void> {
    for (const { item, deltas, at } of updates) {
      let counters = this.items.get(item);
      if (counters === undefined) {
        counters = {};
        this.items.set(item, counters);
      }
      for (const name of Object.keys(deltas)) {
        counters[name] = (counters[name] ?? 0) + (deltas[name] as number);
      }
      if (item === 'active') this.countingSince ??= at;
    }
  }

  async read(days: readonly string[]): Promise<StatsSnapshot> {
    const found = days.flatMap((day) => {
      const counters = this.items.get(`day#${day}`);
      return counters ? [[day, { ...counters }] as const] : [];
    });
    return {
      active: { ...this.items.get('active') },
      ...(this.countingSince !== undefined && { countingSince: this.countingSince }),
      ...(this.recountedAt !== undefined && { recountedAt: this.recountedAt }),
      days: Object.fromEntries(found),
    };
  }

  async setActive(values: Readonly<Record<string, number>>, at: number): Promise<void> {
    this.items.set('active', { ...this.items.get('active'), ...values });
    this.recountedAt = at;
    this.countingSince ??= at;
  }

  private software(): [StatsItem, Record<string, number>][] {
    return [...this.items].filter(([item]) => item.startsWith('software#'));
  }

  async topSoftware(limit: number): Promise<SoftwareCount[]> {
    const counts = this.software().map(([item, counters]) => ({
      softwareId: item.slice('software#'.length),
      active: counters.active ?? 0,
    }));
    return rankSoftware(counts, limit);
  }

  async resetSoftware(): Promise<void> {
    for (const [item, counters] of this.software())
      this.items.set(item, { ...counters, active: 0 });
  }

  async noteRegistration(fingerprint: string, clientId: string, at: number, windowSeconds: number) {
    const last = this.runs.get(fingerprint);
    const going = last !== undefined && last.lastAt > at - windowSeconds;
    const registrations = going ? last.registrations + 1 : 1;
    const firstAt = going ? last.firstAt : at;
    this.runs.set(fingerprint, { registrations, firstAt, lastAt: at, lastClientId: clientId });
    return going
      ? { registrations, firstAt, lastAt: at, previousClientId: last.lastClientId }
      : { registrations, firstAt, lastAt: at };
  }

  async clientHealth(clientId: string, fingerprint: string | undefined, now: number) {
    const run = fingerprint === undefined ? undefined : this.runs.get(fingerprint);
    return clientHealth(this.items.get(`client#${clientId}`) ?? {}, fingerprint, run, now);
  }
}
