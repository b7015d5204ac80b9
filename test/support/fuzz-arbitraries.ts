import * as fc from 'fast-check';
import { SOFTWARE_STATEMENT_TYPE } from '../../lambdas/core/registration/software-statements.js';
import type { BasicSpec, BodySpec, FuzzRequest, HeaderValue, JwtSpec, Value } from './fuzz.js';
import {
  CAPPED_SOFTWARE_ID,
  CIMD_CLIENT,
  ENTERPRISE_ISSUER,
  ISSUER,
  NATIVE_REDIRECT,
  PLATFORM_ISSUER,
  percentEncode,
  REDIRECT,
  RESOURCE,
  STATEMENT_ISSUER,
} from './fuzz.js';

/**
 * Generators of every endpoint's inputs (docs/testing.md "Fuzzing"): garbage of every shape, and near-valid
 * inputs that change one or two things, so that cases reach deep validation, not just the
 * first parse error. `⟦name⟧` is a credential of the seeded app (test/support/fuzz.ts).
 */

const ref = (name: string) => `⟦${name}⟧`;

// ---------------------------------------------------------------------------------------------
// Scalars

const LONE_SURROGATES = ['\uD800', '\uDFFF', 'a\uDBFFb', '\uDC00\uD800'];
const SPECIAL_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u202e',
  '\u2066x',
  '\r\n',
  '%',
  '%zz',
  '%E0%A4%A',
  '%ED%A0%80',
  '+',
  '..',
  '../',
  '/',
  'javascript:alert(1)',
  'data:text/html,x',
  'file:///etc/passwd',
  'https://evil.example/cb',
  'https://evil.example/cb#frag',
  'http://127.0.0.1:1/cb',
  'http://[::1]/cb',
  'http://localhost:0/cb',
  'https://user:pass@example.com/',
  'com.example.agent:/cb',
  'urn:ietf:params:oauth:grant-type:jwt-bearer',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '1e308',
  '-0',
  '18446744073709551616',
  'NaN',
  'Infinity',
  'null',
  'true',
  '[]',
  '{}',
  '<script>alert(1)</script>',
  '"><img src=x>',
  "'",
  '\\',
  'a'.repeat(257),
  'x'.repeat(5000),
  'é'.repeat(300),
  '😀'.repeat(100),
  ...LONE_SURROGATES,
];

const REF_NAMES = [
  'basic.id',
  'basic.secret',
  'basic.rat',
  'post.id',
  'post.secret',
  'post.rat',
  'jwt.id',
  'jwt.rat',
  'public.id',
  'public.rat',
  'admin',
  'iat',
  'iat.id',
  'refresh',
  'code',
  'verifier',
  'access',
  'user.access',
  'login.tx',
  'login.csrf',
  'consent.tx',
  'consent.csrf',
  'dashboard.csrf',
];

/** A string of any sort: binary units, full unicode, lone surrogates, specials, credentials. */
export const oddString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 4, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
  { weight: 2, arbitrary: fc.constantFrom(...REF_NAMES).map(ref) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(...REF_NAMES), fc.constantFrom(...SPECIAL_STRINGS))
      .map(([name, suffix]) => `${ref(name)}${suffix}`),
  },
);

/** Numbers JSON can carry, and some it cannot quite. */
export const oddNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(
    1e308,
    -1e308,
    -0,
    0,
    1,
    -1,
    0.5,
    5e-324,
    2 ** 31,
    2 ** 53 + 2,
    2 ** 64,
    Number.MAX_SAFE_INTEGER,
    1_800_000_000,
    1_800_000_300,
    3600,
    60,
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf'];

const METADATA_FIELDS = [
  'redirect_uris',
  'token_endpoint_auth_method',
  'grant_types',
  'response_types',
  'client_name',
  'client_uri',
  'logo_uri',
  'tos_uri',
  'policy_uri',
  'contacts',
  'scope',
  'jwks_uri',
  'jwks',
  'software_id',
  'software_version',
  'software_statement',
  'application_type',
  'token_endpoint_auth_signing_alg',
  'expires_at',
  'tls_client_auth_subject_dn',
  'tls_client_auth_san_dns',
  'tls_client_auth_san_uri',
  'tls_client_auth_san_ip',
  'tls_client_auth_san_email',
  'tls_client_certificate_bound_access_tokens',
  'dpop_bound_access_tokens',
  'client_id',
  'client_secret',
  'client_id_issued_at',
  'client_secret_expires_at',
  'registration_access_token',
  'registration_client_uri',
  'client_name#fr',
];

const key = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: fc.constantFrom(...PROTO_KEYS) },
  { weight: 3, arbitrary: fc.constantFrom(...METADATA_FIELDS) },
);

/** JSON of arbitrary shape: odd scalars, prototype keys, nesting. */
export const oddJson: fc.Arbitrary<Value> = fc.letrec<{ value: Value }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    oddString,
    oddNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc
      .uniqueArray(fc.tuple(key, tie('value')), { maxLength: 5, selector: ([k]) => k })
      .map((entries) => Object.fromEntries(entries)),
  ),
})).value;

/**
 * JSON text nested deep (up to what fits in the 64 KiB body), under a field or at the top:
 * parsers, validators and clones must not recurse their way into a stack overflow. Text, so a
 * counterexample prints.
 */
