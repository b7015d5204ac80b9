// A namespace import lets esbuild drop what is unused (the `z` object would keep every locale).
import * as z from '../../zod.js';
import {
  invalidClientMetadata,
  invalidRedirectUri,
  unapprovedSoftwareStatement,
} from '../errors.js';
import { requestedScopes, SCOPE_SYNTAX } from '../scopes.js';
import { isDisplaySafe } from '../text.js';
import {
  AUTH_METHODS,
  type ClientMetadata,
  GRANT_TYPES,
  type GrantType,
  MAX_SOFTWARE_ID_LENGTH,
  MAX_URI,
  type MetadataPolicy,
  parseRedirectUri,
  SIGNING_ALGS,
  TLS_CLIENT_AUTH_MEMBERS,
  type ValidatedRegistration,
} from './client-metadata.js';

/**
 * RFC 7591 client metadata: the one place where registration input is validated and
 * normalised. Unknown members are dropped (RFC 7591 §2: ignored, never rejected); members sent
 * as `null` count as absent.
 */

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

export type MetadataInput = z.infer<typeof metadataInput>;

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

/** The values without repeats, in their order (lists hold at most MAX_ITEMS: no Set needed to see none repeats). */
const unique = <T>(values: readonly T[]): T[] =>
  values.every((value, i) => values.indexOf(value) === i) ? [...values] : [...new Set(values)];

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
