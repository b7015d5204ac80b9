// A namespace import lets esbuild drop what is unused (the `z` object would keep every locale).
import * as z from '../../zod.js';
import {
  invalidClientMetadata,
  invalidRedirectUri,
  unapprovedSoftwareStatement,
} from '../errors.js';
import { requestedScopes, SCOPE_SYNTAX } from '../scopes.js';
import { isDisplaySafe } from '../text.js';

/**
 * RFC 7591 client metadata: the one place where registration input is validated and
 * normalised. Unknown members are dropped (RFC 7591 §2: ignored, never rejected); members sent
 * as `null` count as absent.
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
const MAX_URI = 2000;
const MAX_TEXT = 1000;
const MAX_ITEMS = 20;

const isWebUrl = (value: string, protocols: readonly string[]) => {
  const url = URL.parse(value);
  return url !== null && protocols.includes(url.protocol) && url.hostname !== '';
};

/** Client-supplied strings that people will read (consent, dashboard, CLI, logs). */
const displayed = z
  .string()
  .check(z.refine(isDisplaySafe, 'must not contain control or bidirectional-control characters'));

const webUrl = displayed.check(
  z.maxLength(MAX_URI),
  z.refine((v) => isWebUrl(v, ['https:', 'http:']), 'must be an http or https URL'),
);
const httpsUrl = displayed.check(
  z.maxLength(MAX_URI),
  z.refine((v) => isWebUrl(v, ['https:']), 'must be an https URL'),
);
const text = displayed.check(z.minLength(1), z.maxLength(MAX_TEXT));

/**
 * A public JWK as this server uses it (RFC 7517 §4, RFC 7518 §6, RFC 8037): the registered
 * members only, each a bounded string (or list of strings), and nothing else. Any other member,
 * private key material included, is refused: what is stored is what a key needs, so a key
 * cannot carry a payload nested deeper than a store or a marshaller copes with.
 */
const KEY_PART = 4096;
const keyPart = z.string().check(z.minLength(1), z.maxLength(KEY_PART));
const bounded = (max: number) => z.string().check(z.maxLength(max));
const jwkMembers = {
  kid: z.optional(bounded(MAX_TEXT)),
  use: z.optional(z.enum(['sig', 'enc'])),
  key_ops: z.optional(z.array(bounded(32)).check(z.maxLength(8))),
  alg: z.optional(bounded(32)),
  ext: z.optional(z.boolean()),
  x5c: z.optional(z.array(bounded(8192)).check(z.maxLength(8))),
  x5t: z.optional(bounded(64)),
  'x5t#S256': z.optional(bounded(64)),
  x5u: z.optional(bounded(MAX_URI)),
};
const publicKey = z.discriminatedUnion(
  'kty',
  [
    z.strictObject({
      kty: z.literal('RSA'),
      n: keyPart,
      e: z.string().check(z.minLength(1), z.maxLength(16)),
      ...jwkMembers,
    }),
    z.strictObject({
      kty: z.literal('EC'),
      crv: bounded(32),
      x: keyPart,
      y: keyPart,
      ...jwkMembers,
    }),
    z.strictObject({ kty: z.literal('OKP'), crv: bounded(32), x: keyPart, ...jwkMembers }),
  ],
  {
    error:
      'must be a public RSA, EC or OKP key (no private or symmetric key material, no other members)',
  },
);

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];
const publicJwk = z.pipe(
  z
    .looseObject({})
    .check(
      z.refine(
        (key) => PRIVATE_JWK_MEMBERS.every((m) => !(m in key)),
        'must hold public keys only (no private or symmetric key material)',
      ),
    ),
  publicKey,
);

/** A list of at most MAX_ITEMS (and at least `min`). */
const list = <T extends z.core.SomeType>(item: T, min = 0) =>
  z.array(item).check(...(min > 0 ? [z.minLength(min)] : []), z.maxLength(MAX_ITEMS));

