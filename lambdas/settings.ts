import { readFileSync } from 'node:fs';
import { MAX_IDENTIFIER_LENGTH, SIGNING_ALGS } from './core/clients/client-metadata.js';
import {
  ISSUER_KINDS,
  isWildcardOnly,
  type KeySource,
  type TrustedIssuerSettings,
} from './core/federation/trusted-issuers.js';
import {
  DEFAULT_PRIVATE_USE_SCHEMES,
  DEFAULT_REDIRECT_HOSTS,
  hostPatternProblem,
  parseRateLimit,
  type RateLimit,
} from './core/registration/abuse-control.js';
import { REGISTRATION_WAYS } from './core/registration/registration-policy.js';
import { SCOPE_SYNTAX } from './core/scopes.js';
import { isDisplaySafe } from './core/text.js';
import type { DeployedFunction } from './functions.js';
import * as z from './zod.js';

/**
 * Every setting, declared once: the variable the server reads, the `dcr:` context key the stack
 * takes, its type (parsed from the value's text), default, one line of documentation and the
 * deployed functions that receive it; then the rules across settings. lambdas/config.ts (the
 * server's environment), lib/config.ts (the deployment's context), the stack's per-function
 * environment and docs/configuration.md (`npm run docs:config`) are all derived from it. Pure:
 * no CDK, no AWS SDK (the functions' bundles import it).
 */

/**
 * Whether the documentation lines below are kept: true when run from source (the server, the
 * tests, `npm run docs:config`); the deployed bundles replace `SETTINGS_DOCS` by `false` at bundling
 * (lib/constructs/deployed-lambda.ts), so every line folds to '' and no function carries the
 * ~11 KB of text only docs/configuration.md reads.
 */
declare global {
  var SETTINGS_DOCS: boolean | undefined;
}
globalThis.SETTINGS_DOCS ??= true;

// ---------------------------------------------------------------------------------------------
// Types: each parses the text of a value (a variable, `-c dcr:<key>=…`, a cdk.json value).

/** An issuer URL: http(s), no query or fragment, no trailing slash (RFC 8414 §2). */
const issuerUrl = z.pipe(
  z
    .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
    .check(z.refine((v) => !v.includes('?') && !v.includes('#'), 'must have no query or fragment')),
  z.transform((v: string) => v.replace(/\/+$/, '')),
);

/** A whole number in a range: whichever check fails, the message is the whole rule. */
const wholeNumber = (min: number, max?: number, unit = '') => {
  const rule = `must be a whole number${unit}${max === undefined ? `, ${min} or more` : ` from ${min} to ${max}`}`;
  return z.coerce
    .number({ error: rule })
    .check(
      z.int({ error: rule }),
      z.minimum(min, { error: rule }),
      ...(max === undefined ? [] : [z.maximum(max, { error: rule })]),
    );
};

const seconds = (min = 0, max?: number) => wholeNumber(min, max, ' of seconds');

const text = z.string().check(z.minLength(1));

const scopeList = z.pipe(
  z
    .pipe(
      z.string(),
      z.transform((v) => v.split(/\s+/).filter(Boolean)),
    )
    .check(z.refine((scopes) => scopes.length > 0, 'must name at least one scope')),
  z.transform((scopes: string[]) => new Set(scopes)),
);

const list = z.pipe(
  z.string(),
  z.transform((v) => v.split(/[\s,]+/).filter(Boolean)),
);
/** A list whose items pass `item`. */
const listOf = <T extends z.core.$ZodType<unknown, string>>(item: T) => z.pipe(list, z.array(item));
/** A list of distinct items passing `item`, as a set. */
const setOf = <T extends z.core.$ZodType<unknown, string>>(item: T) =>
  z.pipe(
    listOf(item),
    z.transform((v: z.output<T>[]) => new Set(v)),
  );

const onOff = z.pipe(
  z.enum(['on', 'off']),
  z.transform((v) => v === 'on'),
);

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);
/** An upstream OpenID Provider: https, or http only on a loopback host (development, tests). */
const upstreamIssuer = issuerUrl.check(
  z.refine((v) => {
    const url = new URL(v);
    return url.protocol === 'https:' || LOOPBACK.has(url.hostname);
  }, 'must be https (http only on 127.0.0.1, [::1] or localhost)'),
);

/** An https origin (scheme, host, port; nothing else). */
const httpsOrigin = z.pipe(
  z
    .string()
    .check(
      z.refine(
        (v) =>
          URL.canParse(v) &&
          new URL(v).protocol === 'https:' &&
          new URL(v).origin === v.replace(/\/$/, ''),
        'must be an https origin such as https://127.0.0.1:8443',
      ),
    ),
  z.transform((v: string) => new URL(v).origin),
);

const absoluteUri = z
  .string()
  .check(
    z.refine(
      (v) => URL.canParse(v) && !v.includes('#'),
      'must be an absolute URI without fragment',
    ),
  );

/** A variable holding JSON text, parsed (a parse error names the variable). */
const jsonText = z.pipe(
  z.string(),
  z.transform((v: string, ctx) => {
    try {
      return JSON.parse(v) as unknown;
    } catch {
      z.addIssue(ctx, 'must be JSON');
      return z.NEVER;
    }
  }),
);

/** Text a person reads: bounded, no control or bidirectional-control characters. */
const displayText = (max: number) =>
  z
    .string()
    .check(
      z.trim(),
      z.minLength(1, 'must not be empty'),
      z.maxLength(max, `must be at most ${max} characters`),
      z.refine(isDisplaySafe, 'must not contain control or bidirectional-control characters'),
    );

export const MAX_SCOPE_DESCRIPTIONS = 100;
const scopeDescriptions = z.pipe(
  jsonText,
  z.pipe(
    z
      .record(
        z
          .string()
          .check(
            z.regex(
              /^[\x21\x23-\x5b\x5d-\x7e]+$/,
              'must be a scope: printable ASCII without spaces, quotes or backslashes',
            ),
          ),
        displayText(200),
      )
      .check(
        z.refine(
          (map) => Object.keys(map).length <= MAX_SCOPE_DESCRIPTIONS,
          `must describe at most ${MAX_SCOPE_DESCRIPTIONS} scopes`,
        ),
      ),
    z.transform((map: Record<string, string>) => new Map(Object.entries(map))),
  ),
);

export const MAX_LOGO_BYTES = 64 * 1024;

/** An image this server serves as its own logo. */
export interface ServiceLogo {
  readonly contentType: string;
  readonly body: Buffer;
}

/** The image's type by its first bytes (never by the file name). */
function imageType(bytes: Buffer): string | undefined {
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
    return 'image/png';
  }
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') {
    return 'image/webp';
  }
  const head = bytes
    .toString('utf8', 0, 512)
    .replace(/^\uFEFF/, '')
    .trimStart();
  if (/^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<svg[\s>]/i.test(head)) return 'image/svg+xml';
  return undefined;
}

/** A logo file's path: read at start, its type told by its content, its size bounded. */
const logoFile = z.pipe(
  text,
  z.transform((path: string, ctx): ServiceLogo => {
    let body: Buffer;
    try {
      body = readFileSync(path);
    } catch {
      z.addIssue(ctx, `cannot read the file ${path}`);
      return z.NEVER;
    }
    const contentType = imageType(body);
    if (body.length > MAX_LOGO_BYTES || contentType === undefined) {
      z.addIssue(
        ctx,
        `must be a PNG, JPEG, WebP or SVG file of at most ${MAX_LOGO_BYTES / 1024} KB (${path})`,
      );
      return z.NEVER;
    }
    return { contentType, body };
  }),
);

const way = z.enum(REGISTRATION_WAYS);

const tierSchema = z.strictObject({
  max_client_lifetime_seconds: z.optional(z.number().check(z.int(), z.minimum(1))),
  grant_types: z.optional(
    z
      .array(z.enum(['authorization_code', 'refresh_token', 'client_credentials']))
      .check(z.minLength(1)),
  ),
  scopes: z.optional(
    z.array(
      z
        .string()
        .check(
          z.regex(
            /^[\x21\x23-\x5b\x5d-\x7e]+$/,
            'must be a scope: printable ASCII without spaces, quotes or backslashes',
          ),
        ),
    ),
  ),
  public_clients: z.optional(z.boolean()),
});
export type TierSettings = z.infer<typeof tierSchema>;

/** JSON keyed by way; each way not named keeps its default tier. */
const registrationTiers = z.pipe(jsonText, z.partialRecord(way, tierSchema));

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

/** An issuer's public keys: inline (public members only), or an https URL of its key set. */
const keySourceMembers = {
  jwks: z.optional(
    z.looseObject({
      keys: z
        .array(
          z
            .looseObject({ kty: z.enum(['RSA', 'EC', 'OKP']) })
            .check(
              z.refine(
                (key) => PRIVATE_JWK_MEMBERS.every((m) => !(m in key)),
                'must hold public keys only',
              ),
            ),
        )
        .check(z.minLength(1)),
    }),
  ),
  jwks_uri: z.optional(z.url({ protocol: /^https$/, error: 'must be an https URL' })),
  // Asymmetric algorithms only: never `none` nor HS* (a shared secret is not a trust anchor).
  algorithms: z._default(z.array(z.enum(SIGNING_ALGS)).check(z.minLength(1)), [...SIGNING_ALGS]),
};
const GIVE_ONE_KEY_SOURCE = 'give jwks or jwks_uri';
const oneKeySource = (i: { jwks?: unknown; jwks_uri?: unknown }) =>
  (i.jwks === undefined) !== (i.jwks_uri === undefined);

/** The parsed members as the trust engine's KeySource. */
const keySourceOf = (i: {
  jwks?: unknown;
  jwks_uri?: string | undefined;
  algorithms: string[];
}): KeySource => ({
  ...(i.jwks !== undefined && { jwks: i.jwks as KeySource['jwks'] & {} }),
  ...(i.jwks_uri !== undefined && { jwksUri: i.jwks_uri }),
  algorithms: i.algorithms,
});