export const deepJsonText: fc.Arbitrary<string> = fc
  .tuple(
    fc.integer({ min: 100, max: 30_000 }),
    fc.boolean(),
    fc.option(fc.constantFrom(...METADATA_FIELDS, 'keys', 'cursor'), { nil: undefined }),
  )
  .map(([depth, arrays, field]) => {
    const [open, close] = arrays ? ['[', ']'] : ['{"a":', '}'];
    const deep = `${open.repeat(depth)}1${close.repeat(depth)}`;
    return field === undefined ? deep : `{"${field}":${deep}}`;
  });

/** JSON text that JSON.stringify would never write: huge literals, duplicate and proto keys. */
export const oddJsonText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '{"client_name": 1e999}',
    '{"expires_at": 1e999}',
    '{"expires_at": -1e999}',
    '{"expires_at": 123456789012345678901234567890}',
    '{"expires_at": -0}',
    '{"expires_at": 1.0}',
    '{"grant_types": ["client_credentials"], "grant_types": 7}',
    '{"__proto__": {"token_endpoint_auth_method": "none", "admin": true}}',
    '{"constructor": {"prototype": {"polluted": true}}}',
    '{"redirect_uris": ["\\ud800"]}',
    '{"client_name": "\\ud800\\udc00\\udfff"}',
    '{"client_name": "a\\u0000b"}',
    '{"scope": "read\\u202ewrite"}',
    '{"jwks": {"keys": [{"kty": "EC", "__proto__": {"d": "x"}}]}}',
    '{"max_uses": 1e999}',
    '{"expires_in": 123456789012345678901234567890}',
    '{"dry_run": "false"}',
    '{"software_id": {"__proto__": null}}',
    '[]',
    'null',
    '"string"',
    '123',
    '{',
    '{"a":',
    '',
    '\uFEFF{}',
    ' {} ',
  ),
  fc
    .tuple(
      fc.constantFrom(...METADATA_FIELDS),
      fc.constantFrom(
        '1e999',
        '-1e999',
        '1e-999',
        '9'.repeat(400),
        '-0',
        '0.0000001',
        'true',
        'null',
        '[[[[]]]]',
        '{"__proto__":1}',
      ),
    )
    .map(([field, literal]) => `{"${field}": ${literal}}`),
);

// ---------------------------------------------------------------------------------------------
// JWTs

const jwtHeader: fc.Arbitrary<Value> = fc.oneof(
  fc.record(
    {
      alg: fc.oneof(
        fc.constantFrom('ES256', 'RS256', 'none', 'HS256', 'EdDSA', 'ES256K', ''),
        oddString,
      ),
      typ: fc.constantFrom('JWT', 'at+jwt', 'software-statement+jwt', ''),
      kid: fc.oneof(fc.constant('fuzz'), oddString),
      crit: fc.array(oddString, { maxLength: 2 }),
      b64: fc.boolean(),
      jku: fc.constantFrom('https://evil.example/jwks', 'http://127.0.0.1/jwks'),
      jwk: oddJson,
      x5u: oddString,
    },
    { requiredKeys: [] },
  ),
  oddJson,
  fc.constant({ alg: 'ES256', kid: 'fuzz' }),
);

/** A numeric date claim: near now, past, far future, or not a number at all. */
const dateClaim: fc.Arbitrary<Value> = fc.oneof(
  fc.constantFrom(
    1_800_000_000,
    1_800_000_060,
    1_800_000_300,
    1_799_999_000,
    1_900_000_000,
    0,
    -1,
    1e308,
    -0,
  ),
  oddNumber,
  fc.constant('1800000060'),
  oddJson,
);

const aud: fc.Arbitrary<Value> = fc.oneof(
  fc.constantFrom(ISSUER, `${ISSUER}/token`, [ISSUER], [ISSUER, ISSUER], [], `${ISSUER}/`),
  oddJson,
);

/** A client assertion for the private_key_jwt client: near-valid, or anything. */
const assertionClaims: fc.Arbitrary<Value> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record(
      {
        iss: fc.oneof(fc.constant(ref('jwt.id')), oddJson),
        sub: fc.oneof(fc.constant(ref('jwt.id')), fc.constant(ref('basic.id')), oddJson),
        aud,
        exp: dateClaim,
        iat: dateClaim,
        nbf: dateClaim,
        jti: fc.oneof(fc.uuid(), oddJson),
        extra: oddJson,
      },
      { requiredKeys: [] },
    ),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.uuid(), fc.constantFrom('iss', 'sub', 'aud', 'exp', 'jti', 'nbf', 'iat'), oddJson)
      .map(([jti, field, value]) => ({
        iss: ref('jwt.id'),
        sub: ref('jwt.id'),
        aud: ISSUER,
        exp: 1_800_000_120,
        iat: 1_800_000_000,
        jti,
        [field]: value,
      })),
  },
  { weight: 1, arbitrary: oddJson },
);

const signature = fc.constantFrom<JwtSpec['signature']>(
  'harness',
  'harness',
  'stranger',
  'none',
  'garbage',
);

export const clientAssertion: fc.Arbitrary<Value> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record({ header: jwtHeader, claims: assertionClaims, signature })
      .map(($jwt) => ({ $jwt })),
  },
  { weight: 1, arbitrary: oddString },
  {
    weight: 1,
    arbitrary: fc.array(oddString, { minLength: 2, maxLength: 4 }).map((parts) => parts.join('.')),
  },
);

