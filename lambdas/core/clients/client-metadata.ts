import { invalidRedirectUri } from '../errors.js';
import type { MetadataInput } from './metadata-validation.js';

/**
 * RFC 7591 client metadata: its vocabulary, the registered form, and redirect URIs. The
 * validation of a registration body, with its schema, is in metadata-validation.ts, apart: a
 * module's top level runs in every bundle that imports anything of it, and building that schema
 * is a cold start's cost that the functions which never validate metadata need not pay.
 */

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export const AUTH_METHODS = [
  'none',
  'tls_client_auth',
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
] as const;
export const SIGNING_ALGS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

export type GrantType = (typeof GRANT_TYPES)[number];
export type AuthMethod = (typeof AUTH_METHODS)[number];

/**
 * Longest identifier (client_id, assertion jti) looked up in the store. Ours are 22 characters;
 * the bound keeps what outsiders send far below DynamoDB's 2048-byte key limit.
 */
export const MAX_IDENTIFIER_LENGTH = 256;
/** Longest software_id accepted, in a body, a software statement or an operator's token. */
export const MAX_SOFTWARE_ID_LENGTH = 255;

/** Characters that change nothing a person sees: zero-width spaces and joiners, soft hyphens. */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/gu;

/**
 * The form software_ids are compared in by the kill switch and the per-software caps: NFKC
 * (full-width and other compatibility forms folded), case-folded, invisible characters removed.
 * So `Acme`, `ACME`, `acme` with a zero-width space and `ａｃｍｅ` are one software; the id
 * registered is still shown as the client sent it.
 */
export const softwareIdKey = (softwareId: string): string =>
  softwareId.replace(INVISIBLE, '').normalize('NFKC').toUpperCase().toLowerCase();
/** Longest URI accepted (redirect URIs, and the metadata documents' URLs). */
export const MAX_URI = 2000;
/** The RFC 8705 members naming a tls_client_auth client's certificate. */
export const TLS_CLIENT_AUTH_MEMBERS = [
  'tls_client_auth_subject_dn',
  'tls_client_auth_san_dns',
  'tls_client_auth_san_uri',
  'tls_client_auth_san_ip',
  'tls_client_auth_san_email',
] as const;

/** Registered metadata after defaults: what is stored and shown back to the client. */
export type ClientMetadata = Omit<
  MetadataInput,
  | 'software_statement'
  | 'expires_at'
  | 'grant_types'
  | 'response_types'
  | 'token_endpoint_auth_method'
  | 'application_type'
> & {
  grant_types: GrantType[];
  response_types: 'code'[];
  token_endpoint_auth_method: AuthMethod;
  application_type: 'web' | 'native';
};

export interface MetadataPolicy {
  /** When set, every scope a client registers must be one of these. */
  readonly allowedScopes?: ReadonlySet<string>;
  /** Whether verified client certificates reach the server (tls_client_auth is possible). */
  readonly mtls?: boolean;
}

export interface ValidatedRegistration {
  readonly metadata: ClientMetadata;
  /** The lifetime the client asked for (`expires_at`), before the server caps it. */
  readonly requestedExpiresAt?: number;
}

type RedirectKind = 'web' | 'loopback' | 'private-use';

/** A redirect URI as stored and compared: the WHATWG serialisation of what the client sent. */
export interface RedirectUri {
  readonly kind: RedirectKind;
  readonly normalized: string;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);
/**
 * Schemes that are never a redirect target: script and local content, and registered schemes
 * that hand the response to something other than the client (mail, phone, another protocol).
 * Anything else is a private-use scheme (RFC 8252 §7.1 recommends reverse domain names).
 */
