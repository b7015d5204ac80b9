// A namespace import lets esbuild drop what is unused (the `z` object would keep every locale).
import * as z from 'zod';
import {
  DEFAULT_PRIVATE_USE_SCHEMES,
  DEFAULT_REDIRECT_HOSTS,
  hostPatternProblem,
  parseRateLimit,
  type RateLimit,
  type RedirectPolicy,
} from './core/abuse-control.js';
import { MAX_IDENTIFIER_LENGTH, SIGNING_ALGS } from './core/client-metadata.js';
import {
  DEFAULT_REGISTRATION_ACCESS,
  DEFAULT_TIERS,
  REGISTRATION_WAYS,
  type RegistrationWay,
  type TrustTier,
} from './core/registration-policy.js';
import type { StatementIssuerSettings } from './core/software-statements.js';

/** An issuer URL: http(s), no query or fragment, no trailing slash (RFC 8414 §2). */
const issuerUrl = z
  .url({ protocol: /^https?$/ })
  .refine((v) => !v.includes('?') && !v.includes('#'), 'must have no query or fragment')
  .transform((v) => v.replace(/\/+$/, ''));

const seconds = z.coerce.number().int().min(0);

const scopeList = z
  .string()
  .transform((v) => v.split(/\s+/).filter(Boolean))
  .refine((scopes) => scopes.length > 0, 'must name at least one scope')
  .transform((scopes) => new Set(scopes));

const list = z.string().transform((v) => v.split(/[\s,]+/).filter(Boolean));

const onOff = z.enum(['on', 'off']).transform((v) => v === 'on');

/** Whether verified client certificates reach the server: said so (AWS), or a CA to verify them. */
const mutualTls = (e: {
  DCR_TLS_CLIENT_AUTH?: boolean | undefined;
  DCR_TLS_CLIENT_CA?: string | undefined;
}) => e.DCR_TLS_CLIENT_AUTH ?? e.DCR_TLS_CLIENT_CA !== undefined;

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);
/** An upstream OpenID Provider: https, or http only on a loopback host (development, tests). */
const upstreamIssuer = issuerUrl.refine((v) => {
  const url = new URL(v);
  return url.protocol === 'https:' || LOOPBACK.has(url.hostname);
}, 'must be https (http only on 127.0.0.1, [::1] or localhost)');

/** An https origin (scheme, host, port; nothing else). */
const httpsOrigin = z
  .string()
  .refine(
    (v) =>
      URL.canParse(v) &&
      new URL(v).protocol === 'https:' &&
      new URL(v).origin === v.replace(/\/$/, ''),
    'must be an https origin such as https://127.0.0.1:8443',
  )
  .transform((v) => new URL(v).origin);

const absoluteUri = z
  .string()
  .refine((v) => URL.canParse(v) && !v.includes('#'), 'must be an absolute URI without fragment');

/** A variable holding JSON text, parsed (a parse error names the variable). */
const jsonText = z.string().transform((v, ctx) => {
  try {
    return JSON.parse(v) as unknown;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be JSON' });
    return z.NEVER;
  }
});

const way = z.enum(REGISTRATION_WAYS);

/** `open,initial_access_token`: the accepted ways to register (at least one). */
const registrationAccess = list.pipe(z.array(way).min(1));

const tierSchema = z.strictObject({
  max_client_lifetime_seconds: z.number().int().min(1).optional(),
  grant_types: z
    .array(z.enum(['authorization_code', 'refresh_token', 'client_credentials']))
    .min(1)
    .optional(),
  scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/)).optional(),
  public_clients: z.boolean().optional(),
});

/** JSON keyed by way; each way not named keeps its default tier (the stack checks it at synth). */
export const registrationTiers = jsonText.pipe(z.partialRecord(way, tierSchema));

function tiersFrom(
  given: Partial<Record<RegistrationWay, z.infer<typeof tierSchema>>> | undefined,
): Record<RegistrationWay, TrustTier> {
  const tiers = { ...DEFAULT_TIERS };
  for (const [name, t] of Object.entries(given ?? {}) as [
    RegistrationWay,
    z.infer<typeof tierSchema>,
  ][]) {
    tiers[name] = {
      publicClients: t.public_clients ?? DEFAULT_TIERS[name].publicClients,
      ...(t.max_client_lifetime_seconds !== undefined && {
        maxClientLifetimeSeconds: t.max_client_lifetime_seconds,
      }),
      ...(t.grant_types !== undefined && { grantTypes: new Set(t.grant_types) }),
      ...(t.scopes !== undefined && { scopes: new Set(t.scopes) }),
    };
  }
  return tiers;
}

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