/** A software statement: the trusted issuer's key over near-valid claims, or anything. */
export const softwareStatement: fc.Arbitrary<Value> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record({
        header: fc.oneof(
          fc.constant({ alg: 'ES256', kid: 'fuzz', typ: SOFTWARE_STATEMENT_TYPE }),
          jwtHeader,
        ),
        claims: fc.oneof(
          fc
            .tuple(
              fc.constantFrom(
                'iss',
                'software_id',
                'exp',
                'iat',
                'grant_types',
                'redirect_uris',
                'scope',
                'token_endpoint_auth_method',
                'jwks',
              ),
              oddJson,
              fc.boolean(),
            )
            .map(([field, value, drop]) => {
              const claims: Record<string, unknown> = {
                iss: STATEMENT_ISSUER,
                software_id: 'fuzz-software',
                iat: 1_800_000_000,
                exp: 1_800_000_300,
                grant_types: ['client_credentials'],
                scope: 'read',
              };
              if (drop) delete claims[field];
              else claims[field] = value;
              return claims;
            }),
          fc.constant({
            iss: STATEMENT_ISSUER,
            software_id: CAPPED_SOFTWARE_ID,
            exp: 1_800_000_300,
          }),
          oddJson,
        ),
        signature,
      })
      .map(($jwt) => ({ $jwt })),
  },
  { weight: 1, arbitrary: oddJson },
);

// ---------------------------------------------------------------------------------------------
// Headers, credentials, cookies

/** The request headers the server reads (and some it must ignore). */
export const HEADER_NAMES = [
  'content-type',
  'authorization',
  'cookie',
  'accept',
  'origin',
  'content-length',
  'x-forwarded-for',
  'expect',
];

const basicVariant = fc.constantFrom<BasicSpec['variant']>(
  'form-encoded',
  'form-encoded',
  'raw',
  'no-colon',
  'base64url',
  'unpadded',
  'over-padded',
  'latin1',
  'invalid-utf8',
  'lowercase-scheme',
  'spaces',
);

const CLIENTS = ['basic', 'post', 'jwt', 'public'];

/** Basic credentials: a client's own pair, crossed pairs, or anything, encoded oddly. */
export const basicCredentials: fc.Arbitrary<HeaderValue> = fc
  .record(
    {
      id: fc.oneof(
        fc.constantFrom(...CLIENTS).map((c) => ref(`${c}.id`)),
        oddString,
      ),
      secret: fc.oneof(
        fc.constantFrom('basic.secret', 'post.secret', 'basic.rat', 'admin').map(ref),
        oddString,
      ),
      variant: basicVariant,
      trailing: fc.constantFrom('', ' ', '\t', '=', ' x', ', Bearer x'),
    },
    { requiredKeys: ['id', 'secret', 'variant'] },
  )
  .map((basic) => ({ basic }));

/** The valid Basic credentials of the client_secret_basic client, encoded some way. */
export const validBasic: fc.Arbitrary<HeaderValue> = fc
  .constantFrom<BasicSpec['variant']>(
    'form-encoded',
    'raw',
    'unpadded',
    'lowercase-scheme',
    'spaces',
    'over-padded',
  )
  .map((variant) => ({ basic: { id: ref('basic.id'), secret: ref('basic.secret'), variant } }));

const bearer = (names: string[]) =>
  fc.oneof(
    fc.constantFrom(...names).map((name) => `Bearer ${ref(name)}`),
    fc.constantFrom(...names).map((name) => `bearer  ${ref(name)} `),
    oddString.map((s) => `Bearer ${s}`),
  );

export const authorization = (names: string[] = ['admin', 'basic.rat', 'iat', 'access']) =>
  fc.oneof(
    { weight: 4, arbitrary: bearer(names) },
    { weight: 2, arbitrary: basicCredentials },
    {
      weight: 2,
      arbitrary: fc.oneof(
        fc.constantFrom(
          'Basic',
          'Bearer',
          'Basic ',
          'Bearer ',
          'DPoP x',
          'Negotiate abc',
          'Basic ====',
          'Basic Og==',
          'Bearer a b',
          'Bearer =',
          '',
        ),
        oddString,
        fc.string({ minLength: 9000, maxLength: 9000 }).map((s) => `Bearer ${s}`),
      ),
    },
  );

export const contentType = (right: string) =>
  fc.oneof(
    { weight: 14, arbitrary: fc.constant(right) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        `${right}; charset=utf-8`,
        `${right.toUpperCase()}`,
        ` ${right} ;`,
        `${right}; charset=latin1`,
        'application/json',
        'application/x-www-form-urlencoded',
        'text/plain',
        'multipart/form-data; boundary=x',
        'application/jwt',
        '',
        ';',
        '*/*',
      ),
    },
    { weight: 1, arbitrary: oddString },
  );

const accept = fc.constantFrom(
  'text/html',
  'application/json',
  'application/json;q=0.9, text/html;q=0.8',
  'text/html;q=abc, application/json;q=NaN',
  '*/*',
  'application/*;q=1, text/*;q=0.5',
  ';;;,,',
  '',
);

const cookie = fc.oneof(
  fc.constant(ref('session')),
  fc.constant(ref('tx.cookies')),
  fc.constant(`${ref('session')}; ${ref('tx.cookies')}`),
  oddString,
  fc
    .array(fc.tuple(oddString, oddString), { maxLength: 6 })
    .map((pairs) => pairs.map(([n, v]) => `${n}=${v}`).join('; ')),
  fc.constantFrom(
    '=',
    ';;;',
    '__Host-dcr_session=',
    '__Host-dcr_session=a.b.c',
    '__Host-dcr_tx_abc=x; __Host-dcr_tx_abc=y',
  ),
);

