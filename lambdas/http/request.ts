import { invalidRequest, OAuthError } from '../core/errors.js';
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
    throw new OAuthError(413, 'invalid_request', `request body exceeds ${MAX_BODY_BYTES} bytes`);
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