/**
 * A trusted software statement issuer. The key is the statement's `iss` verbatim: RFC 7591 §2.3
 * makes the statement a JWT, whose `iss` is a StringOrURI (RFC 7519 §4.1.1), so any string (up
 * to the identifier bound) is accepted, not only https URLs.
 */
const statementIssuer = z
  .strictObject({
    jwks: z
      .looseObject({
        keys: z
          .array(
            z
              .looseObject({ kty: z.enum(['RSA', 'EC', 'OKP']) })
              .refine(
                (key) => PRIVATE_JWK_MEMBERS.every((m) => !(m in key)),
                'must hold public keys only',
              ),
          )
          .min(1),
      })
      .optional(),
    jwks_uri: z.url({ protocol: /^https$/ }).optional(),
    // Asymmetric algorithms only: never `none` nor HS* (a shared secret is not a trust anchor).
    algorithms: z
      .array(z.enum(SIGNING_ALGS))
      .min(1)
      .default([...SIGNING_ALGS]),
  })
  .refine((i) => (i.jwks === undefined) !== (i.jwks_uri === undefined), 'give jwks or jwks_uri');

/** JSON keyed by issuer (the stack checks it at synth). */
export const statementIssuers = jsonText
  .pipe(z.record(z.string().min(1).max(MAX_IDENTIFIER_LENGTH), statementIssuer))
  .transform(
    (issuers) =>
      new Map<string, StatementIssuerSettings>(
        Object.entries(issuers).map(([iss, i]) => [
          iss,
          {
            ...(i.jwks !== undefined && { jwks: i.jwks as StatementIssuerSettings['jwks'] & {} }),
            ...(i.jwks_uri !== undefined && { jwksUri: i.jwks_uri }),
            algorithms: i.algorithms,
          },
        ]),
      ),
  );
/** `N/SECONDS` or `off` (see core/abuse-control.ts). */
const rateLimit = z.string().transform((v, ctx): RateLimit | undefined => {
  const parsed = parseRateLimit(v);
  if (typeof parsed === 'string') {
    ctx.addIssue({ code: 'custom', message: parsed });
    return z.NEVER;
  }
  return parsed;
});

/** `*` or `any` = any; otherwise a comma (or space) separated list, lower-cased. */
const anyOrList = (check: (item: string) => string | undefined) =>
  z.string().transform((v, ctx): 'any' | string[] => {
    const items = v
      .split(/[\s,]+/)
      .filter(Boolean)
      .map((i) => i.toLowerCase());
    if (items.length === 1 && (items[0] === '*' || items[0] === 'any')) return 'any';
    for (const item of items) {
      const problem = check(item);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }
    return items;
  });

const SCHEME = /^[a-z][a-z0-9+.-]*$/;
const NOT_PRIVATE_USE = new Set(['http', 'https', 'javascript', 'data', 'file', 'vbscript']);
const schemeProblem = (s: string) =>
  !SCHEME.test(s) || NOT_PRIVATE_USE.has(s) ? `${s}: is not a private-use URI scheme` : undefined;

