import {
  createRemoteJWKSet,
  customFetch,
  type FetchImplementation,
  type JWTVerifyGetKey,
} from 'jose';
import type { RemoteKeySets } from '../../core/clients/ports.js';
import { guardedGet } from './guarded-fetch.js';

/** A key set larger than this is refused. */
const MAX_JWKS_BYTES = 64 * 1024;
const TIMEOUT_MS = 3000;
const CACHE_MS = 10 * 60 * 1000;
const MAX_CACHED_URIS = 1000;

/**
 * The fetch jose uses for jwks_uri: the guarded GET (https only, public addresses only unless
 * the origin is trusted for tests, no redirects, at most MAX_JWKS_BYTES), also aborted by jose's
 * timeout signal.
 */
export const jwksFetch =
  (trustedOrigins: ReadonlySet<string> = new Set()): FetchImplementation =>
  async (url, options) => {
    const res = await guardedGet(url, {
      timeoutMs: TIMEOUT_MS,
      maxBytes: MAX_JWKS_BYTES,
      accept: 'application/json, application/jwk-set+json',
      trustedOrigins,
      signal: options.signal,
    });
    const contentType = res.headers['content-type'] ?? 'application/json';
    const nullBody = [204, 205, 304].includes(res.status);
    return new Response(nullBody ? null : new Uint8Array(res.body), {
      status: res.status,
      headers: { 'content-type': contentType },
    });
  };

/** jose remote key sets per jwks_uri, cached (bounded) across requests of one container. */
export class GuardedRemoteKeySets implements RemoteKeySets {
  private readonly sets = new Map<string, JWTVerifyGetKey>();
  private readonly fetchImplementation: FetchImplementation;

  /** trustedOrigins: TESTS ONLY (DCR_TRUSTED_FETCH_ORIGINS), exempt from the address check. */
  constructor(trustedOrigins: ReadonlySet<string> = new Set()) {
    this.fetchImplementation = jwksFetch(trustedOrigins);
  }

  resolver(uri: string): JWTVerifyGetKey {
    let set = this.sets.get(uri);
    if (set === undefined) {
      set = createRemoteJWKSet(new URL(uri), {
        timeoutDuration: TIMEOUT_MS,
        cacheMaxAge: CACHE_MS,
        [customFetch]: this.fetchImplementation,
      });
      if (this.sets.size >= MAX_CACHED_URIS) {
        this.sets.delete(this.sets.keys().next().value as string);
      }
      this.sets.set(uri, set);
    }
    return set;
  }
}
