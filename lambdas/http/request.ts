import { invalidRequest, OAuthError, payloadTooLarge } from '../core/errors.js';
import type { HttpRequest } from './message.js';

/** Largest request body accepted (the 64 KiB); larger bodies get a 413. */
export const MAX_BODY_BYTES = 64 * 1024;

const mediaType = (request: HttpRequest) =>
  (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A bounded body as UTF-8 text. */
function bodyText(request: HttpRequest): string {
  const bytes = request.body ?? new Uint8Array();
  if (bytes.byteLength > MAX_BODY_BYTES) {
    throw payloadTooLarge(`request body exceeds ${MAX_BODY_BYTES} bytes`);
  }
  try {
    return utf8.decode(bytes);
  } catch {
    throw invalidRequest('request body is not valid UTF-8');
  }
}

/** The body of a JSON endpoint (register, client configuration), which must be a JSON object. */
export function readJsonObject(request: HttpRequest): Record<string, unknown> {
  if (mediaType(request) !== 'application/json') {
    throw invalidRequest('content type must be application/json');
  }
  let value: unknown;
  try {
    value = JSON.parse(bodyText(request));
  } catch (error) {
    if (error instanceof OAuthError) throw error;
    throw invalidRequest('request body is not well-formed JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidRequest('request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** RFC 6750 §2.1: the token of an `Authorization: Bearer` header, if there is one. */
export function bearerToken(request: HttpRequest): string | undefined {
  const match = request.headers.authorization?.match(/^Bearer +([A-Za-z0-9\-._~+/]+=*)\s*$/i);
  return match?.[1];
}

/** Parameters that RFC 8707 lets a client repeat; every other one must appear at most once. */
const REPEATABLE = new Set(['resource']);

/** An `application/x-www-form-urlencoded` body (token, introspection, revocation). */
export function readForm(request: HttpRequest): URLSearchParams {
  if (mediaType(request) !== 'application/x-www-form-urlencoded') {
    throw invalidRequest('content type must be application/x-www-form-urlencoded');
  }
  const params = new URLSearchParams(bodyText(request));
  const seen = new Set<string>();
  for (const name of params.keys()) {
    if (seen.has(name) && !REPEATABLE.has(name)) {
      throw invalidRequest(`${name} must not be repeated (RFC 6749 §3.2)`);
    }
    seen.add(name);
  }
  return params;
}

/** The q-value an Accept header gives a media type: its most specific matching range wins. */
function acceptQuality(accept: string, type: string): number {
  const ranges = [type, `${type.split('/')[0]}/*`, '*/*'];
  let best: { rank: number; q: number } | undefined;
  for (const part of accept.toLowerCase().split(',')) {
    const [range = '', ...params] = part.split(';').map((p) => p.trim());
    const rank = ranges.indexOf(range);
    if (rank === -1 || (best && best.rank <= rank)) continue;
    const q = params.find((p) => p.startsWith('q='));
    best = { rank, q: q === undefined ? 1 : Number(q.slice(2)) || 0 };
  }
  return best?.q ?? 0;
}

/**
 * Whether a request to a browser endpoint wants JSON rather than a page: an API client probing
 * the authorization URL (`Accept: application/json`), not a browser (`text/html` first).
 */
export function prefersJson(request: HttpRequest): boolean {
  const accept = request.headers.accept;
  if (accept === undefined) return false;
  return acceptQuality(accept, 'application/json') > acceptQuality(accept, 'text/html');
}

/** The cookies a request carries, by name (the first of a repeated name wins). */
export function readCookies(request: HttpRequest): ReadonlyMap<string, string> {
  const cookies = new Map<string, string>();
  for (const pair of (request.headers.cookie ?? '').split(';')) {
    const at = pair.indexOf('=');
    if (at < 1) continue;
    const name = pair.slice(0, at).trim();
    if (!cookies.has(name)) cookies.set(name, pair.slice(at + 1).trim());
  }
  return cookies;
}
