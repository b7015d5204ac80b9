import { createHash } from 'node:crypto';
import type { HttpRequest, HttpResponse } from '../message.js';

/**
 * A JSON document every caller gets alike until the configuration or the keys change (server
 * metadata, the JWKS): serialised once, with a strong validator computed once from its bytes.
 */
export interface PublishedDocument {
  readonly body: string;
  /** RFC 9110 §8.8.3: a strong entity tag, the same on every container serving these bytes. */
  readonly etag: string;
  /** The response headers besides the ones the router adds, built once. */
  readonly headers: Readonly<Record<string, string>>;
}

export function publishDocument(value: unknown, cacheControl: string): PublishedDocument {
  const body = JSON.stringify(value);
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  return {
    body,
    etag,
    headers: { 'content-type': 'application/json', 'cache-control': cacheControl, etag },
  };
}

/**
 * RFC 9110 §13.1.2: `If-None-Match` compares weakly (a `W/` prefix does not matter); `*`
 * matches any current representation.
 */
function matchesAny(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/**
 * The document, or `304 Not Modified` (RFC 9110 §15.4.5: no body, the validator and the
 * caching headers) to a client whose copy is current. A fresh headers object each time: the
 * router adds its own to it.
 */
export function publishedResponse(request: HttpRequest, document: PublishedDocument): HttpResponse {
  const condition = request.headers['if-none-match'];
  if (condition !== undefined && matchesAny(condition, document.etag)) {
    const { 'content-type': _, ...headers } = document.headers;
    return { status: 304, headers };
  }
  return { status: 200, headers: { ...document.headers }, body: document.body };
}