/**
 * A trusted software statement issuer. The key is the statement's `iss` verbatim: RFC 7591 §2.3
 * makes the statement a JWT, whose `iss` is a StringOrURI (RFC 7519 §4.1.1), so any string (up
 * to the identifier bound) is accepted, not only https URLs.
 */
const statementIssuer = z
  .strictObject(keySourceMembers)
  .check(z.refine(oneKeySource, GIVE_ONE_KEY_SOURCE));

/** JSON keyed by issuer. */
const statementIssuers = z.pipe(
  z.pipe(
    jsonText,
    z.record(z.string().check(z.minLength(1), z.maxLength(MAX_IDENTIFIER_LENGTH)), statementIssuer),
  ),
  z.transform(
    (issuers: Record<string, z.output<typeof statementIssuer>>) =>
      new Map<string, KeySource>(Object.entries(issuers).map(([iss, i]) => [iss, keySourceOf(i)])),
  ),
);

const scopeTokens = z
  .string()
  .check(
    z.regex(
      SCOPE_SYNTAX,
      'must be space-separated scopes (printable ASCII, no quotes or backslashes)',
    ),
  );

/**
 * A claim rule of a trusted issuer: every named claim must match its pattern (docs/tokens.md
 * "Claim rules"). A rule of wildcards only would admit anyone the issuer signs for (any GitHub
 * repository on earth): at least one claim must say more.
 */
const trustRule = z.strictObject({
  claims: z
    .record(
      z.string().check(z.minLength(1), z.maxLength(64)),
      z
        .string()
        .check(
          z.minLength(1),
          z.maxLength(MAX_IDENTIFIER_LENGTH, 'must be at most 256 characters'),
        ),
    )
    .check(
      z.refine((claims) => Object.keys(claims).length > 0, 'must name at least one claim'),
      z.refine(
        (claims) => Object.values(claims).some((pattern) => !isWildcardOnly(pattern)),
        'must pin at least one claim to more than a wildcard (`*` alone admits anyone the issuer signs for)',
      ),
    ),
  scope: z.optional(scopeTokens),
  resources: z.array(absoluteUri).check(z.minLength(1)),
});

/**
 * A trusted token issuer, keyed by its `iss`: an https URL (every platform's is), without
 * fragment (a federated subject is `<iss>#<sub>`).
 */
const trustedIssuer = z
  .strictObject({
    kind: z.enum(ISSUER_KINDS),
    ...keySourceMembers,
    rules: z.array(trustRule).check(z.minLength(1)),
  })
  .check(z.refine(oneKeySource, GIVE_ONE_KEY_SOURCE));

/** An issuer's `iss`, as a key: what is wrong with it, if anything. */
const issuerKeyProblem = (iss: string) => {
  if (iss.length > MAX_IDENTIFIER_LENGTH)
    return `must be at most ${MAX_IDENTIFIER_LENGTH} characters`;
  if (!URL.canParse(iss) || new URL(iss).protocol !== 'https:') {
    return 'must be an https URL (the issuer’s `iss`, exactly)';
  }
  return iss.includes('#') ? 'must have no fragment' : undefined;
};

/** Trusted issuers keyed by `iss`: the configuration's, and the admin API's one at a time. */
const trustedIssuerRecord = z.pipe(
  z.record(z.string(), trustedIssuer).check(
    z.superRefine((issuers, ctx) => {
      for (const iss of Object.keys(issuers)) {
        const problem = issuerKeyProblem(iss);
        if (problem) ctx.issues.push({ code: 'custom', path: [iss], message: problem, input: iss });
      }
    }),
  ),
  z.transform(
    (issuers: Record<string, z.output<typeof trustedIssuer>>) =>
      new Map<string, TrustedIssuerSettings>(
        Object.entries(issuers).map(([iss, i]) => [
          iss,
          {
            kind: i.kind,
            ...keySourceOf(i),
            rules: i.rules.map((r) => ({
              claims: r.claims,
              ...(r.scope !== undefined && { scope: r.scope }),
              resources: r.resources,
            })),
          },
        ]),
      ),
  ),
);

const trustedIssuers = z.pipe(jsonText, trustedIssuerRecord);

/** `N/SECONDS` or `off` (see core/registration/abuse-control.ts). */
const rateLimit = z.pipe(
  z.string(),
  z.transform((v: string, ctx): RateLimit | undefined => {
    const parsed = parseRateLimit(v);
    if (typeof parsed === 'string') {
      z.addIssue(ctx, parsed);
      return z.NEVER;
    }
    return parsed;
  }),
);

/** `*` or `any` = any; otherwise a comma (or space) separated list, lower-cased. */
const anyOrList = (check: (item: string) => string | undefined) =>
  z.pipe(
    z.string(),
    z.transform((v: string, ctx): 'any' | string[] => {
      const items = v
        .split(/[\s,]+/)
        .filter(Boolean)
        .map((i) => i.toLowerCase());
      if (items.length === 1 && (items[0] === '*' || items[0] === 'any')) return 'any';
      for (const item of items) {
        const problem = check(item);
        if (problem) z.addIssue(ctx, problem, item);
      }
      return items;
    }),
  );

const SCHEME = /^[a-z][a-z0-9+.-]*$/;
const NOT_PRIVATE_USE = new Set(['http', 'https', 'javascript', 'data', 'file', 'vbscript']);
const schemeProblem = (s: string) =>
  !SCHEME.test(s) || NOT_PRIVATE_USE.has(s) ? `${s}: is not a private-use URI scheme` : undefined;

/** Text matching `pattern` (`message` says the rule). */
const matching = (pattern: RegExp, message?: string) => z.string().check(z.regex(pattern, message));