/** Headers besides the ones an endpoint needs: odd names and values, cookies, fetch metadata. */
export const extraHeaders = fc.array(
  fc.oneof(
    fc.tuple(fc.constant('accept'), accept),
    fc.tuple(fc.constant('cookie'), cookie),
    fc.tuple(fc.constant('origin'), fc.constantFrom(ISSUER, 'https://evil.example', 'null', '')),
    fc.tuple(
      fc.constant('sec-fetch-site'),
      fc.constantFrom('same-origin', 'cross-site', 'none', ''),
    ),
    fc.tuple(
      fc.constantFrom(
        'x-forwarded-for',
        'host',
        'content-length',
        'dpop',
        'x-amzn-mtls-clientcert',
        'transfer-encoding',
      ),
      oddString,
    ),
    fc.tuple(oddString, oddString),
  ),
  { maxLength: 4 },
);

// ---------------------------------------------------------------------------------------------
// Form bodies and query strings

type Pairs = (readonly [string, Value])[];

/** One change to a near-valid parameter list: replace, drop, repeat, add. */
const mutatePairs = (base: Pairs) =>
  fc
    .array(
      fc.oneof(
        {
          weight: 3,
          arbitrary: fc.tuple(fc.constant('set' as const), fc.nat(base.length), oddString),
        },
        {
          weight: 1,
          arbitrary: fc.tuple(fc.constant('drop' as const), fc.nat(base.length), fc.constant('')),
        },
        {
          weight: 2,
          arbitrary: fc.tuple(fc.constant('repeat' as const), fc.nat(base.length), oddString),
        },
        { weight: 2, arbitrary: fc.tuple(fc.constant('add' as const), fc.nat(), oddString) },
      ),
      { maxLength: 2 },
    )
    .chain((changes) =>
      // Half the cases keep the near-valid list whole, so that they get past the first checks.
      fc.oneof(fc.constant([] as typeof changes), fc.constant(changes)),
    )
    .map((changes) => {
      let pairs = [...base];
      for (const [kind, at, value] of changes) {
        const index = pairs.length === 0 ? 0 : at % pairs.length;
        const name = pairs[index]?.[0] ?? 'x';
        if (kind === 'set') pairs[index] = [name, value];
        if (kind === 'drop') pairs = pairs.filter((_, i) => i !== index);
        if (kind === 'repeat') pairs.push([name, value]);
        if (kind === 'add') pairs.push([value, value]);
      }
      return pairs;
    });

/** Raw text with the oddities of urlencoding: lone %, bad escapes, empty names, `+`. */
const rawEncoded = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '%',
        '%zz',
        '%E0%A4%A',
        '%ED%A0%80',
        '%C0%AF',
        '%00',
        '+',
        '=',
        '&',
        '&&',
        '==',
        'a=b=c',
        '=x',
        ';',
        '#',
        '?',
      ),
      fc.string({ maxLength: 6 }),
      fc.constantFrom(...REF_NAMES).map(ref),
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(''));

export const formBody = (base: Pairs): fc.Arbitrary<BodySpec> =>
  fc.oneof(
    { weight: 8, arbitrary: mutatePairs(base).map((form) => ({ form })) },
    {
      weight: 1,
      arbitrary: fc
        .array(fc.tuple(oddString, oddString), { maxLength: 6 })
        .map((form) => ({ form })),
    },
    { weight: 1, arbitrary: rawEncoded.map((text) => ({ text })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ bytes })) },
  );

/** Percent-encoding that leaves the `⟦name⟧` references readable (and substituted later). */
const encodeKeepingRefs = (value: string) =>
  percentEncode(value).replace(/%E2%9F%A6([a-z.]+)%E2%9F%A7/g, '⟦$1⟧');

/** A query string built from near-valid pairs, or raw. */
export const queryString = (base: Pairs) =>
  fc.oneof(
    {
      weight: 5,
      arbitrary: mutatePairs(base).map((pairs) =>
        pairs
          .map(
            ([n, v]) =>
              `${encodeKeepingRefs(n)}=${encodeKeepingRefs(typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))}`,
          )
          .join('&'),
      ),
    },
    { weight: 1, arbitrary: rawEncoded },
  );

// ---------------------------------------------------------------------------------------------
// Per endpoint

const jsonHeaders = (auth?: fc.Arbitrary<HeaderValue | undefined>) =>
  fc
    .tuple(contentType('application/json'), auth ?? fc.constant(undefined), extraHeaders)
    .map(([type, credential, extra]) => [
      ['content-type', type] as const,
      ...(credential === undefined ? [] : [['authorization', credential] as const]),
      ...extra,
    ]);

const jsonBody = (nearValid: fc.Arbitrary<Value>): fc.Arbitrary<BodySpec> =>
  fc.oneof(
    { weight: 8, arbitrary: nearValid.map((json) => ({ json })) },
    { weight: 2, arbitrary: oddJson.map((json) => ({ json })) },
    { weight: 1, arbitrary: deepJsonText.map((text) => ({ text })) },
    { weight: 2, arbitrary: oddJsonText.map((text) => ({ text })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ bytes })) },
  );

