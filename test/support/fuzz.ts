import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import * as fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalSigner } from '../../lambdas/adapters/signing/local-signer.js';
import { loadConfig } from '../../lambdas/config.js';
import { clientFromMetadataDocument } from '../../lambdas/core/clients/client-id-metadata-document.js';
import { LONE_SURROGATE } from '../../lambdas/core/text.js';
import type { HttpRequest, HttpResponse } from '../../lambdas/http/message.js';
import { prefersJson } from '../../lambdas/http/request.js';
import { createRouter, type Router } from '../../lambdas/http/router.js';
import { localRoutes, memoryStores, type Stores } from '../../local/app.js';
import { FakeClock } from './fakes.js';
import { findLeaks } from './secret-leaks.js';

/**
 * Fuzzing (docs/testing.md "Fuzzing"): the real router (every endpoint's routes and the development login, as
 * `npm start` serves them) over the in-memory stores, driven in process with generated
 * requests. Each case is checked against the properties every response must have (see
 * `checkCase`).
 *
 * Generated requests name the harness's credentials symbolically (`⟦basic.secret⟧`), so a
 * counterexample reads as what it sends and replays against a freshly seeded app.
 */

export const ISSUER = 'https://as.example.test';
export const STATEMENT_ISSUER = 'https://statements.example.test';
/** Trusted token issuers (the harness key): a workload platform and an enterprise IdP. */
export const PLATFORM_ISSUER = 'https://platform.example.test';
export const ENTERPRISE_ISSUER = 'https://idp.example.test';
export const RESOURCE = 'https://api.example.test/mcp';
export const REDIRECT = 'http://127.0.0.1:8765/cb';
export const NATIVE_REDIRECT = 'com.example.agent:/cb';
/** A Client ID Metadata Document client (public, this redirect URI). */
export const CIMD_CLIENT = 'https://cimd.example.test/client.json';
const CIMD_DOCUMENT = JSON.stringify({
  client_id: CIMD_CLIENT,
  client_name: 'Document agent',
  redirect_uris: [REDIRECT],
  grant_types: ['authorization_code', 'refresh_token'],
  token_endpoint_auth_method: 'none',
});
/** The one software_id whose cap (1 active client) the seed fills. */
export const CAPPED_SOFTWARE_ID = 'capped-agent';
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');

// ---------------------------------------------------------------------------------------------
// Case budget, seed and path (docs/testing.md "Fuzzing")

/**
 * Runs of one property: its share of the suite's budget, times DCR_FUZZ_RUNS (a multiplier for
 * a longer run, e.g. DCR_FUZZ_RUNS=20). DCR_FUZZ_SEED (and DCR_FUZZ_PATH) replay a failure
 * that fast-check reported.
 */
const multiplier = Number(process.env.DCR_FUZZ_RUNS ?? '1');
if (!Number.isFinite(multiplier) || multiplier <= 0) {
  throw new Error('DCR_FUZZ_RUNS must be a positive number (a multiplier of the runs)');
}

export function fuzzParameters<T>(runs: number): fc.Parameters<T> {
  const seed = process.env.DCR_FUZZ_SEED;
  const path = process.env.DCR_FUZZ_PATH;
  return {
    numRuns: Math.ceil(runs * multiplier),
    ...(seed !== undefined && seed !== '' && { seed: Number(seed) }),
    ...(path !== undefined && path !== '' && { path }),
  };
}

/** A fuzz test's timeout: room for its runs (and shrinking a failure), scaled with them. */
export const FUZZ_TIMEOUT_MS = 120_000 * Math.max(1, multiplier);

// ---------------------------------------------------------------------------------------------
// Keys: one EC key signs the private_key_jwt client's assertions and the trusted statements.