const envSchema = z
  .object({
    /** Fixed issuer. Unset in AWS: the API's own domain is used. Locally: http://127.0.0.1:$PORT. */
    DCR_ISSUER: issuerUrl.optional(),
    DCR_TABLE_NAME: z.string().min(3).max(255).default('serverless-dcr'),
    /** Space-separated scopes clients may register; unset = any scope. */
    DCR_ALLOWED_SCOPES: scopeList.optional(),
    /** Longest a client lives after registration (and the cap on its expires_at); 0 = no cap. */
    DCR_CLIENT_MAX_LIFETIME_SECONDS: seconds.default(365 * 24 * 3600),
    /** A client unused this long after its last token expires; 0 = never (MCP clients cache ids). */
    DCR_CLIENT_IDLE_LIFETIME_SECONDS: seconds.default(90 * 24 * 3600),
    /** A client that never got a token expires this long after registering; 0 = never. */
    DCR_CLIENT_UNUSED_LIFETIME_SECONDS: seconds.default(24 * 3600),
    /** "Last used" is written at most once per client per this interval. */
    DCR_LAST_USED_WRITE_INTERVAL_SECONDS: seconds.default(300),
    /** Lifetime of client secrets; 0 = never expire (client_secret_expires_at 0). */
    DCR_CLIENT_SECRET_LIFETIME_SECONDS: seconds.default(0),
    /** Access token lifetime (RFC 9068 `exp - iat`). */
    DCR_ACCESS_TOKEN_LIFETIME_SECONDS: z.coerce.number().int().min(60).max(86_400).default(600),
    /** RFC 8707 resources clients may ask tokens for (space-separated absolute URIs). */
    DCR_RESOURCES: list.pipe(z.array(absoluteUri)).default([]),
    /** `aud` of tokens issued without a resource; default: the issuer. */
    DCR_DEFAULT_AUDIENCE: absoluteUri.optional(),
    /** Clients (resource servers) allowed to introspect any token. */
    DCR_INTROSPECTOR_CLIENT_IDS: list.default([]),
    /** AWS: the KMS key that signs access tokens (id, ARN or alias). */
    DCR_KMS_KEY_ID: z.string().min(1).optional(),
    /** AWS: keys that signed before a rotation, still published in the JWKS. */
    DCR_KMS_PREVIOUS_KEY_IDS: list.default([]),
    /** Local server: the signing algorithm of the generated key; AWS wrapped mode: of new keys. */
    DCR_SIGNING_ALG: z.enum(['RS256', 'ES256']).default('RS256'),
    /** AWS: `kms` (every token signed by KMS) or `wrapped` (docs/deployment.md "Signing modes"). */
    DCR_SIGNING_MODE: z.enum(['kms', 'wrapped']).default('kms'),
    /** AWS wrapped mode: the symmetric KMS key that wraps the signing keys' private halves. */
    DCR_KMS_WRAPPING_KEY_ID: z.string().min(1).optional(),
    /**
     * Multi-region (set by the stack with dcr:replicaRegions): this server's region. Refresh
     * token families, authorization codes and initial access tokens made here are pinned to it
     * and refused elsewhere (docs/deployment.md "Multi-region"); unset = nothing is pinned.
     */
    DCR_REGION: z
      .string()
      .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be a region name such as eu-west-1')
      .max(32)
      .optional(),
    /** Wrapped mode: how often a function re-reads the keyring (a rotation is seen this late). */
    DCR_KEYRING_REFRESH_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
    /** Local server: the bearer token of the admin API (in AWS, IAM authorizes it instead). */
    DCR_ADMIN_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
    /** Local server: where audit events go: `stdout` (JSON lines), `off`, or a file path. */
    DCR_AUDIT_LOG: z.string().min(1).default('stdout'),
    /** Local server: how often the in-process cleanup runs; 0 = never. */
    DCR_CLEANUP_INTERVAL_SECONDS: seconds.default(3600),
    /** Upstream OpenID Provider that signs users in (openid-client); unset = none. */
    DCR_UPSTREAM_ISSUER: upstreamIssuer.optional(),
    DCR_UPSTREAM_CLIENT_ID: z.string().min(1).max(255).optional(),
    /** Local: the upstream client secret itself; unset = a public client (PKCE only). */
    DCR_UPSTREAM_CLIENT_SECRET: z.string().min(1).optional(),
    /** AWS: the Secrets Manager secret holding the upstream client secret (read once per container). */
    DCR_UPSTREAM_CLIENT_SECRET_ARN: z.string().startsWith('arn:').optional(),
    DCR_UPSTREAM_SCOPES: z
      .string()
      .transform((v) => v.split(/\s+/).filter(Boolean))
      .refine((scopes) => scopes.includes('openid'), 'must include openid')
      .default(['openid']),
    /** Development login (never in Lambda): default on locally when no upstream is configured. */
    DCR_DEV_LOGIN: onOff.optional(),
    /** Users of the development login. */
    DCR_DEV_USERS: list
      .pipe(
        z
          .array(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'names are 1-64 of A-Z a-z 0-9 . _ -'))
          .min(1),
      )
      .default(['alice']),
    /** AWS: the Secrets Manager secret whose value keys the browser cookies (set by the stack). */
    DCR_COOKIE_KEY_SECRET_ARN: z.string().startsWith('arn:').optional(),
    /** How long a browser stays signed in at this server. */
    DCR_SESSION_LIFETIME_SECONDS: z.coerce.number().int().min(300).max(86_400).default(28_800),
    /** Refresh token families: absolute lifetime, and idle lifetime (unused this long: dead). */
    DCR_REFRESH_TOKEN_LIFETIME_SECONDS: z.coerce
      .number()
      .int()
      .min(3600)
      .default(30 * 24 * 3600),
    DCR_REFRESH_TOKEN_IDLE_LIFETIME_SECONDS: z.coerce
      .number()
      .int()
      .min(300)
      .default(7 * 24 * 3600),
    /** After a rotation, the replaced refresh token still answers with its successor this long. */
    DCR_REFRESH_TOKEN_REUSE_GRACE_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
    /** Client ID Metadata Documents: an https URL as client_id is resolved by fetching it. */
    DCR_CLIENT_ID_METADATA_DOCUMENTS: onOff.default(true),
    /** Trusted software statement issuers (RFC 7591 §2.3), JSON keyed by `iss`; unset = none. */
    DCR_SOFTWARE_STATEMENT_ISSUERS: statementIssuers.optional(),
    /** TESTS ONLY: https origins exempt from the non-public address check (CIMD, jwks_uri). */
    DCR_TRUSTED_FETCH_ORIGINS: list.pipe(z.array(httpsOrigin)).default([]),
    /** The accepted ways to register (docs/registration.md "Registration policy"). */
    DCR_REGISTRATION_ACCESS: registrationAccess.optional(),
    /** Trust tier per way, JSON keyed by way. */
    DCR_REGISTRATION_TIERS: registrationTiers.optional(),
    /** Local server: serve https with this certificate and key (PEM file paths). */
    DCR_TLS_CERT: z.string().min(1).optional(),
    DCR_TLS_KEY: z.string().min(1).optional(),
    /** Local server: verify client certificates against this CA (PEM path): mutual TLS. */
    DCR_TLS_CLIENT_CA: z.string().min(1).optional(),
    /** AWS: verified client certificates reach the functions (set by the stack with a truststore). */
    DCR_TLS_CLIENT_AUTH: onOff.optional(),
    /**
     * RFC 8705 §5: the origin of the host that does mutual TLS (the stack's second custom
     * domain), published as `mtls_endpoint_aliases`; the issuer's endpoints stay certificate-free.
     */
    DCR_MTLS_ORIGIN: httpsOrigin.optional(),
    /** Anonymous registrations per source address: `N/SECONDS` or `off` (the local default). */
    DCR_REGISTRATION_RATE_LIMIT: rateLimit.optional(),
    /** Host patterns for anonymous clients' https redirect URIs; `*` = any https host. */
    DCR_REDIRECT_HOSTS: anyOrList(hostPatternProblem).default([...DEFAULT_REDIRECT_HOSTS]),
    /** Private-use schemes anonymous clients may register; `*` = any. */
    DCR_PRIVATE_USE_SCHEMES: anyOrList(schemeProblem).default([...DEFAULT_PRIVATE_USE_SCHEMES]),
    /** Abuse control: the active clients one software_id may have; unset = no cap. */
    DCR_SOFTWARE_ID_MAX_ACTIVE_CLIENTS: z.coerce.number().int().min(1).max(1_000_000).optional(),
    /** Local server only. */
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    DCR_DATA_DIR: z.string().min(1).optional(),
  })
  // Tokens for a real resource must carry only scopes the operator chose: "any scope" there would
  // let an anonymous client register `admin` and get it in a token the resource trusts.
  .refine(
    (e) =>
      e.DCR_ALLOWED_SCOPES !== undefined ||
      (e.DCR_RESOURCES.length === 0 && e.DCR_DEFAULT_AUDIENCE === undefined),
    {
      path: ['DCR_ALLOWED_SCOPES'],
      message:
        'required when DCR_RESOURCES or DCR_DEFAULT_AUDIENCE is set (the scopes those resources accept)',
    },
  )
  .refine(
    (e) => (e.DCR_UPSTREAM_ISSUER === undefined) === (e.DCR_UPSTREAM_CLIENT_ID === undefined),
    {
      path: ['DCR_UPSTREAM_CLIENT_ID'],
      message: 'DCR_UPSTREAM_ISSUER and DCR_UPSTREAM_CLIENT_ID go together',
    },
  )
  .refine((e) => (e.DCR_TLS_CERT === undefined) === (e.DCR_TLS_KEY === undefined), {
    path: ['DCR_TLS_KEY'],
    message: 'DCR_TLS_CERT and DCR_TLS_KEY go together',
  })
  .refine((e) => e.DCR_TLS_CLIENT_CA === undefined || e.DCR_TLS_CERT !== undefined, {
    path: ['DCR_TLS_CLIENT_CA'],
    message: 'needs DCR_TLS_CERT and DCR_TLS_KEY (mutual TLS is TLS)',
  })
  .refine((e) => e.DCR_MTLS_ORIGIN === undefined || mutualTls(e), {
    path: ['DCR_MTLS_ORIGIN'],
    message: 'needs mutual TLS (DCR_TLS_CLIENT_AUTH=on, or DCR_TLS_CLIENT_CA locally)',
  })
  .refine(
    (e) =>
      e.DCR_MTLS_ORIGIN === undefined ||
      e.DCR_ISSUER === undefined ||
      new URL(e.DCR_ISSUER).origin !== e.DCR_MTLS_ORIGIN,
    {
      path: ['DCR_MTLS_ORIGIN'],
      message: "must be another host than the issuer's (the aliases are for mutual TLS only)",
    },
  )
  .refine(
    (e) =>
      e.DCR_UPSTREAM_CLIENT_SECRET === undefined || e.DCR_UPSTREAM_CLIENT_SECRET_ARN === undefined,
    { path: ['DCR_UPSTREAM_CLIENT_SECRET'], message: 'give the secret or its ARN, not both' },
  )
  .refine(
    (e) => e.DCR_REFRESH_TOKEN_IDLE_LIFETIME_SECONDS <= e.DCR_REFRESH_TOKEN_LIFETIME_SECONDS,
    {
      path: ['DCR_REFRESH_TOKEN_IDLE_LIFETIME_SECONDS'],
      message: 'must not exceed DCR_REFRESH_TOKEN_LIFETIME_SECONDS',
    },
  );