/** Metadata that registers (one template of each sort of client)... */
const REGISTRATIONS: Record<string, unknown>[] = [
  {
    client_name: 'Fuzz',
    grant_types: ['client_credentials'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'read',
  },
  {
    redirect_uris: [REDIRECT],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  },
  {
    redirect_uris: [NATIVE_REDIRECT],
    token_endpoint_auth_method: 'none',
    application_type: 'native',
  },
  {
    grant_types: ['client_credentials'],
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: {
      keys: [
        {
          kty: 'EC',
          crv: 'P-256',
          x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
          y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
        },
      ],
    },
  },
  {
    grant_types: ['client_credentials'],
    token_endpoint_auth_method: 'private_key_jwt',
    jwks_uri: 'https://keys.example.test/jwks.json',
  },
  {
    grant_types: ['client_credentials'],
    software_id: CAPPED_SOFTWARE_ID,
    token_endpoint_auth_method: 'client_secret_post',
  },
  {
    grant_types: ['client_credentials'],
    token_endpoint_auth_method: 'tls_client_auth',
    tls_client_auth_san_dns: 'agent.example.test',
  },
];

/** ...changed in one or two fields (set to anything, dropped, or given a statement). */
const nearValidMetadata: fc.Arbitrary<Value> = fc
  .tuple(
    fc.constantFrom(...REGISTRATIONS),
    fc.array(
      fc.tuple(
        fc.constantFrom(...METADATA_FIELDS, ...PROTO_KEYS),
        fc.oneof(
          { weight: 4, arbitrary: oddJson },
          { weight: 1, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: fc.array(oddString, { maxLength: 3 }) },
        ),
      ),
      { maxLength: 2 },
    ),
    fc.option(softwareStatement, { freq: 4 }),
  )
  .map(([template, changes, statement]) => {
    const entries: [string, unknown][] = Object.entries(template);
    for (const [field, value] of changes) {
      const at = entries.findIndex(([k]) => k === field);
      if (at >= 0) entries.splice(at, 1);
      if (value !== undefined) entries.push([field, value]);
    }
    if (statement !== null) entries.push(['software_statement', statement]);
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries)
      Object.defineProperty(out, k, {
        value: v,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return out;
  });

/** `POST /register`: anonymous, with an initial access token, or with a bad credential. */
export const registerRequest: fc.Arbitrary<FuzzRequest> = fc
  .record({
    headers: jsonHeaders(
      fc.option(
        fc.oneof(fc.constant(`Bearer ${ref('iat')}`), authorization(['iat', 'basic.rat', 'admin'])),
        { freq: 2, nil: undefined },
      ),
    ),
    body: jsonBody(nearValidMetadata),
  })
  .map(({ headers, body }) => ({ method: 'POST', path: '/register', headers, body }));

const clientPath = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...CLIENTS).map((c) => `/register/${ref(`${c}.id`)}`) },
  {
    weight: 1,
    arbitrary: fc
      .oneof(oddString, fc.constantFrom('%', '%2F', '%00', '..', 'a'.repeat(3000), '%ED%A0%80'))
      .map((id) => `/register/${id.replaceAll('/', '%2F').replaceAll('?', '%3F')}`),
  },
);

/** RFC 7592: read, replace, delete — with the client's own token, another's, or garbage. */
export const clientConfigurationRequest: fc.Arbitrary<FuzzRequest> = fc
  .tuple(
    fc.constantFrom('GET', 'PUT', 'DELETE'),
    fc.constantFrom(...CLIENTS),
    clientPath,
    fc.oneof(
      { weight: 4, arbitrary: fc.constant(true) },
      { weight: 1, arbitrary: fc.constant(false) },
    ),
  )
  .chain(([method, client, otherPath, ownPath]) =>
    fc
      .record({
        auth: fc.oneof(
          { weight: 4, arbitrary: fc.constant(`Bearer ${ref(`${client}.rat`)}`) },
          { weight: 2, arbitrary: authorization(['basic.rat', 'public.rat', 'admin', 'iat']) },
        ),
        headers: jsonHeaders(),
        body: jsonBody(
          nearValidMetadata.map((metadata) => ({
            client_id: ref(`${client}.id`),
            ...(metadata as object),
          })),
        ),
      })
      .map(({ auth, headers, body }) => ({
        method,
        path: ownPath ? `/register/${ref(`${client}.id`)}` : otherPath,
        headers: [['authorization', auth] as const, ...headers],
        ...(method === 'PUT' && { body }),
      })),
  );

const FORM = 'application/x-www-form-urlencoded';