const { privateKey: harnessKey, publicKey: harnessPublic } = generateKeyPairSync('ec', {
  namedCurve: 'P-256',
});
const { privateKey: strangerKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
export const HARNESS_JWK = { ...harnessPublic.export({ format: 'jwk' }), kid: 'fuzz', use: 'sig' };

const b64url = (value: string | Uint8Array) => Buffer.from(value).toString('base64url');

/** A compact JWS whose header and claims are whatever was generated. */
export interface JwtSpec {
  readonly header: unknown;
  readonly claims: unknown;
  /** harness: ES256 by the registered key; stranger: another key; none: no signature; garbage. */
  readonly signature: 'harness' | 'stranger' | 'none' | 'garbage';
}

function compactJws(spec: JwtSpec): string {
  const input = `${b64url(JSON.stringify(spec.header) ?? '')}.${b64url(JSON.stringify(spec.claims) ?? '')}`;
  if (spec.signature === 'none') return `${input}.`;
  if (spec.signature === 'garbage') return `${input}.${b64url('not a signature')}`;
  const key = spec.signature === 'harness' ? harnessKey : strangerKey;
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(signature)}`;
}

// ---------------------------------------------------------------------------------------------
// The app under test, seeded with one of everything a request can present.

/** The credentials and handles a generated request refers to as `⟦name⟧`. */
export type Refs = Record<string, string>;

const SECRET_REFS = [
  'basic.secret',
  'post.secret',
  'basic.rat',
  'post.rat',
  'jwt.rat',
  'public.rat',
  'admin',
  'iat',
  'refresh',
  'code',
  'access',
] as const;

export interface FuzzApp {
  readonly router: Router;
  readonly stores: Stores;
  readonly refs: Refs;
  /** Every secret the harness knows, by name (cookie key material included). */
  readonly secrets: ReadonlyMap<string, string>;
}

const ADMIN_TOKEN = `fuzz-admin-${randomBytes(24).toString('base64url')}`;

const config = loadConfig({
  DCR_ISSUER: ISSUER,
  DCR_ADMIN_TOKEN: ADMIN_TOKEN,
  DCR_AUDIT_LOG: 'off',
  DCR_CLEANUP_INTERVAL_SECONDS: '0',
  DCR_ALLOWED_SCOPES: 'read write',
  DCR_RESOURCES: RESOURCE,
  DCR_REGISTRATION_ACCESS: 'open,initial_access_token,software_statement',
  DCR_SOFTWARE_STATEMENT_ISSUERS: JSON.stringify({
    [STATEMENT_ISSUER]: { jwks: { keys: [HARNESS_JWK] }, algorithms: ['ES256'] },
  }),
  DCR_TRUSTED_ISSUERS: JSON.stringify({
    [PLATFORM_ISSUER]: {
      kind: 'workload',
      jwks: { keys: [HARNESS_JWK] },
      rules: [{ claims: { sub: 'repo:fuzz/*:**' }, scope: 'read', resources: [RESOURCE] }],
    },
    [ENTERPRISE_ISSUER]: {
      kind: 'id-jag',
      jwks: { keys: [HARNESS_JWK] },
      rules: [{ claims: { sub: '*@fuzz.example' }, scope: 'read write', resources: [RESOURCE] }],
    },
  }),
  DCR_REGISTRATION_RATE_LIMIT: '1000000/60',
  DCR_SOFTWARE_ID_MAX_ACTIVE_CLIENTS: '1',
  DCR_DEV_LOGIN: 'on',
  DCR_DEV_USERS: 'alice,bob',
  DCR_CLIENT_ID_METADATA_DOCUMENTS: 'on',
  DCR_PRIVATE_USE_SCHEMES: 'com.example.agent',
});
// One signing key for every app (generating one per reset would dominate the run).
const signer = LocalSigner.create('ES256');

const request = (
  method: string,
  target: string,
  headers: Record<string, string | undefined> = {},
  body?: string | Uint8Array,
): HttpRequest => {
  const at = target.indexOf('?');
  return {
    method,
    path: at < 0 ? target : target.slice(0, at),
    query: at < 0 ? '' : target.slice(at + 1),
    headers,
    ...(body !== undefined && { body: typeof body === 'string' ? Buffer.from(body) : body }),
    sourceIp: '192.0.2.7',
  };
};

const parsed = (response: HttpResponse) => JSON.parse(response.body ?? '{}');
const cookiePair = (setCookie: string) => setCookie.split(';')[0] as string;
const csrfOf = (page: HttpResponse) => /name="csrf" value="([^"]+)"/.exec(page.body ?? '')?.[1];
const txOf = (location: string) => new URL(location).searchParams.get('tx') ?? '';

/** Builds the app and seeds it: clients of every kind, a token of each sort, a sign-in. */
export async function buildFuzzApp(): Promise<FuzzApp> {
  const clock = new FakeClock(1_800_000_000);
  const stores = memoryStores(clock);
  const cookieSecret = randomBytes(32);
  const router: Router = createRouter(
    localRoutes(
      config,
      stores,
      {
        signer,
        // Nothing leaves the process: a jwks_uri or metadata document URL fails as unreachable.
        remoteKeySets: {
          resolver: () => async () => {
            throw new Error('no network in the fuzz tests');
          },
        },
        // One Client ID Metadata Document is served (as if fetched), so its clients are fuzzed too.
        metadataDocuments: {
          resolve: async (url) =>
            url === CIMD_CLIENT
              ? clientFromMetadataDocument(url, CIMD_DOCUMENT, clock.now())
              : { problem: 'no other metadata documents are fetched in the fuzz tests' },
        },
        clock,
        cookieKey: { key: async () => cookieSecret },
      },
      { router: () => router, issuer: () => ISSUER },
    ),
  );
  const send = async (r: HttpRequest) => {
    const response = await router(r, ISSUER);
    if (response.status >= 400) {
      throw new Error(`seeding failed: ${r.method} ${r.path}: ${response.status} ${response.body}`);
    }
    return response;
  };
  const json = { 'content-type': 'application/json' };
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const register = async (metadata: object, headers: Record<string, string> = {}) =>
    parsed(
      await send(request('POST', '/register', { ...json, ...headers }, JSON.stringify(metadata))),
    );

  const basic = await register({
    client_name: 'Basic agent',
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'read write',
    software_id: CAPPED_SOFTWARE_ID,
  });
  const post = await register({
    client_name: 'Post agent',
    grant_types: ['client_credentials'],
    token_endpoint_auth_method: 'client_secret_post',
    scope: 'read',
  });
  const jwt = await register({
    client_name: 'JWT agent',
    grant_types: ['client_credentials'],
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    jwks: { keys: [HARNESS_JWK] },
    scope: 'read',
  });
  const pub = await register({
    client_name: 'Public agent',
    redirect_uris: [REDIRECT, NATIVE_REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    scope: 'read write',
  });
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const iat = parsed(
    await send(
      request(
        'POST',
        '/admin/initial-access-tokens',
        { ...json, ...admin },
        JSON.stringify({ max_uses: 5, max_active_clients: 3 }),
      ),
    ),
  );

  // A sign-in through the development login, up to a code: one exchanged (its refresh token
  // kept), one left for the fuzzer, and two transactions left pending (at login, at consent).
  const authorizeQuery = new URLSearchParams({
    response_type: 'code',
    client_id: pub.client_id,
    redirect_uri: REDIRECT,
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
    state: 'fuzz-state',
    scope: 'read',
    resource: RESOURCE,
  }).toString();
  const jar = new Map<string, string>();
  const cookies = () => [...jar].map(([n, v]) => `${n}=${v}`).join('; ');
  const keep = (response: HttpResponse) => {
    for (const line of response.cookies ?? []) {
      const pair = cookiePair(line);
      const at = pair.indexOf('=');
      if (line.includes('Max-Age=0')) jar.delete(pair.slice(0, at));
      else jar.set(pair.slice(0, at), pair.slice(at + 1));
    }
    return response;
  };
  const browse = async (method: string, target: string, body?: string) =>
    keep(await send(request(method, target, { cookie: cookies(), ...(body && form) }, body)));

  const signIn = async () => {
    const started = await browse('GET', `/authorize?${authorizeQuery}`);
    const loginTx = txOf(started.headers.location as string);
    const login = await browse('GET', `/login?tx=${loginTx}`);
    return { loginTx, loginCsrf: csrfOf(login) as string };
  };
  const consent = async (tx: string) => {
    const page = await browse('GET', `/consent?tx=${tx}`);
    return csrfOf(page) as string;
  };
  const codeOf = async () => {
    const started = await browse('GET', `/authorize?${authorizeQuery}`);
    const tx = txOf(started.headers.location as string);
    const csrf = await consent(tx);
    const answered = await browse('POST', '/consent', `tx=${tx}&csrf=${csrf}&decision=allow`);
    return new URL(answered.headers.location as string).searchParams.get('code') as string;
  };
  const first = await signIn();
  const signedIn = await browse(
    'POST',
    '/login',
    `tx=${first.loginTx}&csrf=${first.loginCsrf}&username=alice`,
  );
  const session = [...jar].find(([name]) => name.endsWith('dcr_session'));
  const consentTx = txOf(signedIn.headers.location as string);
  const consentCsrf = await consent(consentTx);
  const exchanged = parsed(
    await send(
      request(
        'POST',
        '/token',
        form,
        new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: pub.client_id,
          code: await codeOf(),
          redirect_uri: REDIRECT,
          code_verifier: VERIFIER,
        }).toString(),
      ),
    ),
  );
  const code = await codeOf();
  // A sign-in still at the login page (its transaction cookie in the jar).
  jar.delete(session?.[0] as string);
  const pending = await signIn();
  // The operator's dashboard, signed in (its session cookie and a page's CSRF token kept).
  const dashboard = await send(
    request(
      'POST',
      '/dashboard/sign-in',
      { ...form, origin: ISSUER },
      `admin_token=${encodeURIComponent(ADMIN_TOKEN)}`,
    ),
  );
  const dashboardCookie = cookiePair(dashboard.cookies?.[0] ?? '');
  const overview = await send(request('GET', '/dashboard', { cookie: dashboardCookie }));
  const access = parsed(
    await send(
      request(
        'POST',
        '/token',
        {
          ...form,
          authorization: `Basic ${b64url(`${basic.client_id}:${basic.client_secret}`).replace(/-/g, '+').replace(/_/g, '/')}`,
        },
        'grant_type=client_credentials&scope=read',
      ),
    ),
  );

  const refs: Refs = {
    'basic.id': basic.client_id,
    'basic.secret': basic.client_secret,
    'basic.rat': basic.registration_access_token,
    'post.id': post.client_id,
    'post.secret': post.client_secret,
    'post.rat': post.registration_access_token,
    'jwt.id': jwt.client_id,
    'jwt.rat': jwt.registration_access_token,
    'public.id': pub.client_id,
    'public.rat': pub.registration_access_token,
    admin: ADMIN_TOKEN,
    iat: iat.initial_access_token,
    'iat.id': iat.id,
    refresh: exchanged.refresh_token,
    code,
    verifier: VERIFIER,
    challenge: CHALLENGE,
    access: access.access_token,
    'user.access': exchanged.access_token,
    session: session ? `${session[0]}=${session[1]}` : '',
    'login.tx': pending.loginTx,
    'login.csrf': pending.loginCsrf,
    'consent.tx': consentTx,
    'consent.csrf': consentCsrf,
    // Every transaction cookie the browser holds (the pending login's and consent's).
    'tx.cookies': cookies(),
    'dashboard.cookie': dashboardCookie,
    'dashboard.csrf': csrfOf(overview) as string,
  };
  const secrets = new Map<string, string>(SECRET_REFS.map((name) => [name, refs[name] as string]));
  secrets.set('user.access', refs['user.access'] as string);
  secrets.set('dashboard session', dashboardCookie.slice(dashboardCookie.indexOf('=') + 1));
  for (const [encoding, text] of [
    ['cookie key (base64url)', cookieSecret.toString('base64url')],
    ['cookie key (base64)', cookieSecret.toString('base64')],
    ['cookie key (hex)', cookieSecret.toString('hex')],
  ] as const) {
    secrets.set(encoding, text);
  }
  for (const [name, value] of secrets) {
    if (typeof value !== 'string' || value.length < 20) throw new Error(`no ${name} was seeded`);
  }
  return { router, stores, refs, secrets };
}

// ---------------------------------------------------------------------------------------------
// Materialising a generated request

/** A header value: literal, or Basic credentials encoded one of several (odd) ways. */
export type HeaderValue = string | { readonly basic: BasicSpec };

export interface BasicSpec {
  readonly id: string;
  readonly secret: string;
  /** How the pair is written: RFC 6749 §2.3.1 form-encoded, raw, odd base64, bytes... */
  readonly variant:
    | 'form-encoded'
    | 'raw'
    | 'no-colon'
    | 'base64url'
    | 'unpadded'
    | 'over-padded'
    | 'latin1'
    | 'invalid-utf8'
    | 'lowercase-scheme'
    | 'spaces';
  readonly trailing?: string;
}

/** A body: JSON (a value, or raw text), a form (pairs, or raw text), or raw bytes. */
export type BodySpec =
  | { readonly json: unknown }
  | { readonly text: string }
  | { readonly form: readonly (readonly [string, Value])[] }
  | { readonly bytes: Uint8Array };

/** A generated value: JSON, where a `{ $jwt }` object becomes a signed compact JWS. */
export type Value = unknown;

export interface FuzzRequest {
  readonly method: string;
  readonly path: string;
  readonly query?: string;
  readonly headers?: readonly (readonly [string, HeaderValue])[];
  readonly body?: BodySpec;
}

const REF = /⟦([a-z.]+)⟧/g;
const substitute = (text: string, refs: Refs) =>
  text.replace(REF, (whole, name: string) => refs[name] ?? whole);

/** Builds an object key by key, so that `__proto__` stays an own property as in JSON.parse. */
function ownObject(entries: [string, unknown][]) {
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) {
    Object.defineProperty(out, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

export function materialize(value: Value, refs: Refs): unknown {
  if (typeof value === 'string') return substitute(value, refs);
  if (Array.isArray(value)) return value.map((item) => materialize(item, refs));
  if (value !== null && typeof value === 'object') {
    if (Object.hasOwn(value, '$jwt')) {
      const spec = (value as { $jwt: JwtSpec }).$jwt;
      return compactJws({
        ...spec,
        header: materialize(spec.header, refs),
        claims: materialize(spec.claims, refs),
      });
    }
    return ownObject(Object.entries(value).map(([k, v]) => [k, materialize(v, refs)]));
  }
  return value;
}

/**
 * Percent-encoding of any string: a lone surrogate (which encodeURIComponent refuses) is written
 * as the bytes a careless encoder would send for it (CESU-8, invalid UTF-8).
 */
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

export function percentEncode(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    const wellFormed = value.replace(LONE_SURROGATES, '\uFFFD');
    return encodeURIComponent(wellFormed).replace(/%EF%BF%BD/g, '%ED%A0%80');
  }
}

const formEncode = (value: string) => percentEncode(value).replace(/%20/g, '+');

function basicHeader(spec: BasicSpec, refs: Refs): string {
  const id = substitute(spec.id, refs);
  const secret = substitute(spec.secret, refs);
  let bytes: Buffer;
  switch (spec.variant) {
    case 'form-encoded':
    case 'base64url':
    case 'unpadded':
    case 'over-padded':
    case 'lowercase-scheme':
    case 'spaces':
      bytes = Buffer.from(`${formEncode(id)}:${formEncode(secret)}`);
      break;
    case 'raw':
      bytes = Buffer.from(`${id}:${secret}`);
      break;
    case 'no-colon':
      bytes = Buffer.from(`${id}${secret}`);
      break;
    case 'latin1':
      bytes = Buffer.from(`${id}:${secret}`, 'latin1');
      break;
    case 'invalid-utf8':
      bytes = Buffer.concat([
        Buffer.from(`${id}:`),
        Buffer.from([0xc3, 0x28, 0xff]),
        Buffer.from(secret),
      ]);
      break;
  }
  let encoded = bytes.toString(spec.variant === 'base64url' ? 'base64url' : 'base64');
  if (spec.variant === 'unpadded') encoded = encoded.replace(/=+$/, '');
  if (spec.variant === 'over-padded') encoded = `${encoded}===`;
  const scheme = spec.variant === 'lowercase-scheme' ? 'basic' : 'Basic';
  const gap = spec.variant === 'spaces' ? '   ' : ' ';
  return `${scheme}${gap}${encoded}${spec.trailing ?? ''}`;
}

function bodyOf(spec: BodySpec, refs: Refs): Uint8Array {
  if ('bytes' in spec) return spec.bytes;
  if ('text' in spec) return Buffer.from(substitute(spec.text, refs));
  if ('json' in spec) return Buffer.from(JSON.stringify(materialize(spec.json, refs)) ?? '');
  const pairs = spec.form.map(([name, value]) => {
    const v = materialize(value, refs);
    return `${formEncode(substitute(name, refs))}=${formEncode(typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))}`;
  });
  return Buffer.from(pairs.join('&'));
}

export function toHttpRequest(spec: FuzzRequest, refs: Refs): HttpRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of spec.headers ?? []) {
    const text =
      typeof value === 'string' ? substitute(value, refs) : basicHeader(value.basic, refs);
    const key = name.toLowerCase();
    // As node:http and API Gateway join a repeated header.
    headers[key] =
      headers[key] === undefined ? text : `${headers[key]}${key === 'cookie' ? '; ' : ', '}${text}`;
  }
  return {
    method: spec.method,
    path: substitute(spec.path, refs),
    query: substitute(spec.query ?? '', refs),
    headers,
    ...(spec.body !== undefined && { body: bodyOf(spec.body, refs) }),
    sourceIp: '192.0.2.9',
  };
}

// ---------------------------------------------------------------------------------------------
// Store snapshots

/** Own Map fields (and plain data fields) of a store object, and of the stores it wraps. */
function contents(store: object, seen = new Set<object>()): unknown {
  if (seen.has(store)) return undefined;
  seen.add(store);
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(store)) {
    if (value instanceof Map) {
      out[field] = structuredClone([...value].sort(([a], [b]) => (String(a) < String(b) ? -1 : 1)));
    } else if (value === undefined || typeof value === 'number' || typeof value === 'string') {
      out[field] = value;
    } else if (value !== null && typeof value === 'object' && !(value instanceof FakeClock)) {
      out[field] = contents(value, seen);
    }
  }
  return out;
}

/**
 * What the stores hold. The anonymous registration counter is left out: abuse control counts
 * every anonymous attempt before the request is read, accepted or not (docs/registration.md "Abuse control";
 * routes/registration.ts), so a rejected registration moves it by design.
 */
export function snapshot(app: FuzzApp) {
  const {
    registrationCounter: _countsAttempts,
    repository: _wrapsDirectory,
    ...stores
  } = app.stores;
  return contents(stores);
}

// ---------------------------------------------------------------------------------------------
// The properties

/** Routes that are pages a person's browser visits (the router's `page: true` routes). */
const PAGE_PATHS = new Set(['/authorize', '/consent', '/login', '/callback', '/account']);
const isPage = (path: string) =>
  PAGE_PATHS.has(path) || path === '/dashboard' || path.startsWith('/dashboard/');

const loopbackless = (uri: string) => {
  const url = URL.parse(uri);
  if (url === null) return uri;
  if (url.hostname === '127.0.0.1') url.port = '';
  url.search = '';
  return url.href;
};

export interface CaseResult {
  readonly request: HttpRequest;
  readonly response: HttpResponse;
}

/** Sends one generated request; whatever the router does, it must answer. */
export async function runCase(app: FuzzApp, spec: FuzzRequest): Promise<CaseResult> {
  const request = toHttpRequest(spec, app.refs);
  const response = await app.router(request, ISSUER);
  return { request, response };
}

/** Parameters that carry a credential: never echoed, even to the caller that sent them. */
const CREDENTIAL_PARAMS = new Set([
  'client_secret',
  'client_assertion',
  'assertion',
  'token',
  'refresh_token',
  'code',
  'code_verifier',
  'csrf',
]);

/**
 * What a response may repeat of the request: the path, and every parameter and JSON member
 * except the credentials (a client that sends a token as its `grant_type`, or as a parameter's
 * name, or as its client_name or a software statement's claim, may read it back in the error
 * or the registration). Headers
 * (Authorization, Cookie) and credential parameters are never the caller's own text to echo.
 */
function callersOwnText(request: HttpRequest): string {
  const parts = [request.path, request.query];
  const text = Buffer.from(request.body ?? new Uint8Array()).toString('utf8');
  try {
    const json = JSON.parse(text);
    if (json !== null && typeof json === 'object') delete json.client_secret;
    const whole = JSON.stringify(json);
    // A software statement's claims are the caller's own text too (errors may name them).
    for (const [jws] of whole.matchAll(/[\w-]+\.[\w-]+\.[\w-]*/g)) {
      parts.push(...jws.split('.').map((part) => Buffer.from(part, 'base64url').toString('utf8')));
    }
    parts.push(whole);
  } catch {
    for (const [name, value] of new URLSearchParams(text)) {
      parts.push(name, CREDENTIAL_PARAMS.has(name) ? '' : value);
    }
  }
  for (const [name, value] of new URLSearchParams(request.query)) {
    parts.push(name, CREDENTIAL_PARAMS.has(name) ? '' : value);
  }
  return parts.join('\n');
}

/**
 * The properties of every response:
 * 1. 2xx, 3xx or 4xx — never 5xx;
 * 2. a 4xx is an RFC error body (`{"error", "error_description"?}`, application/json), or the HTML
 *    error page when a browser (not preferring JSON) asked a page route;
 * 3. a 3xx goes to this server's own pages, or to a redirect URI registered by the client;
 * 4. no secret the harness holds appears anywhere in it (body, headers, cookies), except a
 *    client's own registration access token in its RFC 7592 read or update (the token it
 *    presented), and the caller's own non-credential text repeated back (`callersOwnText`).
 */
export function checkResponse(
  { request, response }: CaseResult,
  refs: Refs,
  secrets: ReadonlyMap<string, string>,
) {
  const { status, headers, body } = response;
  const where = `${request.method} ${request.path}`;
  expect(status, `${where}: ${body}`).toBeGreaterThanOrEqual(200);
  expect(status, `${where}: ${body}`).toBeLessThan(500);
  expect(headers['x-content-type-options']).toBe('nosniff');
  if (headers['content-type'] === 'application/json')
    expect(() => JSON.parse(body ?? '')).not.toThrow();
  if (status >= 400) {
    const page = isPage(request.path) && !prefersJson(request);
    if (page && headers['content-type']?.startsWith('text/html')) {
      expect(body).toMatch(/^<!doctype html>/);
    } else {
      expect(headers['content-type'], `${where} ${status}: ${body}`).toBe('application/json');
      const error = JSON.parse(body ?? '');
      expect(Object.keys(error).sort(), body).toEqual(
        'error_description' in error ? ['error', 'error_description'] : ['error'],
      );
      expect(typeof error.error).toBe('string');
      expect(error.error).toMatch(/^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/);
      if ('error_description' in error) expect(typeof error.error_description).toBe('string');
    }
    expect(headers['cache-control']).toBe('no-store');
  }
  if (status >= 300 && status < 400) {
    const location = headers.location ?? '';
    const own = location.startsWith(`${ISSUER}/`);
    const registered = [REDIRECT, NATIVE_REDIRECT].map(loopbackless);
    expect(own || registered.includes(loopbackless(location)), `${where} → ${location}`).toBe(true);
  }
  const presented = request.headers.authorization?.replace(/^Bearer +/i, '').trim();
  const echoable = callersOwnText(request);
  const ownRead =
    status === 200 &&
    (request.method === 'GET' || request.method === 'PUT') &&
    request.path.startsWith('/register/');
  const sent = JSON.stringify({ headers, body, cookies: response.cookies });
  const shown = [...secrets]
    .filter(([name, secret]) => !(ownRead && secret === presented && name.endsWith('.rat')))
    .filter(([, secret]) => !echoable.includes(secret))
    .map(([kind, value]) => ({ kind, value }));
  expect(findLeaks(shown, [sent]), `${where} ${status} shows a secret`).toEqual([]);
  void refs;
}

type Snapshot = Record<string, Record<string, unknown>>;
type Entries = [string, Record<string, unknown>][];

/**
 * The writes a rejected request makes by design, put back to what they were so the rest of the
 * stores can be compared exactly:
 * - a client assertion's `jti` is spent when the client authenticates, whatever the grant then
 *   does (RFC 7523 §3 item 7; client-authentication.ts), so it can never be replayed;
 * - at introspection and revocation, authenticating is a use of the client (token-service.ts
 *   `authenticateConfidential`, `revoke`): its last use moves before the request is read on;
 * - a replayed authorization code or refresh token revokes the grant it gave (RFC 6749 §4.1.2,
 *   RFC 9700 §4.14.2; user-grants.ts): a grant may gain `revokedAt`, and nothing else.
 */
function withoutIntendedWrites(before: Snapshot, after: Snapshot, request: HttpRequest): Snapshot {
  const copy = structuredClone(after);
  // The token store as the app wraps it (its events audited): the Map is the inner one's.
  const singleUse = (s: Snapshot) => {
    const store = s.tokenStore as {
      used?: [string, number][];
      inner?: { used: [string, number][] };
    };
    return (store.inner ?? store) as { used: [string, number][] };
  };
  const spentBefore = new Set(singleUse(before).used.map(([key]) => key));
  singleUse(copy).used = singleUse(copy).used.filter(
    ([key]) => spentBefore.has(key) || !key.startsWith('assertion#'),
  );
  if (request.path === '/introspect' || request.path === '/revoke') {
    const items = (s: Snapshot) => (s.directory as { items: Entries }).items;
    const earlier = new Map(items(before));
    for (const [id, record] of items(copy)) {
      const was = earlier.get(id);
      if (was === undefined) continue;
      for (const field of ['lastUsedAt', 'activeUntil']) {
        if (field in was) record[field] = was[field];
        else delete record[field];
      }
    }
  }
  // The grant store as the app wraps it (counted for client health): the Map is the inner one's.
  const grantStore = (s: Snapshot) => {
    const store = s.grants as { grants?: Entries; inner?: { grants: Entries } };
    return (store.inner ?? store) as { grants: Entries };
  };
  const grants = (s: Snapshot) => grantStore(s).grants;
  const earlierGrants = new Map(grants(before));
  grantStore(copy).grants = grants(copy).flatMap(([id, grant]) => {
    const was = earlierGrants.get(id);
    const { revokedAt: _, ...rest } = grant;
    if (was === undefined) return Object.keys(rest).length === 1 ? [] : [[id, grant]];
    return [[id, 'revokedAt' in was ? grant : rest]];
  }) as Entries;
  return copy;
}

/**
 * One app at a time: a case runs against it, and the app is rebuilt (freshly seeded) after any
 * case that changed the stores, so every case meets the same seeded state.
 */
export class FuzzSession {
  private constructor(private app: FuzzApp) {}

  static async start(): Promise<FuzzSession> {
    return new FuzzSession(await buildFuzzApp());
  }

  get refs(): Refs {
    return this.app.refs;
  }

  /** Runs one case and checks every property; a rejected request must leave no write behind. */
  async check(spec: FuzzRequest): Promise<CaseResult> {
    const before = snapshot(this.app) as Snapshot;
    const result = await runCase(this.app, spec);
    checkResponse(result, this.app.refs, this.app.secrets);
    const after = snapshot(this.app) as Snapshot;
    const { response, request } = result;
    const rejected = response.status >= 400 || response.error !== undefined;
    if (rejected) {
      expect(
        withoutIntendedWrites(before, after, request),
        `${request.method} ${request.path} → ${response.status} changed the stores`,
      ).toEqual(before);
    }
    if (JSON.stringify(after) !== JSON.stringify(before)) {
      this.app = await buildFuzzApp();
    }
    return result;
  }
}

/**
 * A describe block of fuzz properties over one session: each test checks its share of generated
 * requests (`runs`, times DCR_FUZZ_RUNS) against every property of `FuzzSession.check`.
 */
export function describeFuzz(
  name: string,
  properties: readonly (readonly [
    title: string,
    requests: fc.Arbitrary<FuzzRequest>,
    runs: number,
  ])[],
): void {
  describe(name, () => {
    let session: FuzzSession;
    beforeAll(async () => {
      session = await FuzzSession.start();
    });
    for (const [title, requests, runs] of properties) {
      it(
        title,
        async () => {
          await fc.assert(
            fc.asyncProperty(requests, async (spec) => {
              await session.check(spec);
            }),
            fuzzParameters(runs),
          );
        },
        FUZZ_TIMEOUT_MS,
      );
    }
  });
}
