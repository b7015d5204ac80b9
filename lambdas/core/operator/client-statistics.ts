import type { AuditEvent } from './audit.js';
import type {
  ClientStatistics,
  CounterUpdate,
  SoftwareCount,
  StatsItem,
  StatsSnapshot,
} from './ports.js';

/** One per-day counter per audit event type (`client.expired` → `expired`). */
export const DAY_COUNTERS = [
  'registered',
  'updated',
  'secret_rotated',
  'deleted_by_client',
  'deleted_by_operator',
  'expired',
] as const;
export type DayCounter = (typeof DAY_COUNTERS)[number];

/** How each event moves the number of active clients. */
const ACTIVE_DELTA: Record<DayCounter, number> = {
  registered: 1,
  updated: 0,
  secret_rotated: 0,
  deleted_by_client: -1,
  deleted_by_operator: -1,
  expired: -1,
};

/** Per-day items are kept this long (their TTL); the stats API reads at most this many days. */
export const STATS_DAYS_KEPT = 400;

/** Clients stored before registration methods were recorded registered openly. */
const DEFAULT_METHOD = 'open';

const DAY_SECONDS = 86_400;

let lastDay = { number: Number.NaN, iso: '' };

/** The UTC day (ISO date) of an instant; the last one is kept: most events share their day. */
export function isoDay(epochSeconds: number): string {
  const number = Math.floor(epochSeconds / DAY_SECONDS);
  if (number !== lastDay.number) {
    lastDay = { number, iso: new Date(number * DAY_SECONDS * 1000).toISOString().slice(0, 10) };
  }
  return lastDay.iso;
}

/** The counter of active clients registered by a method. */
export const activeCounter = (registrationMethod: string | undefined): string =>
  `active#${registrationMethod ?? DEFAULT_METHOD}`;

/**
 * The counting rule: an event adds one to its UTC day's counter for its type and registration
 * method, and a registration, deletion or expiry also moves the active clients of that method.
 */
export function counterUpdatesFor(event: AuditEvent): CounterUpdate[] {
  const counter = event.type.slice('client.'.length) as DayCounter;
  const method = event.registration_method ?? DEFAULT_METHOD;
  const at = event.occurred_at;
  const updates: CounterUpdate[] = [
    { item: `day#${isoDay(at)}`, deltas: { [`${counter}#${method}`]: 1 }, at },
  ];
  const active = ACTIVE_DELTA[counter];
  if (active !== 0) {
    updates.push({ item: 'active', deltas: { [activeCounter(method)]: active }, at });
    if (event.software_id !== undefined) {
      updates.push({ item: `software#${event.software_id}`, deltas: { active }, at });
    }
  }
  return updates;
}

/**
 * Many updates as one per item (a stream batch: fewer writes, a cooler active item); counters
 * that cancel out are dropped, and so are items left with nothing to change. Plain loops: it
 * runs for every batch of changes.
 */
export function mergeCounterUpdates(updates: readonly CounterUpdate[]): CounterUpdate[] {
  const merged = new Map<StatsItem, { deltas: Record<string, number>; at: number }>();
  for (const { item, deltas, at } of updates) {
    let into = merged.get(item);
    if (into === undefined) {
      into = { deltas: {}, at };
      merged.set(item, into);
    } else if (at < into.at) {
      into.at = at;
    }
    for (const name of Object.keys(deltas)) {
      into.deltas[name] = (into.deltas[name] ?? 0) + (deltas[name] as number);
    }
  }
  const result: CounterUpdate[] = [];
  for (const [item, { deltas, at }] of merged) {
    const moved: Record<string, number> = {};
    let any = false;
    for (const name of Object.keys(deltas)) {
      const delta = deltas[name] as number;
      if (delta === 0) continue;
      moved[name] = delta;
      any = true;
    }
    if (any) result.push({ item, deltas: moved, at });
  }
  return result;
}

/**
 * Counts audit events: one atomic update per statistics item they touch, never a scan. Not an
 * async function: the write's own promise is the answer (one suspended frame fewer on every
 * registration).
 */
export function countEvents(
  statistics: ClientStatistics,
  events: readonly AuditEvent[],
): Promise<void> {
  // One event's updates touch distinct items and never cancel out: nothing to merge.
  const updates =
    events.length === 1
      ? counterUpdatesFor(events[0] as AuditEvent)
      : mergeCounterUpdates(events.flatMap(counterUpdatesFor));
  return updates.length > 0 ? statistics.add(updates) : Promise.resolve();
}

/** The `limit` software_ids with the most active clients (above zero), most first. */
export const rankSoftware = (counts: readonly SoftwareCount[], limit: number): SoftwareCount[] =>
  counts
    .filter((c) => c.active > 0)
    .sort((a, b) => b.active - a.active || a.softwareId.localeCompare(b.softwareId))
    .slice(0, limit);

/** The last `count` UTC days, today's last. */
export const lastDays = (now: number, count: number): string[] =>
  Array.from({ length: count }, (_, i) => isoDay(now - (count - 1 - i) * DAY_SECONDS));

/** `registered#open` → ['registered', 'open']. */
function split(name: string): [string, string] {
  const at = name.indexOf('#');
  return [name.slice(0, at), name.slice(at + 1)];
}

/** The active clients by registration method (methods at zero left out). */
export function activeByMethod(counters: Readonly<Record<string, number>>) {
  const byMethod: Record<string, number> = {};
  for (const [name, value] of Object.entries(counters)) {
    const [counter, method] = split(name);
    if (counter === 'active' && value !== 0) byMethod[method] = value;
  }
  return byMethod;
}

/** One day of the report: every event type's total, and by registration method when any. */
function dayStats(day: string, counters: Readonly<Record<string, number>>) {
  const totals = Object.fromEntries(DAY_COUNTERS.map((c) => [c, 0])) as Record<DayCounter, number>;
  const byMethod: Record<string, Partial<Record<DayCounter, number>>> = {};
  for (const [name, value] of Object.entries(counters)) {
    const [counter, method] = split(name);
    if (!(DAY_COUNTERS as readonly string[]).includes(counter) || value === 0) continue;
    totals[counter as DayCounter] += value;
    byMethod[method] = { ...byMethod[method], [counter]: value };
  }
  return {
    day,
    ...totals,
    ...(Object.keys(byMethod).length > 0 && { by_registration_method: byMethod }),
  };
}

/** The stats API's answer, from the counters of the active item and of each requested day. */
export function statsReport(snapshot: StatsSnapshot, days: readonly string[]) {
  const byMethod = activeByMethod(snapshot.active);
  return {
    active_clients: Object.values(byMethod).reduce((a, b) => a + b, 0),
    active_clients_by_registration_method: byMethod,
    per_day: days.map((day) => dayStats(day, snapshot.days[day] ?? {})),
    ...(snapshot.countingSince !== undefined && { counting_since: snapshot.countingSince }),
    ...(snapshot.recountedAt !== undefined && { recounted_at: snapshot.recountedAt }),
  };
}