/** The client authentications a token request can carry: header, and body pairs. */
const clientAuth = fc.oneof(
  { weight: 3, arbitrary: validBasic.map((h) => ({ header: h, pairs: [] as Pairs })) },
  { weight: 2, arbitrary: basicCredentials.map((h) => ({ header: h, pairs: [] as Pairs })) },
  {
    weight: 2,
    arbitrary: fc.constant({
      header: undefined,
      pairs: [
        ['client_id', ref('post.id')],
        ['client_secret', ref('post.secret')],
      ] as Pairs,
    }),
  },
  {
    weight: 3,
    arbitrary: clientAssertion.map((assertion) => ({
      header: undefined,
      pairs: [
        ['client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'],
        ['client_assertion', assertion],
      ] as Pairs,
    })),
  },
  {
    weight: 2,
    arbitrary: fc.constant({
      header: undefined,
      pairs: [['client_id', ref('public.id')]] as Pairs,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.constant({
      header: undefined,
      pairs: [['client_id', CIMD_CLIENT]] as Pairs,
    }),
  },
  { weight: 1, arbitrary: authorization().map((h) => ({ header: h, pairs: [] as Pairs })) },
);

const grantParams: fc.Arbitrary<Pairs> = fc.constantFrom<Pairs>(
  [
    ['grant_type', 'client_credentials'],
    ['scope', 'read'],
  ],
  [
    ['grant_type', 'client_credentials'],
    ['resource', RESOURCE],
  ],
  [['grant_type', 'client_credentials']],
  [
    ['grant_type', 'authorization_code'],
    ['code', ref('code')],
    ['redirect_uri', REDIRECT],
    ['code_verifier', ref('verifier')],
  ],
  [
    ['grant_type', 'authorization_code'],
    ['code', ref('code')],
    ['redirect_uri', REDIRECT],
    ['code_verifier', ref('verifier')],
    ['resource', RESOURCE],
  ],
  [
    ['grant_type', 'refresh_token'],
    ['refresh_token', ref('refresh')],
  ],
  [
    ['grant_type', 'refresh_token'],
    ['refresh_token', ref('refresh')],
    ['scope', 'read'],
  ],
  [
    ['grant_type', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
    ['assertion', 'x'],
  ],
);

const formRequest = (path: string, params: fc.Arbitrary<Pairs>) =>
  fc
    .record({ auth: clientAuth, params, type: contentType(FORM), extra: extraHeaders })
    .chain(({ auth, params, type, extra }) =>
      formBody([...auth.pairs, ...params]).map(
        (body): FuzzRequest => ({
          method: 'POST',
          path,
          headers: [
            ['content-type', type],
            ...(auth.header === undefined ? [] : [['authorization', auth.header] as const]),
            ...extra,
          ],
          body,
        }),
      ),
    );

/** `POST /token`: every grant, every client authentication, odd parameters. */
/**
 * The jwt-bearer grant with a trusted issuer's JWT (the harness key): a workload's platform JWT
 * or an ID-JAG, near-valid with one claim changed or dropped, any header, any signature.
 */
const assertionGrantParams: fc.Arbitrary<Pairs> = fc
  .record({
    idJag: fc.boolean(),
    header: fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: jwtHeader },
    ),
    field: fc.constantFrom(
      'iss',
      'sub',
      'aud',
      'exp',
      'iat',
      'nbf',
      'jti',
      'client_id',
      'resource',
      'scope',
    ),
    value: oddJson,
    drop: fc.boolean(),
    jti: fc.uuid(),
    signature,
    resource: fc.constantFrom<Pairs>([['resource', RESOURCE]], [], [['resource', `${RESOURCE}/x`]]),
  })
  .map(({ idJag, header, field, value, drop, jti, signature: signedBy, resource }): Pairs => {
    const claims: Record<string, Value> = idJag
      ? {
          iss: ENTERPRISE_ISSUER,
          sub: 'alice@fuzz.example',
          aud: ISSUER,
          client_id: ref('basic.id'),
          resource: RESOURCE,
          scope: 'read',
        }
      : { iss: PLATFORM_ISSUER, sub: 'repo:fuzz/app:ref:refs/heads/main', aud: `${ISSUER}/token` };
    Object.assign(claims, { jti, iat: 1_800_000_000, exp: 1_800_000_300 });
    if (drop) delete claims[field];
    else claims[field] = value;
    const typ = idJag ? 'oauth-id-jag+jwt' : 'JWT';
    return [
      ['grant_type', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
      [
        'assertion',
        {
          $jwt: {
            header: header ?? { alg: 'ES256', kid: 'fuzz', typ },
            claims,
            signature: signedBy,
          },
        },
      ],
      ...resource,
    ];
  });

export const tokenRequest = formRequest(
  '/token',
  fc.oneof({ weight: 4, arbitrary: grantParams }, { weight: 1, arbitrary: assertionGrantParams }),
);

const tokenToInspect = fc.constantFrom<Pairs>(
  [['token', ref('access')]],
  [['token', ref('user.access')]],
  [
    ['token', ref('refresh')],
    ['token_type_hint', 'refresh_token'],
  ],
  [['token', ref('code')]],
  [['token', 'AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB']],
  [],
);

/** `POST /introspect` and `POST /revoke`. */
export const introspectRequest = formRequest('/introspect', tokenToInspect);
export const revokeRequest = formRequest('/revoke', tokenToInspect);

const authorizeBase: Pairs = [
  ['response_type', 'code'],
  ['client_id', ref('public.id')],
  ['redirect_uri', REDIRECT],
  ['code_challenge', ref('challenge')],
  ['code_challenge_method', 'S256'],
  ['state', 'xyz'],
  ['scope', 'read'],
  ['resource', RESOURCE],
];

const browserHeaders = fc
  .tuple(fc.option(cookie, { freq: 3, nil: undefined }), extraHeaders)
  .map(([c, extra]) => [...(c === undefined ? [] : [['cookie', c] as const]), ...extra]);

/** `GET /authorize` with near-valid and odd query strings, with and without a session. */
export const authorizeRequest: fc.Arbitrary<FuzzRequest> = fc
  .record({
    base: fc.constantFrom<Pairs>(
      authorizeBase,
      authorizeBase.map(([n, v]) => (n === 'client_id' ? [n, ref('basic.id')] : [n, v])),
      authorizeBase.map(([n, v]) =>
        n === 'redirect_uri' ? [n, 'http://127.0.0.1:9999/cb'] : [n, v],
      ),
      [...authorizeBase, ['prompt', 'login']],
      authorizeBase.map(([n, v]) => (n === 'client_id' ? [n, CIMD_CLIENT] : [n, v])),
    ),
    headers: browserHeaders,
  })
  .chain(({ base, headers }) =>
    queryString(base).map((query) => ({ method: 'GET', path: '/authorize', query, headers })),
  );

/** The sign-in pages: the login and consent forms, with the pending transactions' cookies. */
export const signInRequest: fc.Arbitrary<FuzzRequest> = fc
  .record({
    page: fc.constantFrom('login', 'consent'),
    method: fc.constantFrom('GET', 'POST'),
    cookies: fc.oneof(
      { weight: 4, arbitrary: fc.constant(`${ref('session')}; ${ref('tx.cookies')}`) },
      { weight: 1, arbitrary: cookie },
    ),
    extra: extraHeaders,
    decision: fc.constantFrom('allow', 'deny', 'maybe'),
    user: fc.constantFrom('alice', 'bob', 'mallory', ' alice '),
  })
  .chain(({ page, method, cookies, extra, decision, user }): fc.Arbitrary<FuzzRequest> => {
    const tx = ref(`${page}.tx`);
    const base: Pairs = [
      ['tx', tx],
      ['csrf', ref(`${page}.csrf`)],
      ...(page === 'login' ? [['username', user] as const] : [['decision', decision] as const]),
    ];
    const headers = [['cookie', cookies] as const, ...extra];
    if (method === 'GET') {
      return queryString([['tx', tx]]).map((query) => ({
        method,
        path: `/${page}`,
        query,
        headers,
      }));
    }
    return fc.tuple(contentType(FORM), formBody(base)).map(([type, body]) => ({
      method,
      path: `/${page}`,
      headers: [['content-type', type] as const, ...headers],
      body,
    }));
  });

/** Discovery, JWKS and the home page: GET with odd queries and headers, other methods, odd paths. */
export const metadataRequest: fc.Arbitrary<FuzzRequest> = fc.record({
  method: fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PATCH', 'get', ''),
  path: fc.constantFrom(
    '/',
    '/.well-known/oauth-authorization-server',
    '/.well-known/openid-configuration',
    '/.well-known/jwks.json',
    '/.well-known/oauth-authorization-server/extra',
    '/.well-known/jwks.json/',
    '//.well-known/jwks.json',
    '/.well-known/%6Awks.json',
  ),
  query: rawEncoded,
  headers: extraHeaders,
});

const cursor = fc.oneof(
  oddString,
  fc
    .constantFrom(
      { offset: -1 },
      { offset: 1e308 },
      { offset: 'x' },
      { offset: 0.5 },
      { at: '__proto__' },
      { at: -5 },
      { at: 2 ** 64 },
      [],
      null,
      { offset: { __proto__: 1 } },
    )
    .map((value) => Buffer.from(JSON.stringify(value)).toString('base64url')),
);

const adminQueryBase: Pairs = [
  ['limit', '2'],
  ['software_id', CAPPED_SOFTWARE_ID],
  ['created_after', '2020-01-01'],
  ['days', '7'],
  ['search', 'Basic'],
  ['within', '86400'],
  ['delete_clients', 'false'],
];

const adminBodies = fc.oneof(
  fc.record(
    {
      max_uses: oddJson,
      expires_in: fc.oneof(fc.constant(3600), oddJson),
      scope: fc.oneof(fc.constant('read'), oddJson),
      software_id: oddJson,
      client_lifetime_seconds: oddJson,
      max_active_clients: oddJson,
      description: oddJson,
      dry_run: fc.oneof(fc.constant(true), oddJson),
      delete_clients: oddJson,
      cursor: fc.oneof(cursor, oddJson),
      grace_period_seconds: oddJson,
      created_after: oddJson,
      client_name_prefix: oddJson,
      items: fc.oneof(fc.array(oddJson, { maxLength: 3 }), oddJson),
    },
    { requiredKeys: [] },
  ),
  fc.constantFrom(
    { dry_run: false, software_id: CAPPED_SOFTWARE_ID },
    { software_id: 'evil', delete_clients: true },
    { grace_period_seconds: 60 },
    { items: [{ pk: 'client#fuzz', sk: 'client', clientId: 'fuzz', metadata: {} }] },
    { items: [{ pk: 'blocked#fuzz', sk: 'blocked', softwareId: 'fuzz', blockedAt: 1 }] },
    {},
  ),
);

/** The admin API: every route, with the admin token (mostly), odd queries, bodies, cursors. */
export const adminRequest: fc.Arbitrary<FuzzRequest> = fc
  .record({
    route: fc.constantFrom(
      ['GET', '/admin/clients'],
      ['GET', `/admin/clients/${ref('basic.id')}`],
      ['DELETE', `/admin/clients/${ref('post.id')}`],
      ['POST', `/admin/clients/${ref('basic.id')}/rotate-secret`],
      ['POST', '/admin/bulk-delete'],
      ['GET', '/admin/stats'],
      ['GET', '/admin/stats/software'],
      ['GET', '/admin/expiring-clients'],
      ['POST', '/admin/stats/recount'],
      ['GET', '/admin/export'],
      ['POST', '/admin/import'],
      ['POST', '/admin/initial-access-tokens'],
      ['GET', '/admin/initial-access-tokens'],
      ['DELETE', `/admin/initial-access-tokens/${ref('iat.id')}`],
      ['POST', '/admin/blocked-software-ids'],
      ['DELETE', '/admin/blocked-software-ids/evil'],
      ['GET', '/admin/blocked-software-ids'],
      ['GET', '/admin/clients/%ED%A0%80'],
      ['DELETE', '/admin/initial-access-tokens/%2e%2e'],
      ['DELETE', `/admin/blocked-software-ids/${'s'.repeat(300)}`],
      ['PUT', '/admin/clients'],
    ),
    auth: fc.oneof(
      { weight: 6, arbitrary: fc.constant(`Bearer ${ref('admin')}`) },
      { weight: 1, arbitrary: fc.constant(undefined) },
      { weight: 2, arbitrary: authorization(['basic.rat', 'access', 'iat']) },
    ),
    type: contentType('application/json'),
    extra: extraHeaders,
    query: queryString(adminQueryBase),
    cursorParam: fc.option(cursor, { freq: 3, nil: undefined }),
    body: jsonBody(adminBodies),
  })
  .map(({ route: [method, path], auth, type, extra, query, cursorParam, body }) => ({
    method: method as string,
    path: path as string,
    query: cursorParam === undefined ? query : `${query}&cursor=${encodeKeepingRefs(cursorParam)}`,
    headers: [
      ['content-type', type] as const,
      ...(auth === undefined ? [] : [['authorization', auth] as const]),
      ...extra,
    ],
    ...(method === 'POST' && { body }),
  }));

/** Anything at all: any method, any path, any headers, any body. */
export const garbageRequest: fc.Arbitrary<FuzzRequest> = fc.record({
  method: fc.oneof(
    fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH', 'TRACE', 'CONNECT'),
    oddString,
  ),
  path: fc.oneof(
    fc.constantFrom(
      '/register',
      '/token',
      '/introspect',
      '/revoke',
      '/authorize',
      '/consent',
      '/login',
      '/callback',
      '/account',
      '/admin/clients',
      '/',
      '',
      '/register/',
      '/register//x',
      '/admin',
      '/admin/clients/',
      '/.well-known/',
    ),
    oddString.map((s) => `/${s}`),
  ),
  query: fc.oneof(rawEncoded, oddString),
  headers: fc.array(
    fc.tuple(fc.constantFrom(...HEADER_NAMES), fc.oneof(oddString, authorization())),
    { maxLength: 4 },
  ),
  body: fc.oneof(
    oddJson.map((json): BodySpec => ({ json })),
    rawEncoded.map((text): BodySpec => ({ text })),
    fc.uint8Array({ maxLength: 128 }).map((bytes): BodySpec => ({ bytes })),
    fc.constant<BodySpec>({ bytes: new Uint8Array(64 * 1024 + 1) }),
  ),
});

const dashboardClient = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...CLIENTS).map((c) => ref(`${c}.id`)) },
  {
    weight: 1,
    arbitrary: fc
      .oneof(oddString, fc.constantFrom('.', '..', '%2e%2e', '%ED%A0%80', 'a'.repeat(3000)))
      .map((id) => id.replaceAll('/', '%2F').replaceAll('?', '%3F')),
  },
);