export interface Config {
  readonly issuer?: string;
  readonly tableName: string;
  readonly allowedScopes?: ReadonlySet<string>;
  readonly clientMaxLifetimeSeconds: number;
  readonly clientSecretLifetimeSeconds: number;
  readonly clientIdleLifetimeSeconds: number;
  readonly clientUnusedLifetimeSeconds: number;
  readonly lastUsedWriteIntervalSeconds: number;
  readonly accessTokenLifetimeSeconds: number;
  readonly resources: ReadonlySet<string>;
  readonly defaultAudience?: string;
  readonly introspectorClientIds: ReadonlySet<string>;
  readonly kmsKeyId?: string;
  readonly kmsPreviousKeyIds: readonly string[];
  readonly signingAlg: 'RS256' | 'ES256';
  /** How access tokens are signed in AWS: by KMS, or by a KMS-wrapped key in memory. */
  readonly signingMode: 'kms' | 'wrapped';
  readonly kmsWrappingKeyId?: string;
  readonly keyringRefreshSeconds: number;
  /** Multi-region: the home region of the families, codes and tokens made here; unset = none. */
  readonly region?: string;
  readonly cleanupIntervalSeconds: number;
  readonly auditLog: string;
  readonly adminToken?: string;
  readonly port: number;
  readonly dataDir?: string;
  /** Where users sign in, if anywhere; none of them = no authorization endpoint. */
  readonly upstream?: UpstreamSettings;
  /** The development login (local only): the user names it accepts. */
  readonly devLogin?: { readonly users: readonly string[] };
  /** AWS: the secret keying browser cookies; locally a key file in the data folder. */
  readonly cookieKeySecretArn?: string;
  readonly sessionLifetimeSeconds: number;
  readonly refreshTokenLifetimeSeconds: number;
  readonly refreshTokenIdleLifetimeSeconds: number;
  readonly refreshTokenReuseGraceSeconds: number;
  readonly clientIdMetadataDocuments: boolean;
  /** The accepted ways to register, and each way's trust tier. */
  readonly registrationAccess: ReadonlySet<RegistrationWay>;
  readonly registrationTiers: Readonly<Record<RegistrationWay, TrustTier>>;
  /** Local https: PEM file paths (read at start). */
  readonly tls?: { readonly cert: string; readonly key: string; readonly clientCa?: string };
  /** Whether verified client certificates reach the server (mutual TLS, RFC 8705). */
  readonly mtls: boolean;
  /** RFC 8705 §5: where the endpoints that take a certificate have their aliases, if anywhere. */
  readonly mtlsOrigin?: string;
  /** Trusted software statement issuers, by `iss`; empty = statements are refused. */
  readonly softwareStatementIssuers: ReadonlyMap<string, StatementIssuerSettings>;
  /** TESTS ONLY: origins exempt from the fetch guard's address check. */
  readonly trustedFetchOrigins: ReadonlySet<string>;
  /** Abuse control: anonymous registrations per source address; absent = off. */
  readonly registrationRateLimit?: RateLimit;
  /** Abuse control: the redirect URIs anonymous clients may register. */
  readonly redirectPolicy: RedirectPolicy;
  /** Abuse control: the active clients one software_id may have; absent = no cap. */
  readonly softwareIdMaxActiveClients?: number;
}