const metadataInput = z.object({
  redirect_uris: z.optional(list(z.string())),
  token_endpoint_auth_method: z.optional(z.enum(AUTH_METHODS)),
  grant_types: z.optional(list(z.enum(GRANT_TYPES), 1)),
  response_types: z.optional(list(z.enum(['code']))),
  client_name: z.optional(text),
  client_uri: z.optional(webUrl),
  logo_uri: z.optional(webUrl),
  tos_uri: z.optional(webUrl),
  policy_uri: z.optional(webUrl),
  contacts: z.optional(list(displayed.check(z.minLength(1), z.maxLength(320)))),
  // An empty scope is no scope: the MCP Inspector registers `""` when it knows none.
  scope: z.optional(
    z.union([
      z
        .string()
        .check(
          z.maxLength(MAX_TEXT),
          z.regex(SCOPE_SYNTAX, 'must be space-separated scope tokens'),
        ),
      z.literal(''),
    ]),
  ),
  jwks_uri: z.optional(httpsUrl),
  jwks: z.optional(z.object({ keys: list(publicJwk, 1) })),
  software_id: z.optional(displayed.check(z.minLength(1), z.maxLength(MAX_SOFTWARE_ID_LENGTH))),
  software_version: z.optional(displayed.check(z.minLength(1), z.maxLength(255))),
  software_statement: z.optional(z.string()),
  application_type: z.optional(z.enum(['web', 'native'])),
  token_endpoint_auth_signing_alg: z.optional(z.enum(SIGNING_ALGS)),
  expires_at: z.optional(
    z.number().check(z.int(), z.positive(), z.maximum(Number.MAX_SAFE_INTEGER)),
  ),
  // RFC 8705 §2.1.2: which certificate a tls_client_auth client presents (exactly one of these).
  tls_client_auth_subject_dn: z.optional(text),
  tls_client_auth_san_dns: z.optional(text),
  tls_client_auth_san_uri: z.optional(text),
  tls_client_auth_san_ip: z.optional(text),
  tls_client_auth_san_email: z.optional(text),
  /** RFC 8705 §3.4: its access tokens are bound to its certificate. */
  tls_client_certificate_bound_access_tokens: z.optional(z.boolean()),
  /** RFC 9449 §5.2: every token request must carry a DPoP proof; Bearer is refused. */
  dpop_bound_access_tokens: z.optional(z.boolean()),
});

/** The RFC 8705 members naming a tls_client_auth client's certificate. */
export const TLS_CLIENT_AUTH_MEMBERS = [
  'tls_client_auth_subject_dn',
  'tls_client_auth_san_dns',
  'tls_client_auth_san_uri',
  'tls_client_auth_san_ip',
  'tls_client_auth_san_email',
] as const;

type MetadataInput = z.infer<typeof metadataInput>;

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

const describeIssue = (issue: z.core.$ZodIssue): string => {
  const path = issue.path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
  return `${path || 'body'}: ${issue.message}`;
};

/** The members the metadata schema lists, in its order (the order its issues come in). */
const MEMBERS = Object.entries(metadataInput.def.shape);

/**
 * metadataInput's parse, member by member, of the members the body holds (null counts as
 * absent): the object schema would run each of its thirty-odd optional members on every body.
 * The same result: members in the schema's order, unknown ones dropped, the same first issue.
 */
function parseMetadata(body: Record<string, unknown>): MetadataInput {
  const input: Record<string, unknown> = {};
  for (const [name, schema] of MEMBERS) {
    if (!Object.hasOwn(body, name) || body[name] === null) continue;
    const parsed = schema.safeParse(body[name]);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw invalidClientMetadata(
        first ? describeIssue({ ...first, path: [name, ...first.path] }) : 'invalid metadata',
      );
    }
    input[name] = parsed.data;
  }
  return input as MetadataInput;
}

const unique = <T>(values: readonly T[]): T[] => [...new Set(values)];

/**
 * Validates a registration (or RFC 7592 update) body and applies RFC 7591 defaults.
 * Throws OAuthError: invalid_redirect_uri, invalid_client_metadata or unapproved_software_statement.
 */