/** A DNS name, as API Gateway takes a custom domain's (lower case; a wildcard is not one). */
const hostName = matching(
  /^(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/,
  'must be a lower-case DNS name such as auth.example.com',
);

// What the AWS services accept, checked at synth so that a value they would refuse fails
// `cdk synth` with the setting's name instead of `cdk deploy` halfway (docs/deployment.md).

/** The retention periods CloudWatch Logs accepts (PutRetentionPolicy, `AWS::Logs::LogGroup`). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

const retentionRule = `must be a retention CloudWatch Logs offers: ${LOG_RETENTION_DAYS.join(', ')} (days)`;
const logRetentionDays = z.coerce
  .number({ error: retentionRule })
  .check(
    z.refine(
      (days: number) => (LOG_RETENTION_DAYS as readonly number[]).includes(days),
      retentionRule,
    ),
  );

/**
 * The scopes a Cognito app client may ask for without a resource server (the stack makes
 * none): anything else, `offline_access` included, makes the app client fail to create.
 */
export const COGNITO_SCOPES = [
  'openid',
  'email',
  'phone',
  'profile',
  'aws.cognito.signin.user.admin',
];

/**
 * A secret's complete ARN, with the six characters Secrets Manager appends to its name: a
 * policy naming a partial ARN (without them) does not match the secret, so the function would
 * be refused at run time.
 */
const secretArn = matching(
  /^arn:aws[\w-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+-[A-Za-z0-9]{6}$/,
  'must be the secret’s complete ARN, ending in the six characters Secrets Manager adds to its name (…:secret:name-AbCdEf)',
);

/** An ACM certificate's complete ARN (its region is checked against the stack's). */
const certificateArn = matching(
  /^arn:aws[\w-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/,
  'must be an ACM certificate’s complete ARN (arn:aws:acm:<region>:<account>:certificate/<id>)',
);

/** A KMS key's complete ARN (a key id or an alias is not one). */
const kmsKeyArn = matching(
  /^arn:aws[\w-]*:kms:[a-z0-9-]+:\d{12}:key\/[\w-]+$/,
  'must be KMS key ARNs (arn:aws:kms:<region>:<account>:key/<id>)',
);

/** An AWS region name (eu-west-1, us-gov-west-1, ap-southeast-4). */
const regionName = matching(
  /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/,
  'must be AWS region names such as eu-west-1',
);

// ---------------------------------------------------------------------------------------------
// The table.

/**
 * Which deployed functions get a setting: every one, those that use a KMS key (their `access.key`
 * in lambdas/functions.ts: signing, publishing, verifying, unwrapping, generating), or the ones named.
 */
export type Receivers = 'every function' | 'functions with a key' | readonly DeployedFunction[];

export interface Setting {
  /** The variable the server reads; absent: a deployment setting only. */
  readonly env?: string;
  /** Its `dcr:<key>` context key; absent: not deployable, or set by the stack itself. */
  readonly key?: string;
  /** Parses the value's text; its issues name the variable (or the key). */
  readonly type: z.core.$ZodType;
  /** At synth, the value must pass this too (stricter than what the functions take). */
  readonly deployType?: z.core.$ZodType;
  /** A list: in cdk.json an array, with -c a comma or space list; the functions get it joined. */
  readonly list?: ' ' | ',';
  /** In cdk.json an object, with -c its JSON text; the functions get the JSON text. */
  readonly json?: true;
  /** on/off for the functions; in cdk.json and with -c also true/false. */
  readonly flag?: true;
  /** The default, as text; absent: unset. */
  readonly default?: string;
  /**
   * The stack's value when the key is unset, where it differs from `default`; false: the
   * stack sets nothing and each function applies its own default.
   */
  readonly deployDefault?: string | false;
  /** How the default reads in the documentation, where the value alone would not say it. */
  readonly defaultDoc?: string;
  /** One line of documentation (Markdown). */
  readonly doc: string;
  /** A credential: a message about its value never quotes it. */
  readonly secret?: true;
  /** The deployed functions that receive it; absent: none (local server, or deployment only). */
  readonly receivedBy?: Receivers;
}

const setting = <const S extends Setting>(s: S): S => s;

export const SETTINGS = {
  // The server and its identity.
  port: setting({
    env: 'PORT',
    type: wholeNumber(0, 65535),
    default: '3000',
    doc: SETTINGS_DOCS ? 'local port (`0` = any free port)' : '',
  }),
  issuer: setting({
    env: 'DCR_ISSUER',
    type: issuerUrl,
    defaultDoc: SETTINGS_DOCS
      ? "`http://127.0.0.1:$PORT` locally; in AWS the API's own `https://` domain (`dcr:domainName`)"
      : '',
    doc: SETTINGS_DOCS
      ? 'the issuer; may carry a path (`https://id.example.com/tenant-a`), then endpoints live under it and metadata also at the RFC 8414 path-inserted URL. Set by the stack with a custom domain'
      : '',
    receivedBy: 'every function',
  }),
  serviceDocumentation: setting({
    env: 'DCR_SERVICE_DOCUMENTATION',
    key: 'serviceDocumentation',
    type: z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }),
    defaultDoc: SETTINGS_DOCS ? 'unset' : '',
    doc: SETTINGS_DOCS
      ? 'a page for developers who integrate with this server (RFC 8414 `service_documentation`): advertised in the metadata and linked from the home page (`GET /`)'
      : '',
    receivedBy: ['discovery'],
  }),
  serviceName: setting({
    env: 'DCR_SERVICE_NAME',
    key: 'serviceName',
    type: displayText(80),
    defaultDoc: SETTINGS_DOCS ? 'unset (the page names the issuer’s host)' : '',
    doc: SETTINGS_DOCS
      ? 'the server’s or organisation’s name as users see it on the consent page (up to 80 characters)'
      : '',
    receivedBy: ['authorize'],
  }),
  serviceLogo: setting({
    env: 'DCR_SERVICE_LOGO',
    key: 'serviceLogo',
    type: logoFile,
    defaultDoc: SETTINGS_DOCS ? 'unset (no logo)' : '',
    doc: SETTINGS_DOCS
      ? `the operator’s logo on the consent page: a PNG, JPEG, WebP or SVG file (path, up to ${MAX_LOGO_BYTES / 1024} KB) read at start and served by this server at \`/service-logo\` (the stack copies it into the authorize function); never a client’s \`logo_uri\``
      : '',
    receivedBy: ['authorize'],
  }),
  scopeDescriptions: setting({
    env: 'DCR_SCOPE_DESCRIPTIONS',
    key: 'scopeDescriptions',
    type: scopeDescriptions,
    json: true,
    defaultDoc: SETTINGS_DOCS ? 'unset (scopes are shown by name)' : '',
    doc: SETTINGS_DOCS
      ? `JSON object scope → what it lets an application do, in words a user understands (up to ${MAX_SCOPE_DESCRIPTIONS} scopes, 200 characters each), shown on the consent page beside the scope's name`
      : '',
    receivedBy: ['authorize'],
  }),
  dataDir: setting({
    env: 'DCR_DATA_DIR',
    type: text,
    defaultDoc: SETTINGS_DOCS ? '`.dcr-data/` in the repository (git-ignored)' : '',
    doc: SETTINGS_DOCS ? 'local data folder' : '',
  }),
  tableName: setting({
    env: 'DCR_TABLE_NAME',
    type: z.string().check(z.minLength(3), z.maxLength(255)),
    default: 'serverless-dcr',
    doc: SETTINGS_DOCS ? 'DynamoDB table' : '',
    receivedBy: 'every function',
  }),

  // Clients and tokens.
  allowedScopes: setting({
    env: 'DCR_ALLOWED_SCOPES',
    key: 'allowedScopes',
    type: scopeList,
    list: ' ',
    defaultDoc: SETTINGS_DOCS
      ? 'unset = any scope; **required** when `DCR_RESOURCES` or `DCR_DEFAULT_AUDIENCE` is set'
      : '',
    doc: SETTINGS_DOCS
      ? 'space-separated scopes clients may register; advertised as `scopes_supported`. Tokens for a real resource carry only scopes the operator offers, so with resources configured the server refuses to start without this list'
      : '',
    receivedBy: 'every function',
  }),
  clientMaxLifetimeSeconds: setting({
    env: 'DCR_CLIENT_MAX_LIFETIME_SECONDS',
    key: 'clientMaxLifetimeSeconds',
    type: seconds(),
    default: String(365 * 24 * 3600),
    defaultDoc: SETTINGS_DOCS ? '`31536000` (365 days)' : '',
    doc: SETTINGS_DOCS
      ? "longest a client lives; caps the client's `expires_at`; `0` = no cap"
      : '',
    receivedBy: 'every function',
  }),
  clientSecretLifetimeSeconds: setting({
    env: 'DCR_CLIENT_SECRET_LIFETIME_SECONDS',
    key: 'clientSecretLifetimeSeconds',
    type: seconds(),
    default: '0',
    defaultDoc: SETTINGS_DOCS ? '`0` (never)' : '',
    doc: SETTINGS_DOCS
      ? "lifetime of each issued client secret (registration, an RFC 7592 update that replaces an expired one, an operator's rotation), reported in `client_secret_expires_at`"
      : '',
    receivedBy: 'every function',
  }),
  clientIdleLifetimeSeconds: setting({
    env: 'DCR_CLIENT_IDLE_LIFETIME_SECONDS',
    key: 'clientIdleLifetimeSeconds',
    type: seconds(),
    default: String(90 * 24 * 3600),
    defaultDoc: SETTINGS_DOCS ? '`7776000` (90 days)' : '',
    doc: SETTINGS_DOCS
      ? 'a client not used (no token, introspection or revocation) for this long after its last use expires; `0` = never'
      : '',
    receivedBy: 'every function',
  }),
  clientUnusedLifetimeSeconds: setting({
    env: 'DCR_CLIENT_UNUSED_LIFETIME_SECONDS',
    key: 'clientUnusedLifetimeSeconds',
    type: seconds(),
    default: String(24 * 3600),
    defaultDoc: SETTINGS_DOCS ? '`86400` (24 hours)' : '',
    doc: SETTINGS_DOCS
      ? 'a client never used expires this long after registering; `0` = never'
      : '',
    receivedBy: 'every function',
  }),
  lastUsedWriteIntervalSeconds: setting({
    env: 'DCR_LAST_USED_WRITE_INTERVAL_SECONDS',
    key: 'lastUsedWriteIntervalSeconds',
    type: seconds(),
    default: '300',
    doc: SETTINGS_DOCS
      ? '"last used" is written at most once per client per interval, not once per token'
      : '',
    receivedBy: 'every function',
  }),
  accessTokenLifetimeSeconds: setting({
    env: 'DCR_ACCESS_TOKEN_LIFETIME_SECONDS',
    key: 'accessTokenLifetimeSeconds',
    type: seconds(60, 86_400),
    default: '600',
    doc: SETTINGS_DOCS ? 'access token lifetime (RFC 9068 `exp - iat`)' : '',
    receivedBy: 'every function',
  }),
  resources: setting({
    env: 'DCR_RESOURCES',
    key: 'resources',
    type: setOf(absoluteUri),
    list: ' ',
    default: '',
    defaultDoc: SETTINGS_DOCS ? 'none' : '',
    doc: SETTINGS_DOCS
      ? 'RFC 8707 resources clients may ask tokens for (space-separated absolute URIs); each becomes `aud`'
      : '',
    receivedBy: 'every function',
  }),
  defaultAudience: setting({
    env: 'DCR_DEFAULT_AUDIENCE',
    key: 'defaultAudience',
    type: absoluteUri,
    defaultDoc: SETTINGS_DOCS ? 'the issuer' : '',
    doc: SETTINGS_DOCS ? '`aud` of tokens requested without `resource`' : '',
    receivedBy: 'every function',
  }),
  introspectorClientIds: setting({
    env: 'DCR_INTROSPECTOR_CLIENT_IDS',
    key: 'introspectorClientIds',
    type: setOf(z.string()),
    list: ' ',
    default: '',
    defaultDoc: SETTINGS_DOCS ? 'none' : '',
    doc: SETTINGS_DOCS
      ? 'clients (resource servers) that may introspect any token; every other client only its own'
      : '',
    receivedBy: 'every function',
  }),

  // Signing.
  signingAlg: setting({
    env: 'DCR_SIGNING_ALG',
    key: 'signingAlgorithm',
    type: z.enum(['RS256', 'ES256']),
    default: 'RS256',
    doc: SETTINGS_DOCS
      ? 'the signing algorithm: of the local key (generated once, kept in the data folder), of the KMS key (`RSA_2048` or `ECC_NIST_P256`), and in the wrapped mode of each new key'
      : '',
    receivedBy: ['key-rotation'],
  }),
  signingMode: setting({
    env: 'DCR_SIGNING_MODE',
    key: 'signingMode',
    type: z.enum(['kms', 'wrapped']),
    default: 'kms',
    deployDefault: false,
    doc: SETTINGS_DOCS
      ? 'AWS: `kms` (KMS signs every token; the private key never leaves it) or `wrapped` (a signing key wrapped by a symmetric KMS key, unwrapped once per container, rotated on a schedule: docs/deployment.md "Signing modes"); `npm start` always signs with its local key file'
      : '',
    receivedBy: 'every function',
  }),
  kmsKeyId: setting({
    env: 'DCR_KMS_KEY_ID',
    type: text,
    defaultDoc: SETTINGS_DOCS ? 'set by the stack' : '',
    doc: SETTINGS_DOCS
      ? 'AWS: the KMS key that signs (id, ARN or alias); the key spec decides RS256 or ES256'
      : '',
    receivedBy: 'functions with a key',
  }),
  kmsPreviousKeyIds: setting({
    env: 'DCR_KMS_PREVIOUS_KEY_IDS',
    key: 'previousSigningKeyArns',
    type: list,
    deployType: listOf(kmsKeyArn),
    list: ' ',
    default: '',
    defaultDoc: SETTINGS_DOCS ? 'none' : '',
    doc: SETTINGS_DOCS
      ? 'AWS: keys that signed before a rotation, still published in the JWKS (and readable by the verifying functions) until their tokens expire (kms mode only)'
      : '',
    receivedBy: 'functions with a key',
  }),
  kmsWrappingKeyId: setting({
    env: 'DCR_KMS_WRAPPING_KEY_ID',
    type: text,
    defaultDoc: SETTINGS_DOCS ? 'set by the stack' : '',
    doc: SETTINGS_DOCS
      ? 'AWS, wrapped mode: the symmetric KMS key that wraps the signing keys'
      : '',
    receivedBy: 'functions with a key',
  }),
  keyringRefreshSeconds: setting({
    env: 'DCR_KEYRING_REFRESH_SECONDS',
    type: seconds(1, 3600),
    default: '300',
    doc: SETTINGS_DOCS
      ? 'wrapped mode: how often a function re-reads the keyring (1 to 3600); a new key is published this much longer before it signs'
      : '',
  }),
  signingKeyGeneration: setting({
    key: 'signingKeyGeneration',
    type: seconds(1),
    default: '1',
    doc: SETTINGS_DOCS
      ? 'raise it to rotate: a new key (alias `…-gen<N>`) signs, the old one is retained; list the old key in `dcr:previousSigningKeyArns` until its tokens have expired'
      : '',
  }),
  keyRotationHours: setting({
    key: 'keyRotationHours',
    type: seconds(1, 24 * 90),
    default: '24',
    doc: SETTINGS_DOCS ? 'wrapped mode: a new signing key every this many hours (1 to 2160)' : '',
  }),
  region: setting({
    env: 'DCR_REGION',
    type: z
      .string()
      .check(
        z.regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be a region name such as eu-west-1'),
        z.maxLength(32),
      ),
    defaultDoc: SETTINGS_DOCS ? 'unset = nothing is pinned' : '',
    doc: SETTINGS_DOCS
      ? "multi-region: this server's region, set by the stack with `dcr:replicaRegions` or `dcr:primaryRegion`; refresh token families, authorization codes and initial access tokens made here are used here only"
      : '',
    receivedBy: 'every function',
  }),

  // The local server's own.
  cleanupIntervalSeconds: setting({
    env: 'DCR_CLEANUP_INTERVAL_SECONDS',
    type: seconds(),
    default: '3600',
    doc: SETTINGS_DOCS
      ? "local server: how often it sweeps expired items in process (`0` = never); `npm run cleanup` sweeps a stopped server's data once"
      : '',
  }),
  localSyncWrites: setting({
    env: 'DCR_LOCAL_SYNC_WRITES',
    type: onOff,
    default: 'on',
    doc: SETTINGS_DOCS
      ? 'local server: every write reaches the disk (fsync) before it is acknowledged; `off` is faster but a power cut or OS crash (not a killed process) can lose the last acknowledged writes (docs/operations.md "Durability")'
      : '',
  }),
  shutdownGraceSeconds: setting({
    env: 'DCR_SHUTDOWN_GRACE_SECONDS',
    type: seconds(0, 600),
    default: '8',
    doc: SETTINGS_DOCS
      ? "local server: on SIGTERM or SIGINT, how long requests in flight may take to be answered before their connections are cut (below `docker stop`'s 10 s)"
      : '',
  }),
  adminToken: setting({
    env: 'DCR_ADMIN_TOKEN',
    type: z.string().check(z.minLength(32, 'must be at least 32 characters')),
    secret: true,
    defaultDoc: SETTINGS_DOCS ? 'unset (admin API and dashboard closed)' : '',
    doc: SETTINGS_DOCS
      ? "local server: bearer token of the admin API (at least 32 characters), and what the dashboard's sign-in asks for; in AWS, IAM authorizes the admin API instead"
      : '',
  }),
  auditLog: setting({
    env: 'DCR_AUDIT_LOG',
    type: text,
    default: 'stdout',
    doc: SETTINGS_DOCS
      ? 'local server: audit events as JSON lines to `stdout`, a file path, or `off` (the statistics count the changes either way)'
      : '',
  }),
  auditBusName: setting({
    env: 'DCR_AUDIT_BUS_NAME',
    type: text,
    defaultDoc: SETTINGS_DOCS ? 'set by the stack' : '',
    doc: SETTINGS_DOCS ? 'AWS: the EventBridge bus the audit function puts audit events on' : '',
    receivedBy: ['audit'],
  }),

  // Signing users in.
  upstreamIssuer: setting({
    env: 'DCR_UPSTREAM_ISSUER',
    key: 'upstreamIssuer',
    type: upstreamIssuer,
    deployType: z.url({ protocol: /^https$/ }),
    defaultDoc: SETTINGS_DOCS
      ? 'none; in AWS the Cognito user pool the stack creates (unless `dcr:cognitoLogin` is false)'
      : '',
    doc: SETTINGS_DOCS
      ? 'an OpenID Provider users sign in at (https; locally also http on `127.0.0.1`, `[::1]`, `localhost`); with the upstream client id. Register `<issuer>/callback` there as the redirect URI (the start-up banner and the stack output `LoginCallbackUrl` print it)'
      : '',
    receivedBy: 'every function',
  }),
  upstreamClientId: setting({
    env: 'DCR_UPSTREAM_CLIENT_ID',
    key: 'upstreamClientId',
    type: z.string().check(z.minLength(1), z.maxLength(255)),
    defaultDoc: SETTINGS_DOCS ? 'none (the Cognito app client in AWS)' : '',
    doc: SETTINGS_DOCS ? "this server's client id at the upstream" : '',
    receivedBy: 'every function',
  }),
  upstreamClientSecret: setting({
    env: 'DCR_UPSTREAM_CLIENT_SECRET',
    type: text,
    secret: true,
    defaultDoc: SETTINGS_DOCS ? 'none (a public client: PKCE only)' : '',
    doc: SETTINGS_DOCS
      ? 'local: the upstream client secret (`client_secret_basic`); not together with `DCR_UPSTREAM_CLIENT_SECRET_ARN`'
      : '',
  }),
  upstreamClientSecretArn: setting({
    env: 'DCR_UPSTREAM_CLIENT_SECRET_ARN',
    key: 'upstreamClientSecretArn',
    type: z.string().check(z.startsWith('arn:')),
    deployType: secretArn,
    defaultDoc: SETTINGS_DOCS ? 'none (a public client: PKCE only)' : '',
    doc: SETTINGS_DOCS
      ? 'AWS: full ARN of a Secrets Manager secret you created holding the upstream client secret as plain text (`client_secret_basic`), read once per container; encrypted with the default `aws/secretsmanager` key (the function gets no `kms:Decrypt` on keys of yours)'
      : '',
    receivedBy: ['authorize'],
  }),
  upstreamScopes: setting({
    env: 'DCR_UPSTREAM_SCOPES',
    key: 'upstreamScopes',
    type: z
      .pipe(
        z.string(),
        z.transform((v) => v.split(/\s+/).filter(Boolean)),
      )
      .check(z.refine((scopes) => scopes.includes('openid'), 'must include openid')),
    list: ' ',
    default: 'openid',
    doc: SETTINGS_DOCS ? 'scopes asked of the upstream (must include `openid`)' : '',
    receivedBy: ['authorize'],
  }),
  devLogin: setting({
    env: 'DCR_DEV_LOGIN',
    type: onOff,
    defaultDoc: SETTINGS_DOCS
      ? '`on` locally when no upstream is configured; never in Lambda (refused there)'
      : '',
    doc: SETTINGS_DOCS ? '`on`/`off`: the development login (no password; docs/sign-in.md)' : '',
  }),
  devUsers: setting({
    env: 'DCR_DEV_USERS',
    type: listOf(matching(/^[A-Za-z0-9._-]{1,64}$/, 'names are 1-64 of A-Z a-z 0-9 . _ -')).check(
      z.minLength(1),
    ),
    default: 'alice',
    doc: SETTINGS_DOCS
      ? 'development login users (comma or space separated, `[A-Za-z0-9._-]{1,64}`); user `alice` gets `sub` = `dev:alice`'
      : '',
  }),
  cookieKeySecretArn: setting({
    env: 'DCR_COOKIE_KEY_SECRET_ARN',
    type: z.string().check(z.startsWith('arn:')),
    defaultDoc: SETTINGS_DOCS ? 'set by the stack' : '',
    doc: SETTINGS_DOCS
      ? 'AWS: the Secrets Manager secret keying the sealed browser cookies (locally a key file in the data folder)'
      : '',
    receivedBy: ['authorize'],
  }),
  sessionLifetimeSeconds: setting({
    env: 'DCR_SESSION_LIFETIME_SECONDS',
    key: 'sessionLifetimeSeconds',
    type: seconds(300, 86_400),
    default: '28800',
    defaultDoc: SETTINGS_DOCS ? '`28800` (8 hours)' : '',
    doc: SETTINGS_DOCS ? 'how long a browser stays signed in at this server (300 to 86400)' : '',
    receivedBy: ['authorize'],
  }),
  refreshTokenLifetimeSeconds: setting({
    env: 'DCR_REFRESH_TOKEN_LIFETIME_SECONDS',
    key: 'refreshTokenLifetimeSeconds',
    type: seconds(3600),
    default: String(30 * 24 * 3600),
    defaultDoc: SETTINGS_DOCS ? '`2592000` (30 days)' : '',
    doc: SETTINGS_DOCS ? 'refresh token family: absolute lifetime' : '',
    receivedBy: 'every function',
  }),
  refreshTokenIdleLifetimeSeconds: setting({
    env: 'DCR_REFRESH_TOKEN_IDLE_LIFETIME_SECONDS',
    key: 'refreshTokenIdleLifetimeSeconds',
    type: seconds(300),
    default: String(7 * 24 * 3600),
    defaultDoc: SETTINGS_DOCS ? '`604800` (7 days)' : '',
    doc: SETTINGS_DOCS
      ? 'refresh token family: idle lifetime (unused this long: dead; at most the absolute one)'
      : '',
    receivedBy: 'every function',
  }),
  refreshTokenReuseGraceSeconds: setting({
    env: 'DCR_REFRESH_TOKEN_REUSE_GRACE_SECONDS',
    key: 'refreshTokenReuseGraceSeconds',
    type: seconds(0, 3600),
    default: '60',
    defaultDoc: SETTINGS_DOCS ? '`60`' : '',
    doc: SETTINGS_DOCS
      ? 'after a rotation, the replaced refresh token still answers with its successor this long, for clients that refresh concurrently (`0`: any reuse revokes the family; [Concurrent refreshes](tokens.md#concurrent-refreshes-the-reuse-grace-window))'
      : '',
    receivedBy: ['token'],
  }),
  dpopNonce: setting({
    env: 'DCR_DPOP_NONCE',
    key: 'dpopNonce',
    type: onOff,
    default: 'off',
    doc: SETTINGS_DOCS
      ? '`on`: every DPoP proof at the token endpoint must carry a nonce this server issued (RFC 9449 §8), else `400 use_dpop_nonce` with a `DPoP-Nonce` header; derived, not stored ([DPoP nonces](tokens.md#dpop-nonces)); needs the RS256 signing algorithm'
      : '',
    receivedBy: ['token'],
  }),
  cognitoLogin: setting({
    key: 'cognitoLogin',
    type: onOff,
    flag: true,
    default: 'on',
    defaultDoc: SETTINGS_DOCS ? '`true`' : '',
    doc: SETTINGS_DOCS
      ? 'without an upstream: create an Amazon Cognito user pool with managed login as the upstream; `false` = no one signs in (no authorize function, no `/authorize`, discovery advertises no authorization endpoint)'
      : '',
  }),
  cognitoDomainPrefix: setting({
    key: 'cognitoDomainPrefix',
    type: matching(
      /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
      'lower-case letters, digits and hyphens',
    ).check(
      z.refine((v) => !/aws|amazon|cognito/.test(v), 'must not contain aws, amazon or cognito'),
    ),
    defaultDoc: SETTINGS_DOCS ? '`<stack name>-<account id>`' : '',
    doc: SETTINGS_DOCS
      ? 'the Cognito managed login domain (`https://<prefix>.auth.<region>.amazoncognito.com`)'
      : '',
  }),

  // Registration.
  clientIdMetadataDocuments: setting({
    env: 'DCR_CLIENT_ID_METADATA_DOCUMENTS',
    key: 'clientIdMetadataDocuments',
    type: onOff,
    flag: true,
    defaultDoc: SETTINGS_DOCS ? '`on` exactly when `open` registration is accepted' : '',
    doc: SETTINGS_DOCS
      ? 'whether an https URL is a client_id here (Client ID Metadata Documents, docs/registration.md); document clients are anonymous clients, held to the `open` way'
      : '',
    receivedBy: 'every function',
  }),
  registrationAccess: setting({
    env: 'DCR_REGISTRATION_ACCESS',
    key: 'registrationAccess',
    type: listOf(way).check(z.minLength(1)),
    list: ',',
    deployDefault: false,
    defaultDoc: SETTINGS_DOCS
      ? '`open,initial_access_token,software_statement`, plus `mtls` when client certificates can arrive (`DCR_TLS_CLIENT_AUTH`, `dcr:mtlsDomainName`)'
      : '',
    doc: SETTINGS_DOCS
      ? 'the accepted ways to register (docs/registration.md "Registration policy"): `open`, `initial_access_token`, `software_statement`, `mtls`'
      : '',
    receivedBy: 'every function',
  }),
  registrationTiers: setting({
    env: 'DCR_REGISTRATION_TIERS',
    key: 'registrationTiers',
    type: registrationTiers,
    json: true,
    defaultDoc: SETTINGS_DOCS ? 'no narrowing' : '',
    doc: SETTINGS_DOCS
      ? 'trust tier per way, JSON keyed by way (in cdk.json an object): `max_client_lifetime_seconds`, `grant_types`, `scopes`, `public_clients`'
      : '',
    receivedBy: 'every function',
  }),
  softwareStatementIssuers: setting({
    env: 'DCR_SOFTWARE_STATEMENT_ISSUERS',
    key: 'softwareStatementIssuers',
    type: statementIssuers,
    json: true,
    default: '{}',
    deployDefault: false,
    defaultDoc: SETTINGS_DOCS ? 'none' : '',
    doc: SETTINGS_DOCS
      ? 'trusted software statement issuers (RFC 7591 §2.3), JSON keyed by `iss` (in cdk.json an object): `{jwks | jwks_uri, algorithms?}` each (docs/registration.md "Software statements")'
      : '',
    receivedBy: 'every function',
  }),
  trustedIssuers: setting({
    env: 'DCR_TRUSTED_ISSUERS',
    key: 'trustedIssuers',
    type: trustedIssuers,
    json: true,
    default: '{}',
    deployDefault: false,
    defaultDoc: SETTINGS_DOCS ? 'none' : '',
    doc: SETTINGS_DOCS
      ? 'issuers whose JWTs are exchanged for access tokens (RFC 7523 jwt-bearer), JSON keyed by `iss` (in cdk.json an object): `{kind: "workload" | "id-jag", jwks | jwks_uri, algorithms?, rules: [{claims, scope?, resources}]}` each ([Workload identity](tokens.md#workload-identity), [ID-JAG](tokens.md#enterprise-managed-authorization-id-jag))'
      : '',
    receivedBy: ['discovery', 'token', 'introspect', 'admin'],
  }),
  trustedIssuerCacheSeconds: setting({
    env: 'DCR_TRUSTED_ISSUER_CACHE_SECONDS',
    key: 'trustedIssuerCacheSeconds',
    type: seconds(0, 300),
    default: '30',
    doc: SETTINGS_DOCS
      ? 'how long a container keeps what it read of an issuer stored through the admin API — found or not — before reading it again: the longest a removed or replaced issuer still counts in a warm container (`0` = read each time; [Stored trusted issuers](tokens.md#stored-trusted-issuers))'
      : '',
    receivedBy: ['token', 'introspect'],
  }),
  tokenExchange: setting({
    env: 'DCR_TOKEN_EXCHANGE',
    key: 'tokenExchange',
    type: onOff,
    flag: true,
    default: 'off',
    doc: SETTINGS_DOCS
      ? '`on`: RFC 8693 token exchange at the token endpoint: a client of `DCR_INTROSPECTOR_CLIENT_IDS` (a resource server) exchanges an access token it received for one to another resource, acting for its subject (`act`) ([Token exchange](tokens.md#token-exchange-rfc-8693))'
      : '',
    receivedBy: ['discovery', 'token'],
  }),
  assertionMaxLifetimeSeconds: setting({
    env: 'DCR_ASSERTION_MAX_LIFETIME_SECONDS',
    key: 'assertionMaxLifetimeSeconds',
    type: seconds(60, 86_400),
    default: '3600',
    doc: SETTINGS_DOCS
      ? 'the longest remaining lifetime (`exp` − now) of an assertion exchanged at the token endpoint; a longer-lived one is refused (`invalid_grant`)'
      : '',
    receivedBy: ['token'],
  }),
  trustedFetchOrigins: setting({
    env: 'DCR_TRUSTED_FETCH_ORIGINS',
    type: setOf(httpsOrigin),
    default: '',
    defaultDoc: SETTINGS_DOCS ? 'none' : '',
    doc: SETTINGS_DOCS
      ? '**for tests only**: comma-separated https origins (`https://127.0.0.1:8443`) whose addresses the fetch guard does not check, so tests can serve metadata documents and key sets on loopback; `npm start` warns when it is set'
      : '',
  }),
  registrationRateLimit: setting({
    env: 'DCR_REGISTRATION_RATE_LIMIT',
    key: 'registrationRateLimit',
    type: rateLimit,
    deployDefault: '120/3600',
    defaultDoc: SETTINGS_DOCS
      ? "`off` locally (`npm start`: a developer's load test from loopback must not hit it); `120/3600` in the stack (it admits a shared office egress address in normal use)"
      : '',
    doc: SETTINGS_DOCS
      ? 'anonymous registrations per source address (IPv6: per /64) and fixed window: `N/SECONDS` (window 1 to 86400 s) or `off` (docs/registration.md "Abuse control")'
      : '',
    receivedBy: ['register'],
  }),
  redirectHosts: setting({
    env: 'DCR_REDIRECT_HOSTS',
    key: 'redirectHosts',
    type: anyOrList(hostPatternProblem),
    list: ',',
    default: DEFAULT_REDIRECT_HOSTS.join(','),
    deployDefault: false,
    doc: SETTINGS_DOCS
      ? "host patterns an anonymous client's https redirect URIs must match: `host.name` exactly, or `*.host.name` = one or more labels before `.host.name` (never the bare name); `*` or `any` = any https host. Loopback is always allowed"
      : '',
    receivedBy: 'every function',
  }),
  privateUseSchemes: setting({
    env: 'DCR_PRIVATE_USE_SCHEMES',
    key: 'privateUseSchemes',
    type: anyOrList(schemeProblem),
    list: ',',
    default: DEFAULT_PRIVATE_USE_SCHEMES.join(','),
    deployDefault: false,
    doc: SETTINGS_DOCS
      ? 'private-use schemes an anonymous client may register; `*` or `any` = any (still never `javascript:`, `data:`, `file:`, …)'
      : '',
    receivedBy: 'every function',
  }),
  softwareIdMaxActiveClients: setting({
    env: 'DCR_SOFTWARE_ID_MAX_ACTIVE_CLIENTS',
    key: 'softwareIdMaxActiveClients',
    type: wholeNumber(1, 1_000_000),
    defaultDoc: SETTINGS_DOCS ? 'unset (no cap)' : '',
    doc: SETTINGS_DOCS
      ? 'the active clients one software_id may have at once (1 to 1,000,000); more → `403 access_denied` (docs/registration.md "Active clients per software_id")'
      : '',
    receivedBy: ['register'],
  }),

  // Transport: TLS locally, mutual TLS.
  tlsCert: setting({
    env: 'DCR_TLS_CERT',
    type: text,
    defaultDoc: SETTINGS_DOCS ? 'unset (http)' : '',
    doc: SETTINGS_DOCS
      ? 'local server: serve https with this certificate (PEM file path), with `DCR_TLS_KEY`; the issuer becomes `https://127.0.0.1:$PORT`'
      : '',
  }),
  tlsKey: setting({
    env: 'DCR_TLS_KEY',
    type: text,
    defaultDoc: SETTINGS_DOCS ? 'unset (http)' : '',
    doc: SETTINGS_DOCS ? "local server: the certificate's private key (PEM file path)" : '',
  }),
  tlsClientCa: setting({
    env: 'DCR_TLS_CLIENT_CA',
    type: text,
    defaultDoc: SETTINGS_DOCS ? 'unset' : '',
    doc: SETTINGS_DOCS
      ? 'local server: ask for client certificates and verify them against this CA (PEM path): mutual TLS (RFC 8705). A request without one is still served'
      : '',
  }),
  tlsClientAuth: setting({
    env: 'DCR_TLS_CLIENT_AUTH',
    type: onOff,
    defaultDoc: SETTINGS_DOCS ? '`on` with `DCR_TLS_CLIENT_CA`, else `off`' : '',
    doc: SETTINGS_DOCS
      ? 'whether verified client certificates reach the server; the stack sets it with a mutual TLS domain (`dcr:mtlsDomainName`)'
      : '',
    receivedBy: 'every function',
  }),
  mtlsOrigin: setting({
    env: 'DCR_MTLS_ORIGIN',
    type: httpsOrigin,
    defaultDoc: SETTINGS_DOCS ? 'unset' : '',
    doc: SETTINGS_DOCS
      ? "RFC 8705 §5: the https origin of a host that does mutual TLS for this server; discovery then publishes `mtls_endpoint_aliases` there (token, registration, introspection, revocation, each keeping the issuer's path). Needs mutual TLS and another host than the issuer's. The stack sets it (`dcr:mtlsDomainName`); locally leave it unset: the one server asks every connection for a certificate"
      : '',
    receivedBy: ['discovery'],
  }),
  domainName: setting({
    key: 'domainName',
    type: hostName,
    defaultDoc: SETTINGS_DOCS ? 'none' : '',
    doc: SETTINGS_DOCS
      ? "custom domain (with `dcr:certificateArn`); the issuer becomes `https://<domainName>` and the execute-api URL is disabled. It never asks for a client certificate. Output `DomainTarget`: its DNS record's target"
      : '',
  }),
  certificateArn: setting({
    key: 'certificateArn',
    type: certificateArn,
    defaultDoc: SETTINGS_DOCS ? 'none' : '',
    doc: SETTINGS_DOCS ? "ACM certificate of the custom domain, in the stack's region" : '',
  }),
  mtlsDomainName: setting({
    key: 'mtlsDomainName',
    type: hostName,
    defaultDoc: SETTINGS_DOCS ? 'none' : '',
    doc: SETTINGS_DOCS
      ? 'with `dcr:mtlsTruststoreUri` (and `dcr:domainName`): a second custom domain that does mutual TLS, mapped to the same API; discovery publishes it as `mtls_endpoint_aliases`. Must differ from `dcr:domainName`. Outputs `MtlsOrigin`, `MtlsDomainTarget`'
      : '',
  }),
  mtlsCertificateArn: setting({
    key: 'mtlsCertificateArn',
    type: certificateArn,
    defaultDoc: SETTINGS_DOCS ? '`dcr:certificateArn`' : '',
    doc: SETTINGS_DOCS
      ? 'ACM certificate of `dcr:mtlsDomainName`; the default one must then cover that name too (a wildcard `*.example.com` or a SAN)'
      : '',
  }),
  mtlsTruststoreUri: setting({
    key: 'mtlsTruststoreUri',
    type: matching(/^s3:\/\/[^/]+\/.+/),
    defaultDoc: SETTINGS_DOCS ? 'none' : '',
    doc: SETTINGS_DOCS
      ? '`s3://bucket/key` PEM truststore of the CAs that issue client certificates; only the mutual TLS domain uses it. The functions get `DCR_TLS_CLIENT_AUTH=on` (`tls_client_auth`, bound tokens), the discovery function also `DCR_MTLS_ORIGIN`'
      : '',
  }),
  mtlsTruststoreVersion: setting({
    key: 'mtlsTruststoreVersion',
    type: text,
    defaultDoc: SETTINGS_DOCS ? 'none' : '',
    doc: SETTINGS_DOCS ? "the truststore object's version" : '',
  }),

  // The deployment's operation.
  cleanupSchedule: setting({
    key: 'cleanupSchedule',
    type: matching(/^(rate|cron)\(.+\)$/),
    default: 'rate(1 hour)',
    doc: SETTINGS_DOCS ? 'EventBridge schedule expression of the cleanup function' : '',
  }),
  alarmEmail: setting({
    key: 'alarmEmail',
    type: z.email(),
    defaultDoc: SETTINGS_DOCS ? 'none' : '',
    doc: SETTINGS_DOCS ? 'email address subscribed to the alarm topic' : '',
  }),
  logRetentionDays: setting({
    key: 'logRetentionDays',
    type: logRetentionDays,
    default: '30',
    doc: SETTINGS_DOCS
      ? 'retention of function and access logs (a CloudWatch retention value)'
      : '',
  }),
  tracing: setting({
    key: 'tracing',
    type: onOff,
    flag: true,
    default: 'off',
    defaultDoc: SETTINGS_DOCS ? '`false`' : '',
    doc: SETTINGS_DOCS ? 'active X-Ray tracing on every function' : '',
  }),
  retainData: setting({
    key: 'retainData',
    type: onOff,
    flag: true,
    default: 'on',
    defaultDoc: SETTINGS_DOCS ? '`true`' : '',
    doc: SETTINGS_DOCS
      ? 'keep the table (deletion protection + RETAIN), the signing key and the cookie key when the stack is deleted'
      : '',
  }),
  throttleRateLimit: setting({
    key: 'throttleRateLimit',
    type: z.coerce
      .number({ error: 'must be a number above 0' })
      .check(z.positive('must be a number above 0')),
    default: '100',
    doc: SETTINGS_DOCS
      ? 'API stage throttling: steady-state requests per second across the API'
      : '',
  }),
  throttleBurstLimit: setting({
    key: 'throttleBurstLimit',
    type: wholeNumber(1),
    default: '200',
    doc: SETTINGS_DOCS ? 'API stage throttling: burst' : '',
  }),

  // Multi-region.
  allowUnlistedRegion: setting({
    key: 'allowUnlistedRegion',
    type: onOff,
    flag: true,
    default: 'off',
    defaultDoc: SETTINGS_DOCS ? '`false`' : '',
    doc: SETTINGS_DOCS
      ? 'deploy in a region off the supported list (docs/deployment.md "Supported regions"), once you have checked that every service the stack uses is offered there'
      : '',
  }),
  replicaRegions: setting({
    key: 'replicaRegions',
    type: listOf(regionName).check(
      z.refine((r) => new Set(r).size === r.length, 'must not repeat a region'),
    ),
    list: ',',
    default: '',
    defaultDoc: SETTINGS_DOCS ? 'none' : '',
    doc: SETTINGS_DOCS
      ? "other regions (never the stack's own; the stack's region must be known at synth: `AWS_REGION` or `CDK_DEFAULT_REGION`) that hold a replica of the table (a DynamoDB global table) and can use the KMS key (a multi-Region key); the functions get `DCR_REGION`"
      : '',
  }),
  primaryRegion: setting({
    key: 'primaryRegion',
    type: regionName,
    defaultDoc: SETTINGS_DOCS ? 'none' : '',
    doc: SETTINGS_DOCS
      ? "a replica region's stack: the primary stack's region (with `dcr:primaryTableName` and `dcr:primaryKeyArn`; all three or none)"
      : '',
  }),
  primaryTableName: setting({
    key: 'primaryTableName',
    type: matching(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name'),
    defaultDoc: SETTINGS_DOCS ? 'none' : '',
    doc: SETTINGS_DOCS
      ? "a replica region's stack: the primary stack's `TableName` output (the replica has the same name)"
      : '',
  }),
  primaryKeyArn: setting({
    key: 'primaryKeyArn',
    type: matching(
      /^arn:aws[\w-]*:kms:[a-z0-9-]+:\d{12}:key\/mrk-[0-9a-f]{32}$/,
      'must be the ARN of a multi-Region KMS key (key/mrk-…)',
    ),
    defaultDoc: SETTINGS_DOCS ? 'none' : '',
    doc: SETTINGS_DOCS
      ? "a replica region's stack: the primary's `SigningKeyArn` or `WrappingKeyArn` output (a multi-Region key), of which this stack makes a replica key"
      : '',
  }),
} as const satisfies Record<string, Setting>;

export type Settings = typeof SETTINGS;
export type SettingName = keyof Settings;
type ValueOf<N extends SettingName> = z.output<Settings[N]['type']>;

/** What the server reads: a value for each setting with a default, an optional one otherwise. */
export type ServerSettings = {
  -readonly [N in SettingName as Settings[N] extends { env: string; default: string }
    ? N
    : never]: ValueOf<N>;
} & {
  -readonly [N in SettingName as Settings[N] extends { env: string }
    ? Settings[N] extends { default: string }
      ? never
      : N
    : never]?: ValueOf<N>;
};

/** Whether the stack has a value for a setting when its key is unset. */
type DeployedByDefault<S> = S extends { deployDefault: string }
  ? true
  : S extends { deployDefault: false }
    ? false
    : S extends { default: string }
      ? true
      : false;

/** The deployment's settings, by their `dcr:` key. */
export type DeploymentSettings = {
  -readonly [N in SettingName as Settings[N] extends { key: infer K extends string }
    ? DeployedByDefault<Settings[N]> extends true
      ? K
      : never
    : never]: ValueOf<N>;
} & {
  -readonly [N in SettingName as Settings[N] extends { key: infer K extends string }
    ? DeployedByDefault<Settings[N]> extends true
      ? never
      : K
    : never]?: ValueOf<N>;
};

/** What a trusted issuer's rules may name: the resources and scopes the server serves. */
export interface ServedTargets {
  readonly resources?: ReadonlySet<string>;
  readonly allowedScopes?: ReadonlySet<string>;
}

/**
 * One trusted issuer given at runtime (the admin API's PUT, a stored item read back): the same
 * schema and checks as one value of DCR_TRUSTED_ISSUERS, its `iss` too, and the same
 * cross-check against what the server serves. The issuer, or what is wrong, as `path: message`.
 */
export function parseTrustedIssuer(
  iss: string,
  value: unknown,
  served: ServedTargets,
): { readonly issuer: TrustedIssuerSettings } | { readonly problem: string } {
  const result = z.safeParse(trustedIssuerRecord, { [iss]: value }, { error: ruleOf });
  if (!result.success) {
    const issue = result.error.issues[0] as z.core.$ZodIssue;
    const [, ...path] = issue.path.map(String);
    return { problem: `${path.length > 0 ? path.join('.') : 'issuer'}: ${issue.message}` };
  }
  const unserved = unservedRuleTargets({
    ...(served.resources && { resources: new Set(served.resources) }),
    ...(served.allowedScopes && { allowedScopes: new Set(served.allowedScopes) }),
    trustedIssuers: result.data,
  });
  if (unserved.length > 0) {
    return {
      problem: `rules name what this server does not serve: ${unserved.join(', ')} (DCR_RESOURCES, DCR_ALLOWED_SCOPES)`,
    };
  }
  return { issuer: result.data.get(iss) as TrustedIssuerSettings };
}

// ---------------------------------------------------------------------------------------------
// Rules across settings, each declared once and checked wherever all of its settings can be set.

type Parsed = { readonly [N in SettingName]?: ValueOf<N> };
/** How a parser names a setting in its messages: `DCR_…` for the server, `dcr:…` at synth. */
export type Namer = (name: SettingName) => string;

export interface Rule {
  /** The setting a broken rule is reported on. */
  readonly setting: SettingName;
  /** Where it is checked: by the server, at synth, or both. */
  readonly checkedBy: 'server' | 'deployment' | 'both';
  readonly holds: (s: Parsed) => boolean;
  readonly message: string | ((n: Namer, s: Parsed) => string);
}

const emptyOrUnset = (v: ReadonlySet<unknown> | undefined) => v === undefined || v.size === 0;
/** Whether verified client certificates reach the server: said so (AWS), or a CA to verify them. */
export const mutualTls = (s: Parsed): boolean => s.tlsClientAuth ?? s.tlsClientCa !== undefined;
const together = (...values: unknown[]) =>
  values.every((v) => v === undefined) || values.every((v) => v !== undefined);

/** What trusted issuers' rules name that the server does not serve: resources, then scopes. */
function unservedRuleTargets(s: Parsed): string[] {
  const rules = [...(s.trustedIssuers?.values() ?? [])].flatMap((issuer) => issuer.rules);
  const resources = rules.flatMap((r) => r.resources).filter((r) => !s.resources?.has(r));
  const scopes = rules
    .flatMap((r) => r.scope?.split(' ') ?? [])
    .filter((scope) => s.allowedScopes !== undefined && !s.allowedScopes.has(scope));
  return [...new Set([...resources, ...scopes])];
}

export const RULES: readonly Rule[] = [
  // Tokens for a real resource must carry only scopes the operator chose: "any scope" there
  // would let an anonymous client register `admin` and get it in a token the resource trusts.
  {
    setting: 'allowedScopes',
    checkedBy: 'both',
    holds: (s) =>
      !emptyOrUnset(s.allowedScopes) ||
      (emptyOrUnset(s.resources) && s.defaultAudience === undefined),
    message: (n) =>
      `required when ${n('resources')} or ${n('defaultAudience')} is set: the scopes those resources accept, space-separated, e.g. ${n('allowedScopes')}="mcp:tools read"`,
  },
  // A trusted issuer's rules grant tokens for resources this server serves, with scopes it offers.
  {
    setting: 'trustedIssuers',
    checkedBy: 'both',
    holds: (s) => unservedRuleTargets(s).length === 0,
    message: (n, s) =>
      `its rules name what this server does not serve: ${unservedRuleTargets(s).join(', ')} (${n('resources')}, ${n('allowedScopes')})`,
  },
  // Anyone can publish a document: its clients are anonymous, so only where `open` is accepted.
  {
    setting: 'clientIdMetadataDocuments',
    checkedBy: 'both',
    holds: (s) =>
      s.clientIdMetadataDocuments !== true ||
      s.registrationAccess === undefined ||
      s.registrationAccess.includes('open'),
    message: (n) =>
      `document clients are anonymous clients; accept open in ${n('registrationAccess')} or leave them off`,
  },
  {
    setting: 'upstreamClientId',
    checkedBy: 'both',
    holds: (s) => together(s.upstreamIssuer, s.upstreamClientId),
    message: (n) => `${n('upstreamIssuer')} and ${n('upstreamClientId')} go together`,
  },
  {
    setting: 'refreshTokenIdleLifetimeSeconds',
    checkedBy: 'both',
    holds: (s) =>
      (s.refreshTokenIdleLifetimeSeconds ?? 0) <= (s.refreshTokenLifetimeSeconds ?? Infinity),
    message: (n) => `must not exceed ${n('refreshTokenLifetimeSeconds')}`,
  },
  // The nonce key is derived from a signature every container must compute alike: RS256 is
  // deterministic (RSASSA-PKCS1-v1_5), ECDSA is not.
  {
    setting: 'dpopNonce',
    checkedBy: 'both',
    holds: (s) => s.dpopNonce !== true || (s.signingAlg ?? 'RS256') === 'RS256',
    message: (n) =>
      `needs ${n('signingAlg')}=RS256: nonces are keyed by a deterministic signature, and ECDSA's are random`,
  },
  {
    setting: 'tlsKey',
    checkedBy: 'server',
    holds: (s) => together(s.tlsCert, s.tlsKey),
    message: (n) => `${n('tlsCert')} and ${n('tlsKey')} go together`,
  },
  {
    setting: 'tlsClientCa',
    checkedBy: 'server',
    holds: (s) => s.tlsClientCa === undefined || s.tlsCert !== undefined,
    message: (n) => `needs ${n('tlsCert')} and ${n('tlsKey')} (mutual TLS is TLS)`,
  },
  {
    setting: 'mtlsOrigin',
    checkedBy: 'server',
    holds: (s) => s.mtlsOrigin === undefined || mutualTls(s),
    message: (n) => `needs mutual TLS (${n('tlsClientAuth')}=on, or ${n('tlsClientCa')} locally)`,
  },
  {
    setting: 'mtlsOrigin',
    checkedBy: 'server',
    holds: (s) =>
      s.mtlsOrigin === undefined ||
      s.issuer === undefined ||
      new URL(s.issuer).origin !== s.mtlsOrigin,
    message: "must be another host than the issuer's (the aliases are for mutual TLS only)",
  },
  {
    setting: 'upstreamClientSecret',
    checkedBy: 'server',
    holds: (s) => s.upstreamClientSecret === undefined || s.upstreamClientSecretArn === undefined,
    message: 'give the secret or its ARN, not both',
  },
  {
    setting: 'kmsPreviousKeyIds',
    checkedBy: 'deployment',
    holds: (s) => s.signingMode !== 'wrapped' || (s.kmsPreviousKeyIds ?? []).length === 0,
    message: 'KMS signing keys are published in the kms signing mode only',
  },
  // The stack's own user pool makes an app client without a resource server: Cognito refuses
  // any other scope (offline_access included) and the app client fails to create.
  {
    setting: 'upstreamScopes',
    checkedBy: 'deployment',
    holds: (s) =>
      s.upstreamIssuer !== undefined ||
      s.cognitoLogin === false ||
      (s.upstreamScopes ?? []).every((scope) => COGNITO_SCOPES.includes(scope)),
    message: (_, s) => {
      const refused = (s.upstreamScopes ?? []).filter((scope) => !COGNITO_SCOPES.includes(scope));
      return `the stack’s Cognito user pool accepts only ${COGNITO_SCOPES.join(', ')}${refused.length > 0 ? `, not ${refused.join(', ')}` : ''}`;
    },
  },
  {
    setting: 'certificateArn',
    checkedBy: 'deployment',
    holds: (s) => together(s.domainName, s.certificateArn),
    message: 'domainName and certificateArn go together',
  },
  // RFC 8705 §5: mutual TLS on a domain of its own, so that the issuer's stays open to
  // browsers, MCP clients, resource servers and the operator (docs/deployment.md "Mutual TLS").
  {
    setting: 'mtlsTruststoreUri',
    checkedBy: 'deployment',
    holds: (s) => s.mtlsTruststoreUri === undefined || s.mtlsDomainName !== undefined,
    message:
      'needs mtlsDomainName: mutual TLS is served on a second custom domain (the issuer’s domainName asks for no certificate)',
  },
  {
    setting: 'mtlsDomainName',
    checkedBy: 'deployment',
    holds: (s) => s.mtlsDomainName === undefined || s.mtlsTruststoreUri !== undefined,
    message: 'needs mtlsTruststoreUri (the CAs that issue the client certificates)',
  },
  {
    setting: 'mtlsDomainName',
    checkedBy: 'deployment',
    holds: (s) => s.mtlsDomainName === undefined || s.domainName !== undefined,
    message: 'needs domainName and certificateArn (the issuer’s own custom domain)',
  },
  {
    setting: 'mtlsDomainName',
    checkedBy: 'deployment',
    holds: (s) => s.mtlsDomainName === undefined || s.mtlsDomainName !== s.domainName,
    message: 'must differ from domainName (which must stay reachable without a certificate)',
  },
  {
    setting: 'mtlsCertificateArn',
    checkedBy: 'deployment',
    holds: (s) => s.mtlsCertificateArn === undefined || s.mtlsDomainName !== undefined,
    message: 'needs mtlsDomainName',
  },
  {
    setting: 'mtlsTruststoreVersion',
    checkedBy: 'deployment',
    holds: (s) => s.mtlsTruststoreVersion === undefined || s.mtlsTruststoreUri !== undefined,
    message: 'needs mtlsTruststoreUri',
  },
  {
    setting: 'upstreamClientSecretArn',
    checkedBy: 'deployment',
    holds: (s) => s.upstreamClientSecretArn === undefined || s.upstreamIssuer !== undefined,
    message: 'needs upstreamIssuer (the Cognito app client has no secret)',
  },
  {
    setting: 'primaryRegion',
    checkedBy: 'deployment',
    holds: (s) => together(s.primaryRegion, s.primaryTableName, s.primaryKeyArn),
    message: 'primaryRegion, primaryTableName and primaryKeyArn go together',
  },
  {
    setting: 'replicaRegions',
    checkedBy: 'deployment',
    holds: (s) => s.primaryRegion === undefined || (s.replicaRegions ?? []).length === 0,
    message: 'belongs to the primary stack, not to a replica region’s (primaryRegion)',
  },
  {
    setting: 'kmsPreviousKeyIds',
    checkedBy: 'deployment',
    holds: (s) => s.primaryRegion === undefined || (s.kmsPreviousKeyIds ?? []).length === 0,
    message: 'not in a replica region’s stack (primaryRegion)',
  },
  // Users must be the same in every region: one upstream, not a user pool per region.
  {
    setting: 'primaryRegion',
    checkedBy: 'deployment',
    holds: (s) =>
      s.primaryRegion === undefined || s.upstreamIssuer !== undefined || !s.cognitoLogin,
    message:
      'needs upstreamIssuer (or cognitoLogin=false): a user pool per region would hold different users',
  },
];

// ---------------------------------------------------------------------------------------------
// The parse both configurations share.

export interface ParseResult {
  /** The values that parsed, by setting name. */
  readonly values: Parsed;
  /** Every problem, each as `<name>: <message>`. */
  readonly problems: readonly string[];
}

/**
 * What zod says of a check that has no message of its own, said as the setting's rule
 * (`must be one of on, off`), not in zod's words (`Invalid option: expected one of "on"|"off"`).
 */
const ruleOf: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    case 'too_small':
      if (issue.origin === 'string') {
        return issue.minimum === 1
          ? 'must not be empty'
          : `must be at least ${issue.minimum} characters`;
      }
      return issue.origin === 'array'
        ? `must name at least ${issue.minimum}`
        : `must be at least ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters`;
      return issue.origin === 'array'
        ? `must name at most ${issue.maximum}`
        : `must be at most ${issue.maximum}`;
    case 'invalid_format':
      if (issue.format === 'starts_with')
        return `must start with ${(issue as { prefix?: string }).prefix}`;
      if (issue.format === 'url') return 'must be a URL';
      return undefined;
    case 'invalid_type':
      return issue.expected === 'int' ? 'must be a whole number' : `must be a ${issue.expected}`;
    case 'unrecognized_keys':
      return `has no ${issue.keys.length === 1 ? 'member' : 'members'} ${issue.keys.join(', ')}`;
    default:
      return undefined;
  }
};