const FORBIDDEN_SCHEMES = new Set(
  [
    'javascript',
    'data',
    'file',
    'vbscript',
    'blob',
    'about',
    'filesystem',
    'view-source',
    'jar',
    'ws',
    'wss',
    'ftp',
    'sftp',
    'ssh',
    'telnet',
    'gopher',
    'ldap',
    'ldaps',
    'irc',
    'ircs',
    'news',
    'nntp',
    'mailto',
    'tel',
    'sms',
    'mms',
    'sip',
    'sips',
    'xmpp',
    'urn',
    'geo',
    'magnet',
    'intent',
    'market',
    'content',
    'chrome',
    'chrome-extension',
    'moz-extension',
    'resource',
  ].map((scheme) => `${scheme}:`),
);
/**
 * What RFC 3986 allows in a URI, as sent (IRIs' non-ASCII included). Parsers disagree about the
 * rest: WHATWG reads `http://localhost\@evil.example/` as host localhost and strips tabs and
 * newlines, where others see user information and host evil.example.
 */
const URI_CHARACTERS =
  /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%\u00A0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

/**
 * DESIGN.md redirect rules (RFC 8252 for native apps): the kind of a URI and the form it is
 * stored and compared in (hosts lower-cased and punycoded, default ports dropped, non-ASCII
 * percent-encoded), or an invalid_redirect_uri saying why it is refused.
 */
export function parseRedirectUri(raw: string): RedirectUri {
  const fail = (why: string) =>
    invalidRedirectUri(`redirect_uris: ${JSON.stringify(raw.slice(0, 100))} ${why}`);
  if (raw.length > MAX_URI) throw fail(`is longer than ${MAX_URI} characters`);
  if (!URI_CHARACTERS.test(raw)) {
    throw fail('contains characters a URI may not hold (backslash, space, controls, quotes)');
  }
  if (raw.includes('#')) throw fail('must not contain a fragment');
  const url = URL.parse(raw);
  if (url === null) throw fail('is not an absolute URI');
  if (FORBIDDEN_SCHEMES.has(url.protocol)) throw fail(`uses the forbidden scheme ${url.protocol}`);
  if (url.username !== '' || url.password !== '') throw fail('must not contain user information');
  const normalized = url.href;
  if (url.protocol === 'https:') {
    if (url.hostname === '') throw fail('has no host');
    return { kind: 'web', normalized };
  }
  if (url.protocol === 'http:') {
    if (LOOPBACK_HOSTS.has(url.hostname)) return { kind: 'loopback', normalized };
    throw fail('uses http on a host that is not loopback (127.0.0.1, [::1], localhost)');
  }
  return { kind: 'private-use', normalized };
}

/** Where a redirect URI sends the answer, as a person recognises it: its host, or its scheme. */
export function redirectTarget(redirect: RedirectUri): string {
  const url = new URL(redirect.normalized);
  return redirect.kind === 'private-use' ? url.protocol : url.host;
}

/** The kind of a redirect URI, or why it is refused. */
export const classifyRedirectUri = (raw: string): RedirectKind => parseRedirectUri(raw).kind;

/**
 * The registered redirect URI an authorization request names, or undefined: exact comparison
 * of the normalised forms, except that a loopback redirect may use any port (RFC 8252 §7.3).
 */
export function matchRedirectUri(
  registered: readonly string[],
  requested: string,
): string | undefined {
  let candidate: RedirectUri;
  try {
    candidate = parseRedirectUri(requested);
  } catch {
    return undefined;
  }
  const { normalized } = candidate;
  if (registered.includes(normalized)) return normalized;
  if (candidate.kind !== 'loopback') return undefined;
  const withoutPort = (uri: string) => {
    const url = new URL(uri);
    url.port = '';
    return url.href;
  };
  // Same scheme, loopback host, path and query: only the port may differ.
  const portless = withoutPort(normalized);
  return registered.some((uri) => withoutPort(uri) === portless) ? normalized : undefined;
}

/** Whether a client with this metadata holds a client secret. */
export const usesClientSecret = (metadata: ClientMetadata): boolean =>
  metadata.token_endpoint_auth_method === 'client_secret_basic' ||
  metadata.token_endpoint_auth_method === 'client_secret_post';
