import type { OAuthError } from '../core/errors.js';

/** Responses carrying a credential or an error must never be cached (RFC 6749 §5.1, RFC 7591 §3.2). */
export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

const JSON_TYPE = { 'content-type': 'application/json' } as const;

export const json = (
  status: number,
  body: unknown,
  headers: Record<string, string> = NO_STORE,
): Response =>
  new Response(JSON.stringify(body), { status, headers: { ...JSON_TYPE, ...headers } });

/** A body serialised once (discovery, JWKS): the hot path only wraps it. */
export const preserialized = (body: string, headers: Record<string, string>): Response =>
  new Response(body, { status: 200, headers: { ...JSON_TYPE, ...headers } });

export const errorResponse = (error: OAuthError): Response =>
  json(
    error.status,
    { error: error.error, error_description: error.description },
    { ...NO_STORE, ...error.headers },
  );

export const noContent = (): Response => new Response(null, { status: 204, headers: NO_STORE });