const MAX_QUOTED = 60;

/**
 * One problem of a setting's value: its name, the rule it breaks and the offending value (the
 * item of a list, the member of a JSON value), never a secret's. A JSON setting keeps the path
 * to the member (`DCR_REGISTRATION_TIERS.open.scopes`); a list item is shown, not numbered.
 */
function problemOf(name: SettingName, text: string, issue: z.core.$ZodIssue, namer: Namer) {
  const setting = SETTINGS[name] as Setting;
  const path = setting.json ? issue.path.map(String) : [];
  const where = [namer(name), ...path].join('.');
  if (setting.secret) return `${where}: ${issue.message}`;
  const input = issue.input;
  const offending =
    typeof input === 'string' || (typeof input === 'number' && Number.isFinite(input))
      ? String(input)
      : issue.path.length === 0
        ? text
        : undefined;
  if (offending === undefined || issue.message.includes(offending))
    return `${where}: ${issue.message}`;
  const quoted = offending.length > MAX_QUOTED ? `${offending.slice(0, MAX_QUOTED)}…` : offending;
  return `${where}: ${issue.message} (got ${JSON.stringify(quoted)})`;
}

/**
 * Parses each named setting's text (absent: its default), then checks the rules this parser
 * checks: every bad setting is reported with its rule, not only the first.
 */