export function validateClientMetadata(
  body: Record<string, unknown>,
  policy: MetadataPolicy,
  now: number,
): ValidatedRegistration {
  const input = parseMetadata(body);

  if (input.software_statement !== undefined) {
    throw unapprovedSoftwareStatement('this server does not accept software statements');
  }

  const grantTypes = unique<GrantType>(input.grant_types ?? ['authorization_code']);
  const usesCode = grantTypes.includes('authorization_code');
  const responseTypes = unique<'code'>(input.response_types ?? (usesCode ? ['code'] : []));
  if (usesCode !== responseTypes.includes('code')) {
    throw invalidClientMetadata(
      'grant_types and response_types disagree: authorization_code and response type code go together (RFC 7591 §2.1)',
    );
  }
  if (grantTypes.includes('refresh_token') && !usesCode) {
    throw invalidClientMetadata('grant_types: refresh_token requires authorization_code');
  }

  const parsedRedirects = (input.redirect_uris ?? []).map(parseRedirectUri);
  const redirectUris = unique(parsedRedirects.map((r) => r.normalized));
  const kinds = parsedRedirects.map((r) => r.kind);
  if (usesCode && redirectUris.length === 0) {
    throw invalidClientMetadata('redirect_uris: required for the authorization_code grant');
  }
  const nativeOnly = kinds.length > 0 && kinds.every((k) => k !== 'web');
  const applicationType = input.application_type ?? (nativeOnly ? 'native' : 'web');
  // OpenID Connect Registration §2: a client that says it is `web` redirects over https only.
  if (input.application_type === 'web' && kinds.includes('loopback')) {
    throw invalidRedirectUri(
      'redirect_uris: loopback redirect URIs are for native clients (application_type native); a web client uses https',
    );
  }
  if (applicationType === 'web' && kinds.includes('private-use')) {
    throw invalidRedirectUri(
      'redirect_uris: private-use URI schemes are allowed for native clients only',
    );
  }

  const authMethod = input.token_endpoint_auth_method ?? 'client_secret_basic';
  if (authMethod === 'none' && grantTypes.includes('client_credentials')) {
    throw invalidClientMetadata(
      'token_endpoint_auth_method: a public client (none) cannot use client_credentials',
    );
  }
  const certificateMembers = TLS_CLIENT_AUTH_MEMBERS.filter((m) => input[m] !== undefined);
  if (authMethod === 'tls_client_auth') {
    if (!policy.mtls) {
      throw invalidClientMetadata(
        'token_endpoint_auth_method: tls_client_auth needs mutual TLS, which this server does not have',
      );
    }
    if (certificateMembers.length !== 1) {
      throw invalidClientMetadata(
        `token_endpoint_auth_method: tls_client_auth needs exactly one of ${TLS_CLIENT_AUTH_MEMBERS.join(', ')}`,
      );
    }
  } else if (certificateMembers.length > 0) {
    throw invalidClientMetadata(`${certificateMembers[0]}: only for tls_client_auth`);
  }
  if (input.tls_client_certificate_bound_access_tokens && !policy.mtls) {
    throw invalidClientMetadata(
      'tls_client_certificate_bound_access_tokens: needs mutual TLS, which this server does not have',
    );
  }
  if (input.jwks !== undefined && input.jwks_uri !== undefined) {
    throw invalidClientMetadata('jwks and jwks_uri must not both be present');
  }
  if (
    authMethod === 'private_key_jwt' &&
    input.jwks === undefined &&
    input.jwks_uri === undefined
  ) {
    throw invalidClientMetadata(
      'token_endpoint_auth_method: private_key_jwt requires jwks or jwks_uri',
    );
  }

  // OpenID habits (`openid email profile`, `offline_access`) are dropped, never refused: MCP
  // clients register them when they know no better, and this server gives them no meaning.
  let scope: string | undefined;
  if (input.scope) {
    const tokens = requestedScopes(input.scope);
    const notAllowed = policy.allowedScopes && tokens.find((t) => !policy.allowedScopes?.has(t));
    if (notAllowed)
      throw invalidClientMetadata(`scope: ${notAllowed} is not offered by this server`);
    if (tokens.length > 0) scope = tokens.join(' ');
  }

  if (input.expires_at !== undefined && input.expires_at <= now) {
    throw invalidClientMetadata('expires_at: must be in the future');
  }

  const { software_statement: _, expires_at, scope: __, ...rest } = input;
  const metadata: ClientMetadata = {
    ...rest,
    ...(input.redirect_uris && { redirect_uris: redirectUris }),
    ...(input.contacts && { contacts: unique(input.contacts) }),
    ...(scope !== undefined && { scope }),
    grant_types: grantTypes,
    response_types: responseTypes,
    token_endpoint_auth_method: authMethod,
    application_type: applicationType,
  };
  return { metadata, ...(expires_at !== undefined && { requestedExpiresAt: expires_at }) };
}

/** Whether a client with this metadata holds a client secret. */
export const usesClientSecret = (metadata: ClientMetadata): boolean =>
  metadata.token_endpoint_auth_method === 'client_secret_basic' ||
  metadata.token_endpoint_auth_method === 'client_secret_post';
