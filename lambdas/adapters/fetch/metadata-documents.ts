import type { IncomingHttpHeaders } from 'node:http';
import {
  clientFromMetadataDocument,
  clientIdUrlProblem,
} from '../../core/clients/client-id-metadata-document.js';
import type { MetadataDocumentResult, MetadataDocumentSource } from '../../core/clients/ports.js';
import type { Clock } from '../../core/clock.js';
import { FetchRefused, guardedGet } from './guarded-fetch.js';

/** A document larger than this is refused. */
const MAX_DOCUMENT_BYTES = 64 * 1024;
const TIMEOUT_MS = 5000;
/** A document whose response says nothing about caching is kept this long. */
const DEFAULT_CACHE_SECONDS = 300;
/** Longest a document is kept, whatever its response says. */
const MAX_CACHE_SECONDS = 24 * 3600;
/** A document that could not be used is not fetched again for this long. */
const FAILURE_CACHE_SECONDS = 30;
/** What one container keeps at most: so many documents, and so many bytes of them. */
const CACHE_LIMITS = { entries: 1000, bytes: 4 * 1024 * 1024 };

/**
 * How long a response may be reused (seconds), per its Cache-Control (`no-store` or `no-cache`:
 * not at all; `max-age`), else its Expires, else the default; never more than 24 hours.
 */
export function cacheSeconds(headers: IncomingHttpHeaders, now: number): number {
  const directives = (headers['cache-control'] ?? '')
    .toLowerCase()
    .split(',')
    .map((d) => d.trim());
  if (directives.some((d) => d === 'no-store' || d === 'no-cache')) return 0;
  const maxAge = directives.find((d) => /^max-age=\d+$/.test(d));
  let seconds: number;
  if (maxAge !== undefined) {
    seconds = Number(maxAge.slice('max-age='.length));
  } else if (headers.expires !== undefined) {
    // An Expires that is not a date means "already expired" (RFC 9111 §5.3).
    const expires = Date.parse(headers.expires);
    seconds = Number.isNaN(expires) ? 0 : Math.floor(expires / 1000) - now;
  } else {
    seconds = DEFAULT_CACHE_SECONDS;
  }
  return Math.max(0, Math.min(seconds, MAX_CACHE_SECONDS));
}

export interface MetadataDocumentsOptions {
  readonly clock: Clock;
  /** TESTS ONLY (DCR_TRUSTED_FETCH_ORIGINS): origins exempt from the address check. */
  readonly trustedOrigins?: ReadonlySet<string>;
  /** How long a fetch may take; 5 s unless a test needs less. */
  readonly timeoutMs?: number;
  /** How much is kept; 1000 documents and 4 MiB of them unless a test needs less. */
  readonly cacheLimits?: { readonly entries: number; readonly bytes: number };
}

interface Cached {
  readonly result: MetadataDocumentResult;
  /** Reusable while now < until. */
  readonly until: number;
  /** What it counts against the byte limit: its URL and the document fetched (if any). */
  readonly bytes: number;
}

/**
 * Client ID Metadata Documents fetched through the guarded GET (https, public addresses, no
 * redirects, 5 s, 64 KiB) and kept per container: per the response's caching headers (at most
 * 24 hours) when usable, 30 seconds when not. One fetch at a time per URL; at most 1000
 * documents and 4 MiB kept, the least recently used dropped first.
 */
export class FetchedMetadataDocuments implements MetadataDocumentSource {
  private readonly cache = new Map<string, Cached>();
  private readonly inFlight = new Map<string, Promise<MetadataDocumentResult>>();
  private readonly clock: Clock;
  private readonly trustedOrigins: ReadonlySet<string>;
  private readonly timeoutMs: number;
  private readonly limits: { readonly entries: number; readonly bytes: number };
  private cachedBytes = 0;

  constructor(options: MetadataDocumentsOptions) {
    this.clock = options.clock;
    this.trustedOrigins = options.trustedOrigins ?? new Set();
    this.timeoutMs = options.timeoutMs ?? TIMEOUT_MS;
    this.limits = options.cacheLimits ?? CACHE_LIMITS;
  }

  async resolve(url: string): Promise<MetadataDocumentResult> {
    const problem = clientIdUrlProblem(url);
    if (problem !== undefined) return { problem };
    const cached = this.forget(url);
    if (cached !== undefined && this.clock.now() < cached.until) {
      // Most recently used: last in the map's order.
      this.remember(url, cached);
      return cached.result;
    }
    let pending = this.inFlight.get(url);
    if (pending === undefined) {
      pending = this.load(url).finally(() => this.inFlight.delete(url));
      this.inFlight.set(url, pending);
    }
    return pending;
  }

  private async load(url: string): Promise<MetadataDocumentResult> {
    const fetchedAt = this.clock.now();
    const { result, seconds, bytes } = await this.fetchDocument(url, fetchedAt);
    const keep = 'client' in result ? seconds : FAILURE_CACHE_SECONDS;
    if (keep > 0) {
      this.forget(url);
      this.remember(url, {
        result,
        until: fetchedAt + keep,
        bytes: url.length + bytes,
      });
    }
    return result;
  }

  /** Keeps an entry, first dropping the least recently used ones it would not fit beside. */
  private remember(url: string, entry: Cached): void {
    if (entry.bytes > this.limits.bytes) return;
    while (
      this.cache.size > 0 &&
      (this.cache.size >= this.limits.entries || this.cachedBytes + entry.bytes > this.limits.bytes)
    ) {
      this.forget(this.cache.keys().next().value as string);
    }
    this.cache.set(url, entry);
    this.cachedBytes += entry.bytes;
  }

  private forget(url: string): Cached | undefined {
    const entry = this.cache.get(url);
    if (entry !== undefined) {
      this.cache.delete(url);
      this.cachedBytes -= entry.bytes;
    }
    return entry;
  }

  private async fetchDocument(
    url: string,
    fetchedAt: number,
  ): Promise<{ result: MetadataDocumentResult; seconds: number; bytes: number }> {
    // Failures are kept for a fixed time (see load); a problem is a short sentence.
    const failed = (why: string) => ({ result: { problem: why }, seconds: 0, bytes: why.length });
    let response: Awaited<ReturnType<typeof guardedGet>>;
    try {
      response = await guardedGet(url, {
        timeoutMs: this.timeoutMs,
        maxBytes: MAX_DOCUMENT_BYTES,
        accept: 'application/json',
        trustedOrigins: this.trustedOrigins,
      });
    } catch (error) {
      if (error instanceof FetchRefused) return failed(`it could not be fetched: ${error.message}`);
      throw error;
    }
    if (response.status >= 300 && response.status < 400) {
      return failed('its URL redirects, and redirects are not followed');
    }
    if (response.status !== 200) return failed(`its server answered HTTP ${response.status}`);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(response.body);
    } catch {
      return failed('it is not UTF-8 text');
    }
    return {
      result: clientFromMetadataDocument(url, text, fetchedAt),
      seconds: cacheSeconds(response.headers, fetchedAt),
      bytes: response.body.length,
    };
  }
}