export function parseSettings(
  texts: Partial<Record<SettingName, string>>,
  options: {
    readonly names: readonly SettingName[];
    readonly namer: Namer;
    readonly defaultOf: (name: SettingName) => string | undefined;
    readonly checkedBy: 'server' | 'deployment';
    readonly typeOf?: (name: SettingName) => readonly z.core.$ZodType[];
  },
): ParseResult {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const name of options.names) {
    const value = texts[name] ?? options.defaultOf(name);
    if (value === undefined) continue;
    // The setting's type, then any stricter check of the same text (the first failure counts).
    const results = (options.typeOf?.(name) ?? [SETTINGS[name].type]).map((type) =>
      z.safeParse(type, value, { reportInput: true, error: ruleOf }),
    );
    const failure = results.find((result) => !result.success)?.error;
    if (failure) {
      for (const issue of failure.issues)
        problems.push(problemOf(name, value, issue, options.namer));
      continue;
    }
    values[name] = results[0]?.data;
  }
  // A rule over a value that did not parse would only repeat that problem.
  if (problems.length === 0) {
    for (const rule of RULES) {
      if (rule.checkedBy !== 'both' && rule.checkedBy !== options.checkedBy) continue;
      if (rule.holds(values as Parsed)) continue;
      const message =
        typeof rule.message === 'string'
          ? rule.message
          : rule.message(options.namer, values as Parsed);
      problems.push(`${options.namer(rule.setting)}: ${message}`);
    }
  }
  return { values: values as Parsed, problems };
}