export interface UpstreamSettings {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly clientSecretArn?: string;
  readonly scopes: readonly string[];
}

/** Whether this server has an authorization endpoint: someone can sign users in. */
export const isInteractive = (config: Pick<Config, 'upstream' | 'devLogin'>): boolean =>
  config.upstream !== undefined || config.devLogin !== undefined;

/**
 * The development login: on by default only on one machine with no upstream; never in Lambda
 * (its code is not even in the bundles), where asking for it is a configuration error.
 */
function devLoginEnabled(
  e: { DCR_DEV_LOGIN?: boolean | undefined; DCR_UPSTREAM_ISSUER?: string | undefined },
  env: Record<string, string | undefined>,
): boolean {
  const inLambda = env.AWS_LAMBDA_FUNCTION_NAME !== undefined;
  if (e.DCR_DEV_LOGIN && inLambda) {
    throw new Error(
      'invalid configuration: DCR_DEV_LOGIN: the development login never runs in Lambda',
    );
  }
  return e.DCR_DEV_LOGIN ?? (!inLambda && e.DCR_UPSTREAM_ISSUER === undefined);
}

/** Parses the environment once; bad configuration fails at start-up with every problem named. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  // An empty variable counts as unset.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  return {
    ...(e.DCR_ISSUER !== undefined && { issuer: e.DCR_ISSUER }),
    tableName: e.DCR_TABLE_NAME,
    ...(e.DCR_ALLOWED_SCOPES !== undefined && { allowedScopes: e.DCR_ALLOWED_SCOPES }),
    clientMaxLifetimeSeconds: e.DCR_CLIENT_MAX_LIFETIME_SECONDS,
    clientSecretLifetimeSeconds: e.DCR_CLIENT_SECRET_LIFETIME_SECONDS,
    clientIdleLifetimeSeconds: e.DCR_CLIENT_IDLE_LIFETIME_SECONDS,
    clientUnusedLifetimeSeconds: e.DCR_CLIENT_UNUSED_LIFETIME_SECONDS,
    lastUsedWriteIntervalSeconds: e.DCR_LAST_USED_WRITE_INTERVAL_SECONDS,
    accessTokenLifetimeSeconds: e.DCR_ACCESS_TOKEN_LIFETIME_SECONDS,
    resources: new Set(e.DCR_RESOURCES),
    ...(e.DCR_DEFAULT_AUDIENCE !== undefined && { defaultAudience: e.DCR_DEFAULT_AUDIENCE }),
    introspectorClientIds: new Set(e.DCR_INTROSPECTOR_CLIENT_IDS),
    ...(e.DCR_KMS_KEY_ID !== undefined && { kmsKeyId: e.DCR_KMS_KEY_ID }),
    kmsPreviousKeyIds: e.DCR_KMS_PREVIOUS_KEY_IDS,
    signingAlg: e.DCR_SIGNING_ALG,
    signingMode: e.DCR_SIGNING_MODE,
    ...(e.DCR_KMS_WRAPPING_KEY_ID !== undefined && { kmsWrappingKeyId: e.DCR_KMS_WRAPPING_KEY_ID }),
    keyringRefreshSeconds: e.DCR_KEYRING_REFRESH_SECONDS,
    ...(e.DCR_REGION !== undefined && { region: e.DCR_REGION }),
    cleanupIntervalSeconds: e.DCR_CLEANUP_INTERVAL_SECONDS,
    auditLog: e.DCR_AUDIT_LOG,
    ...(e.DCR_ADMIN_TOKEN !== undefined && { adminToken: e.DCR_ADMIN_TOKEN }),
    port: e.PORT,
    ...(e.DCR_DATA_DIR !== undefined && { dataDir: e.DCR_DATA_DIR }),
    ...(e.DCR_UPSTREAM_ISSUER !== undefined &&
      e.DCR_UPSTREAM_CLIENT_ID !== undefined && {
        upstream: {
          issuer: e.DCR_UPSTREAM_ISSUER,
          clientId: e.DCR_UPSTREAM_CLIENT_ID,
          ...(e.DCR_UPSTREAM_CLIENT_SECRET !== undefined && {
            clientSecret: e.DCR_UPSTREAM_CLIENT_SECRET,
          }),
          ...(e.DCR_UPSTREAM_CLIENT_SECRET_ARN !== undefined && {
            clientSecretArn: e.DCR_UPSTREAM_CLIENT_SECRET_ARN,
          }),
          scopes: e.DCR_UPSTREAM_SCOPES,
        },
      }),
    ...(devLoginEnabled(e, env) && { devLogin: { users: e.DCR_DEV_USERS } }),
    ...(e.DCR_COOKIE_KEY_SECRET_ARN !== undefined && {
      cookieKeySecretArn: e.DCR_COOKIE_KEY_SECRET_ARN,
    }),
    sessionLifetimeSeconds: e.DCR_SESSION_LIFETIME_SECONDS,
    refreshTokenLifetimeSeconds: e.DCR_REFRESH_TOKEN_LIFETIME_SECONDS,
    refreshTokenIdleLifetimeSeconds: e.DCR_REFRESH_TOKEN_IDLE_LIFETIME_SECONDS,
    refreshTokenReuseGraceSeconds: e.DCR_REFRESH_TOKEN_REUSE_GRACE_SECONDS,
    clientIdMetadataDocuments: e.DCR_CLIENT_ID_METADATA_DOCUMENTS,
    ...(e.DCR_TLS_CERT !== undefined &&
      e.DCR_TLS_KEY !== undefined && {
        tls: {
          cert: e.DCR_TLS_CERT,
          key: e.DCR_TLS_KEY,
          ...(e.DCR_TLS_CLIENT_CA !== undefined && { clientCa: e.DCR_TLS_CLIENT_CA }),
        },
      }),
    mtls: mutualTls(e),
    ...(e.DCR_MTLS_ORIGIN !== undefined && { mtlsOrigin: e.DCR_MTLS_ORIGIN }),
    softwareStatementIssuers: e.DCR_SOFTWARE_STATEMENT_ISSUERS ?? new Map(),
    trustedFetchOrigins: new Set(e.DCR_TRUSTED_FETCH_ORIGINS),
    // Default: plus `mtls` when client certificates can arrive (the issue's rule).
    registrationAccess:
      e.DCR_REGISTRATION_ACCESS !== undefined
        ? new Set(e.DCR_REGISTRATION_ACCESS)
        : mutualTls(e)
          ? new Set<RegistrationWay>([...DEFAULT_REGISTRATION_ACCESS, 'mtls'])
          : DEFAULT_REGISTRATION_ACCESS,
    registrationTiers: tiersFrom(e.DCR_REGISTRATION_TIERS),
    ...(e.DCR_REGISTRATION_RATE_LIMIT !== undefined && {
      registrationRateLimit: e.DCR_REGISTRATION_RATE_LIMIT,
    }),
    redirectPolicy: {
      hosts: e.DCR_REDIRECT_HOSTS,
      schemes: e.DCR_PRIVATE_USE_SCHEMES === 'any' ? 'any' : new Set(e.DCR_PRIVATE_USE_SCHEMES),
    },
    ...(e.DCR_SOFTWARE_ID_MAX_ACTIVE_CLIENTS !== undefined && {
      softwareIdMaxActiveClients: e.DCR_SOFTWARE_ID_MAX_ACTIVE_CLIENTS,
    }),
  };
}
