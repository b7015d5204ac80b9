import type { Clock } from '../clock.js';
import { temporarilyUnavailable } from '../errors.js';
import type { TrustedIssuerStore } from './ports.js';
import type { TrustedIssuerSettings } from './trusted-issuers.js';

/**
 * A stored definition checked again as it is read (the same schema and cross-checks as the
 * configuration: the served resources may have changed since it was put); undefined = unusable.
 */
export type StoredIssuerParser = (
  issuer: string,
  definition: unknown,
) => TrustedIssuerSettings | undefined;

/** Issuers remembered per container, found or not: a bounded map, the oldest forgotten first. */
export const STORED_ISSUER_CACHE_ENTRIES = 1000;
/**
 * Table reads for issuers not remembered, per container and second. Anyone can send an assertion
 * naming any `iss`: each unknown one costs one read, then is remembered as unknown; beyond this
 * rate the request is answered 503 (retry) instead of reading, so no sender makes the token
 * path read the table without bound.
 */
export const STORED_ISSUER_READS_PER_SECOND = 20;

interface Remembered {
  readonly until: number;
  readonly issuer: TrustedIssuerSettings | undefined;
}

/**
 * The trusted issuers the operator stored through the admin API, as the token path sees them:
 * each read once (one GetItem) and remembered for `cacheSeconds` — found or not — so a token
 * costs no read once its issuer is known, and a removed or replaced issuer stops counting in a
 * warm container within that time. Concurrent lookups of one issuer share one read.
 */
export class StoredIssuerLookup {
  private readonly remembered = new Map<string, Remembered>();
  private readonly reading = new Map<string, Promise<TrustedIssuerSettings | undefined>>();
  private window = { second: -1, reads: 0 };

  constructor(
    private readonly store: Pick<TrustedIssuerStore, 'get'>,
    private readonly clock: Clock,
    private readonly cacheSeconds: number,
    private readonly parse: StoredIssuerParser,
  ) {}

  /** The stored issuer's settings, or undefined when none is stored (or it is unusable). */
  find(issuer: string): Promise<TrustedIssuerSettings | undefined> {
    const now = this.clock.now();
    const known = this.remembered.get(issuer);
    if (known !== undefined && now < known.until) return Promise.resolve(known.issuer);
    const pending = this.reading.get(issuer);
    if (pending !== undefined) return pending;
    if (this.window.second !== now) this.window = { second: now, reads: 0 };
    if (this.window.reads >= STORED_ISSUER_READS_PER_SECOND) {
      return Promise.reject(
        temporarilyUnavailable('too many assertions of unknown issuers; try again in a second'),
      );
    }
    this.window.reads++;
    const read = this.store
      .get(issuer)
      .then((stored) => {
        const settings = stored && this.parse(issuer, stored.definition);
        this.remember(issuer, settings, now);
        return settings;
      })
      .finally(() => this.reading.delete(issuer));
    this.reading.set(issuer, read);
    return read;
  }

  /** What the operator just changed in this process (the local server): seen at once. */
  forget(issuer: string): void {
    this.remembered.delete(issuer);
  }

  private remember(issuer: string, settings: TrustedIssuerSettings | undefined, now: number) {
    if (this.cacheSeconds === 0) return;
    this.remembered.delete(issuer);
    if (this.remembered.size >= STORED_ISSUER_CACHE_ENTRIES) {
      const oldest = this.remembered.keys().next().value as string;
      this.remembered.delete(oldest);
    }
    this.remembered.set(issuer, { until: now + this.cacheSeconds, issuer: settings });
  }
}