/** The settings the server reads, by name. */
export const SERVER_SETTINGS = (Object.keys(SETTINGS) as SettingName[]).filter(
  (name) => (SETTINGS[name] as Setting).env !== undefined,
);

/** The settings a deployment takes, by name. */
export const DEPLOYMENT_SETTINGS = (Object.keys(SETTINGS) as SettingName[]).filter(
  (name) => (SETTINGS[name] as Setting).key !== undefined,
);

/** Whether `fn` (using a KMS key or not) receives the setting. */
function receives(name: SettingName, fn: DeployedFunction, usesKey: boolean): boolean {
  const receivers = (SETTINGS[name] as Setting).receivedBy;
  if (receivers === undefined) return false;
  if (receivers === 'every function') return true;
  if (receivers === 'functions with a key') return usesKey;
  return receivers.includes(fn);
}

/**
 * A deployed function's environment: of the settings' values (text, by name), exactly those
 * the table says it receives, each under its variable.
 */
export function environmentFor(
  fn: DeployedFunction,
  usesKey: boolean,
  values: Partial<Record<SettingName, string>>,
): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const name of SERVER_SETTINGS) {
    const value = values[name];
    if (value !== undefined && receives(name, fn, usesKey)) {
      environment[(SETTINGS[name] as Setting).env as string] = value;
    }
  }
  return environment;
}