const dashboardQuery: Pairs = [
  ['search', 'Basic'],
  ['method', 'open'],
  ['created_after', '2020-01-01'],
  ['used_before', '2030-01-01'],
  ['done', 'deleted'],
];

/** The operator's dashboard: its pages and forms, signed in (mostly) and not, odd queries. */
export const dashboardRequest: fc.Arbitrary<FuzzRequest> = fc
  .record({
    client: dashboardClient,
    route: fc.constantFrom(
      ['GET', '/dashboard'],
      ['GET', '/dashboard/sign-in'],
      ['GET', '/dashboard/clients'],
      ['GET', '/dashboard/clients/:id'],
      ['GET', '/dashboard/clients/:id/delete'],
      ['POST', '/dashboard/sign-in'],
      ['POST', '/dashboard/sign-out'],
      ['POST', '/dashboard/clients/:id/delete'],
      ['POST', '/dashboard/clients/:id/rotate-secret'],
      ['POST', '/dashboard/block-software'],
      ['GET', '/dashboard/block-software'],
      ['GET', '/dashboard/blocked'],
      ['POST', '/dashboard/unblock-software'],
    ),
    cookie: fc.oneof(
      { weight: 6, arbitrary: fc.constant(ref('dashboard.cookie')) },
      { weight: 1, arbitrary: cookie },
    ),
    origin: fc.oneof(
      { weight: 6, arbitrary: fc.constant(ISSUER) },
      { weight: 1, arbitrary: fc.constantFrom('https://evil.example', 'null', '') },
    ),
    type: contentType(FORM),
    extra: extraHeaders,
    query: queryString(dashboardQuery),
    cursor: fc.option(cursor, { freq: 4, nil: undefined }),
    form: fc.constantFrom<Pairs>(
      [['admin_token', ref('admin')]],
      [['grace_period_seconds', '60']],
      [
        ['software_id', 'evil'],
        ['client_id', ref('basic.id')],
      ],
      [['software_id', CAPPED_SOFTWARE_ID]],
      [],
    ),
  })
  .chain(
    ({ client, route: [method, template], cookie, origin, type, extra, query, cursor, form }) => {
      const path = (template as string).replace(':id', client);
      const headers = [['cookie', cookie] as const, ['origin', origin] as const, ...extra];
      if (method === 'GET') {
        const withCursor =
          cursor === undefined ? query : `${query}&cursor=${encodeKeepingRefs(cursor)}`;
        return fc.constant<FuzzRequest>({ method, path, query: withCursor, headers });
      }
      return formBody([['csrf', ref('dashboard.csrf')], ...form]).map(
        (body): FuzzRequest => ({
          method: method as string,
          path,
          headers: [['content-type', type] as const, ...headers],
          body,
        }),
      );
    },
  );
