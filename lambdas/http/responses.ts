import type { AuthorizationRedirect, OAuthError } from '../core/errors.js';
import type { HttpResponse } from './message.js';

/** Responses carrying a credential or an error must never be cached (RFC 6749 §5.1, RFC 7591 §3.2). */
export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

const JSON_TYPE = 'application/json';

export const json = (
  status: number,
  body: unknown,
  headers: Record<string, string> = NO_STORE,
): HttpResponse => ({
  status,
  headers: { 'content-type': JSON_TYPE, ...headers },
  body: JSON.stringify(body),
});

/** A body serialised once (discovery, JWKS): the hot path only wraps it. */
export const preserialized = (body: string, headers: Record<string, string>): HttpResponse => ({
  status: 200,
  headers: { 'content-type': JSON_TYPE, ...headers },
  body,
});

/** An RFC-shaped JSON error; its code also travels beside the body, for the logs and metrics. */
export const errorResponse = (error: OAuthError): HttpResponse => ({
  ...json(
    error.status,
    { error: error.error, error_description: error.description },
    { ...NO_STORE, ...error.headers },
  ),
  error: error.error,
});

export const noContent = (): HttpResponse => ({ status: 204, headers: { ...NO_STORE } });

/**
 * A 303 (a form post becomes a GET) that is never cached and sends no Referer: within the
 * sign-in (to the consent page, the login page, the upstream provider) and back to the client.
 */
export const seeOther = (location: string, cookies?: readonly string[]): HttpResponse => ({
  status: 303,
  headers: { location, ...NO_STORE, 'referrer-policy': 'no-referrer' },
  ...(cookies && { cookies }),
});

/**
 * An authorization response (RFC 6749 §4.1.2): a 303 to the verified redirect URI (its own query
 * kept) with the parameters, the client's `state` and `iss` (RFC 9207). 303 so that a form post
 * becomes a GET (RFC 9700 §4.12).
 */
export function authorizationResponse(
  redirect: AuthorizationRedirect,
  params: Readonly<Record<string, string>>,
  issuer: string,
  extra: Pick<HttpResponse, 'cookies' | 'clientId' | 'error'> = {},
): HttpResponse {
  const location = new URL(redirect.uri);
  for (const [name, value] of Object.entries(params)) location.searchParams.set(name, value);
  if (redirect.state !== undefined) location.searchParams.set('state', redirect.state);
  location.searchParams.set('iss', issuer);
  return { ...seeOther(location.href), ...extra };
}
