import type { ClientHealth } from './client-health.js';

/**
 * A statistics item: the active clients (all time), one UTC day's events (`day#2026-11-27`),
 * one software_id's active clients (`software#<software_id>`, counter `active`), or one client's
 * health counters (`client#<client_id>`, client-health.ts).
 */
export type StatsItem = 'active' | `day#${string}` | `software#${string}` | `client#${string}`;

/** A client's health counters (`reuse_absorbed`, `family_revoked_by_reuse`). */
export type ClientHealthCounters = Readonly<Record<string, number>>;

/** Registrations of one metadata fingerprint at most REPEAT_WINDOW_SECONDS apart. */
export interface MetadataRun {
  /** In the run so far. */
  readonly registrations: number;
  readonly firstAt: number;
  readonly lastAt: number;
  /** The client of the registration before the one just noted (noteRegistration only). */
  readonly previousClientId?: string;
}

/** A software_id and its active clients, as the statistics count them. */
export interface SoftwareCount {
  readonly softwareId: string;
  readonly active: number;
}

/** One atomic change of one statistics item: each named counter moves by its delta. */
export interface CounterUpdate {
  readonly item: StatsItem;
  /** Counter name (`<counter>#<registration method>`) → delta. */
  readonly deltas: Readonly<Record<string, number>>;
  /** The earliest change counted in it (integer seconds). */
  readonly at: number;
}

/** What the statistics items hold, read in a bounded number of item reads (never a scan). */
export interface StatsSnapshot {
  /** The active item's counters (`active#<method>`). */
  readonly active: Readonly<Record<string, number>>;
  /** When counting began: the first counter update this table saw. */
  readonly countingSince?: number;
  /** When the active counters were last recounted from the clients themselves. */
  readonly recountedAt?: number;
  /** Each requested day (ISO date) that has an item → its counters (`<event>#<method>`). */
  readonly days: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** Counters kept from the change events (ClientStatistics rules in client-statistics.ts). */
export interface ClientStatistics {
  /** Applies the updates: each one atomic on its item, no transaction across items. */
  add(updates: readonly CounterUpdate[]): Promise<void>;
  /** The active item and the items of the given days (ISO dates). */
  read(days: readonly string[]): Promise<StatsSnapshot>;
  /** Sets the active counters to these values (a recount), recording when. */
  setActive(counters: Readonly<Record<string, number>>, at: number): Promise<void>;
  /**
   * The software_ids with the most active clients, most first (at most `limit`, counts above
   * zero): one read of the software counters' own partition, never a scan of the clients.
   */
  topSoftware(limit: number): Promise<SoftwareCount[]>;
  /** Sets every software_id's count to zero (a recount starts; its steps add them up again). */
  resetSoftware(): Promise<void>;
  /**
   * Adds a registration to its fingerprint's run (a new run when the last registration of it is
   * `windowSeconds` old or more): one atomic write, answering the run as it now stands.
   */
  noteRegistration(
    fingerprint: string,
    clientId: string,
    at: number,
    windowSeconds: number,
  ): Promise<MetadataRun>;
  /**
   * A client's health as the operator reads it (clientHealth in client-health.ts): its counters
   * and, given its fingerprint, that fingerprint's run if still going at `now`.
   */
  clientHealth(
    clientId: string,
    fingerprint: string | undefined,
    now: number,
  ): Promise<ClientHealth>;
}
