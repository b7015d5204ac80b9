import { hash } from 'node:crypto';
import type { ClientMetadata } from '../clients/client-metadata.js';
import type { Writable } from '../writable.js';
import type { AuditEvent } from './audit.js';
import type {
  ClientHealthCounters,
  ClientStatistics,
  CounterUpdate,
  MetadataRun,
} from './ports.js';

/**
 * Client health, for the operator: per client, refresh token reuse absorbed by the grace window
 * and refresh token families revoked by a reuse (counted by the token function on the reuse paths
 * only), and whether its registration repeated identical metadata (a re-registration loop),
 * found by the audit trail off the request path. docs/operations.md "Client health".
 */

/**
 * Registrations of identical metadata at most this far apart form one run: a client that
 * registers on every connect keeps its run going.
 */
export const REPEAT_WINDOW_SECONDS = 86_400;

/** Per-client counters are kept this long after their last change (their TTL). */
export const HEALTH_KEPT_SECONDS = 400 * 86_400;

/** Lists whose order means nothing (RFC 7591): sorted before hashing. */
const UNORDERED = new Set(['redirect_uris', 'grant_types', 'response_types', 'contacts']);

/**
 * The fingerprint of registered metadata: SHA-256 (base64url) of its normalised form, the
 * stored metadata (defaults applied, redirect URIs normalised) with its members in name order
 * and its unordered lists sorted.
 */
export const metadataFingerprint = (metadata: ClientMetadata): string => {
  const members = metadata as Record<string, unknown>;
  // In name order by insertion (a few dozen names at most: Array.prototype.sort allocates
  // more than the names weigh); lists copied to be sorted only when they hold two or more. This
  // runs on every registration.
  const names = Object.keys(members);
  for (let i = 1; i < names.length; i++) {
    const name = names[i] as string;
    let at = i;
    for (; at > 0 && (names[at - 1] as string) > name; at--) names[at] = names[at - 1] as string;
    names[at] = name;
  }
  const normalised: [string, unknown][] = new Array(names.length);
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const value = members[name];
    normalised[i] = [
      name,
      Array.isArray(value) && value.length > 1 && UNORDERED.has(name) ? [...value].sort() : value,
    ];
  }
  return hash('sha256', JSON.stringify(normalised), 'base64url');
};

/**
 * A refresh token family's change as the stream (or the local grant store) reports it: its
 * client and its generation before and after (1 = its first refresh token, never used).
 */
export interface FamilyChange {
  readonly clientId: string;
  readonly before?: number;
  readonly after?: number;
  readonly at: number;
}

/**
 * Refresh token families issued and families whose first token was used, per client: a family
 * created (generation 1) or rotated for the first time (1 → 2). Their difference is the refresh
 * tokens issued and never used. Counted from the grant writes that happen anyway.
 */
export const familyCounterUpdates = (changes: readonly FamilyChange[]): CounterUpdate[] =>
  changes.flatMap(({ clientId, before, after, at }) => {
    const counter =
      before === undefined && after === 1
        ? 'refresh_families'
        : before === 1 && after === 2
          ? 'refresh_families_used'
          : undefined;
    return counter === undefined
      ? []
      : [{ item: `client#${clientId}`, deltas: { [counter]: 1 }, at }];
  });

/** A registration whose metadata is identical to one registered within the window. */
export interface RepeatedRegistrationEvent {
  readonly type: 'registration.repeated';
  readonly client_id: string;
  readonly client_name?: string;
  readonly software_id?: string;
  readonly metadata_fingerprint: string;
  /** Registrations of this metadata in the run so far, this one included (≥ 2). */
  readonly registrations: number;
  /** When the run began. */
  readonly first_at: number;
  /** The client the previous registration of this metadata made. */
  readonly previous_client_id?: string;
  readonly source_ip?: string;
  readonly occurred_at: number;
}

/**
 * Each registration's fingerprint is added to its run; a registration that continues a run
 * (identical metadata registered within REPEAT_WINDOW_SECONDS) becomes a
 * `registration.repeated` event. One counter write per registration, in the audit trail.
 */
export async function noteRegistrations(
  statistics: ClientStatistics,
  events: readonly AuditEvent[],
): Promise<RepeatedRegistrationEvent[]> {
  const repeated: RepeatedRegistrationEvent[] = [];
  for (const event of events) {
    const continued = await noteRegistration(statistics, event);
    if (continued !== undefined) repeated.push(continued);
  }
  return repeated;
}

/**
 * noteRegistrations for one event. Not an async function: the note's own promise carries the
 * answer (no suspended frame on every registration of the local server).
 */
export function noteRegistration(
  statistics: ClientStatistics,
  event: AuditEvent,
): Promise<RepeatedRegistrationEvent | undefined> {
  const fingerprint = event.metadata_fingerprint;
  if (event.type !== 'client.registered' || fingerprint === undefined) {
    return Promise.resolve(undefined);
  }
  // When the client was registered, not when the change reached the audit trail (a stream
  // record's time is approximate, and may fall in the next second).
  return statistics
    .noteRegistration(
      fingerprint,
      event.client_id,
      event.client_id_issued_at,
      REPEAT_WINDOW_SECONDS,
    )
    .then((run) => {
      if (run.registrations < 2) return undefined;
      // Members assigned in order, only when present (cheaper than conditional spreads).
      const built: Partial<Writable<RepeatedRegistrationEvent>> = {
        type: 'registration.repeated',
        client_id: event.client_id,
      };
      if (event.client_name !== undefined) built.client_name = event.client_name;
      if (event.software_id !== undefined) built.software_id = event.software_id;
      built.metadata_fingerprint = fingerprint;
      built.registrations = run.registrations;
      built.first_at = run.firstAt;
      if (run.previousClientId !== undefined) built.previous_client_id = run.previousClientId;
      if (event.source_ip !== undefined) built.source_ip = event.source_ip;
      built.occurred_at = event.occurred_at;
      return built as RepeatedRegistrationEvent;
    });
}

/** What the admin API and the dashboard show of a client's health. */
export interface ClientHealth {
  /** Refresh token families whose first refresh token was never presented (counted from the deploy on). */
  readonly refresh_tokens_never_used: number;
  /** Refresh tokens presented again within the grace window, answered with their successor. */
  readonly refresh_reuse_absorbed: number;
  /** Refresh token families ended because an old token was presented again. */
  readonly refresh_families_revoked_by_reuse: number;
  readonly metadata_fingerprint?: string;
  /**
   * Registrations of this client's exact metadata in the current run (1: none other within
   * the window), when it began and when the last was.
   */
  readonly same_metadata_registrations?: number;
  readonly same_metadata_since?: number;
  readonly same_metadata_last_at?: number;
}

/** The health view from the client's counters and its fingerprint's run (if still going). */
export function clientHealth(
  counters: ClientHealthCounters,
  fingerprint: string | undefined,
  run: MetadataRun | undefined,
  now: number,
): ClientHealth {
  const going = run !== undefined && run.lastAt + REPEAT_WINDOW_SECONDS > now;
  const families = counters.refresh_families ?? 0;
  return {
    refresh_tokens_never_used: Math.max(0, families - (counters.refresh_families_used ?? 0)),
    refresh_reuse_absorbed: counters.reuse_absorbed ?? 0,
    refresh_families_revoked_by_reuse: counters.family_revoked_by_reuse ?? 0,
    ...(fingerprint !== undefined && {
      metadata_fingerprint: fingerprint,
      same_metadata_registrations: going ? run.registrations : 1,
      ...(going && { same_metadata_since: run.firstAt, same_metadata_last_at: run.lastAt }),
    }),
  };
}