/** Variables of this project's tools read outside the table (dcr-admin's server URL). */
export const OTHER_VARIABLES = ['DCR_ADMIN_URL'];

/** The edit distance of two names (insertions, deletions, substitutions). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(
        substitution,
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/**
 * A warning for each `DCR_*` variable that is set but names no setting (a typo would otherwise
 * leave its setting at the default, silently), with the closest setting when one is near:
 * a missing final S → did you mean DCR_ALLOWED_SCOPES?
 */
export function unknownVariables(env: Record<string, string | undefined>): string[] {
  const known = [
    ...SERVER_SETTINGS.map((name) => (SETTINGS[name] as Setting).env as string),
    ...OTHER_VARIABLES,
  ];
  return Object.keys(env)
    .filter((variable) => variable.startsWith('DCR_') && !known.includes(variable))
    .sort()
    .map((variable) => {
      const closest = known
        .map((name) => ({ name, distance: editDistance(variable, name) }))
        .sort((a, b) => a.distance - b.distance)[0];
      // Near: a few edits, or the name cut short (…_LIFETIME for …_LIFETIME_SECONDS).
      const suggestion =
        closest && closest.distance <= Math.max(2, Math.floor(variable.length / 6))
          ? closest.name
          : known.find((name) => name.startsWith(`${variable}_`));
      return suggestion
        ? `${variable} is not a setting (ignored); did you mean ${suggestion}?`
        : `${variable} is not a setting (ignored); docs/configuration.md lists them`;
    });
}
