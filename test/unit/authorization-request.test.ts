import { describe, expect, it } from 'vitest';
import {
  type AuthorizationSettings,
  parseAuthorizationQuery,
  trustedRedirect,
  validateAuthorizationRequest,
} from '../../lambdas/core/authorization/authorization-request.js';
import type { ClientRecord, MetadataDocumentResult } from '../../lambdas/core/clients/ports.js';
import { OAuthError } from '../../lambdas/core/errors.js';

const REDIRECT = 'http://127.0.0.1:8765/callback';
const WEB_REDIRECT = 'https://app.example.com/cb?from=dcr';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const RESOURCE = 'https://mcp.example.com/mcp';

const record = (
  overrides: Partial<ClientRecord['metadata']> = {},
  extra: Partial<ClientRecord> = {},
): ClientRecord => ({
  clientId: 'client-1',
  metadata: {
    redirect_uris: [REDIRECT, WEB_REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    application_type: 'native',
    scope: 'read write',
    ...overrides,
  },
  clientIdIssuedAt: 1_800_000_000,
  clientSecretExpiresAt: 0,
  registrationTokenHash: 'h',
  version: 1,
  ...extra,
});

const CLIENTS: Record<string, MetadataDocumentResult> = {
  'client-1': { client: record() },
  'machine-1': {
    client: record(
      { grant_types: ['client_credentials'], response_types: [] },
      { clientId: 'machine-1' },
    ),
  },
  'https://app.example.com/client.json': { problem: 'its client_id does not match its URL' },
  'https://docs.example.com/nameless.json': {
    client: record(
      { scope: undefined },
      {
        clientId: 'https://docs.example.com/nameless.json',
        registrationMethod: 'metadata_document',
      },
    ),
  },
};
const resolve = async (id: string) => CLIENTS[id];

const SETTINGS: AuthorizationSettings = {
  allowedScopes: new Set(['read', 'write', 'admin']),
  resources: new Set([RESOURCE]),
};

const base: Record<string, string> = {
  response_type: 'code',
  client_id: 'client-1',
  redirect_uri: REDIRECT,
  state: 'xyz',
  code_challenge: CHALLENGE,
  code_challenge_method: 'S256',
};

/** The whole validation, as the flow runs it. */
async function validate(query: string, settings = SETTINGS) {
  const params = parseAuthorizationQuery(query);
  const { client, redirect } = await trustedRedirect(params, resolve);
  return validateAuthorizationRequest(params, client, redirect, settings);
}

const q = (overrides: Record<string, string | undefined>, extra = '') => {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...base, ...overrides }))
    if (v !== undefined) params.set(k, v);
  return params.toString() + extra;
};

/** How an error leaves the server: a page/JSON (no redirect) or a redirect to the client. */
async function outcome(query: string, settings = SETTINGS) {
  try {
    await validate(query, settings);
  } catch (error) {
    if (!(error instanceof OAuthError)) throw error;
    return {
      disposition: error.redirect ? 'redirect' : 'page',
      error: error.error,
      status: error.status,
      ...(error.redirect && { redirect: error.redirect }),
    };
  }
  return { disposition: 'ok' };
}

describe('authorization request: before the redirect URI is trusted (page, or JSON)', () => {
  it.each(
    [
      ['client_id missing', q({ client_id: undefined }), 'invalid_request', 400],
      ['client_id empty', q({ client_id: '' }), 'invalid_request', 400],
      ['client_id repeated', q({}, '&client_id=client-1'), 'invalid_request', 400],
      ['client_id too long', q({ client_id: 'x'.repeat(2001) }), 'invalid_request', 400],
      ['query too long', q({ state: 'x'.repeat(9000) }), 'invalid_request', 400],
      ['unknown client', q({ client_id: 'nobody' }), 'invalid_client', 401],
      [
        'unusable metadata document',
        q({ client_id: 'https://app.example.com/client.json' }),
        'invalid_client',
        401,
      ],
      ['redirect_uri missing', q({ redirect_uri: undefined }), 'invalid_request', 400],
      [
        'redirect_uri repeated',
        q({}, `&redirect_uri=${encodeURIComponent(REDIRECT)}`),
        'invalid_request',
        400,
      ],
      [
        'redirect_uri not registered',
        q({ redirect_uri: 'https://evil.example/cb' }),
        'unauthorized_client',
        400,
      ],
      [
        'other loopback path',
        q({ redirect_uri: 'http://127.0.0.1:8765/other' }),
        'unauthorized_client',
        400,
      ],
      [
        'localhost for 127.0.0.1',
        q({ redirect_uri: 'http://localhost:8765/callback' }),
        'unauthorized_client',
        400,
      ],
      [
        'registered query dropped',
        q({ redirect_uri: 'https://app.example.com/cb' }),
        'unauthorized_client',
        400,
      ],
      ['not a URI', q({ redirect_uri: 'javascript:alert(1)' }), 'unauthorized_client', 400],
    ].map(([name, query, error, status]) => ({ name, query, error, status })),
  )('$name → $error ($status)', async ({ query, error, status }) => {
    expect(await outcome(query as string)).toEqual({ disposition: 'page', error, status });
  });
});

describe('authorization request: after it is trusted (redirect with state)', () => {
  it.each(
    [
      ['another parameter repeated', q({}, '&response_type=code'), 'invalid_request'],
      ['response_type missing', q({ response_type: undefined }), 'invalid_request'],
      ['response_type token', q({ response_type: 'token' }), 'unsupported_response_type'],
      ['client without authorization_code', q({ client_id: 'machine-1' }), 'unauthorized_client'],
      ['response_mode fragment', q({ response_mode: 'fragment' }), 'invalid_request'],
      ['request object', q({ request: 'eyJ...' }), 'request_not_supported'],
      ['request_uri', q({ request_uri: 'urn:x' }), 'request_uri_not_supported'],
      ['code_challenge missing', q({ code_challenge: undefined }), 'invalid_request'],
      ['code_challenge_method missing', q({ code_challenge_method: undefined }), 'invalid_request'],
      ['code_challenge_method plain', q({ code_challenge_method: 'plain' }), 'invalid_request'],
      ['code_challenge too short', q({ code_challenge: CHALLENGE.slice(1) }), 'invalid_request'],
      [
        'code_challenge not base64url',
        q({ code_challenge: `${CHALLENGE.slice(1)}+` }),
        'invalid_request',
      ],
      ['scope not registered', q({ scope: 'admin' }), 'invalid_scope'],
      ['scope malformed', q({ scope: 'read  write' }), 'invalid_scope'],
      ['resource not served', q({ resource: 'https://other.example/' }), 'invalid_target'],
      ['prompt none with login', q({ prompt: 'none login' }), 'invalid_request'],
    ].map(([name, query, error]) => ({ name, query, error })),
  )('$name → $error', async ({ query, error }) => {
    expect(await outcome(query as string)).toEqual({
      disposition: 'redirect',
      error,
      status: 303,
      redirect: { uri: REDIRECT, state: 'xyz' },
    });
  });

  it('a state too long to keep is refused, and not echoed', async () => {
    expect(await outcome(q({ state: 'x'.repeat(1025) }))).toEqual({
      disposition: 'redirect',
      error: 'invalid_request',
      status: 303,
      redirect: { uri: REDIRECT },
    });
  });

  it('a scope no longer offered by the server is refused even if registered', async () => {
    const narrower = { ...SETTINGS, allowedScopes: new Set(['read']) };
    expect(await outcome(q({ scope: 'write' }), narrower)).toMatchObject({
      error: 'invalid_scope',
    });
  });
});

describe('authorization request: what is kept', () => {
  it('the redirect URI as sent (loopback port), state, challenge, resources, scope, prompts', async () => {
    const request = await validate(
      q(
        { redirect_uri: 'http://127.0.0.1:9999/callback', prompt: 'login consent', scope: 'write' },
        `&resource=${encodeURIComponent(RESOURCE)}&resource=${encodeURIComponent(RESOURCE)}`,
      ),
    );
    expect(request).toEqual({
      clientId: 'client-1',
      redirectUri: 'http://127.0.0.1:9999/callback',
      state: 'xyz',
      codeChallenge: CHALLENGE,
      resources: [RESOURCE],
      scope: 'write',
      forceLogin: true,
      forceConsent: true,
      noPrompt: false,
    });
  });

  it('a redirect URI with its registered query, normalised', async () => {
    const request = await validate(q({ redirect_uri: 'HTTPS://APP.example.com:443/cb?from=dcr' }));
    expect(request.redirectUri).toBe(WEB_REDIRECT);
  });

  it('no scope asked: the registered scopes still offered; OpenID scopes dropped silently', async () => {
    expect((await validate(q({}))).scope).toBe('read write');
    expect((await validate(q({}), { ...SETTINGS, allowedScopes: new Set(['write']) })).scope).toBe(
      'write',
    );
    expect((await validate(q({ scope: 'openid read offline_access' }))).scope).toBe('read');
    expect((await validate(q({ scope: 'openid profile email' }))).scope).toBeUndefined();
  });

  it('a metadata document without scope may ask for what the server offers', async () => {
    const id = 'https://docs.example.com/nameless.json';
    expect((await validate(q({ client_id: id, scope: 'admin' }))).scope).toBe('admin');
    expect((await validate(q({ client_id: id }))).scope).toBeUndefined();
    expect(await outcome(q({ client_id: id, scope: 'root' }))).toMatchObject({
      error: 'invalid_scope',
    });
  });

  it('no state, no resource: none kept (the default audience applies)', async () => {
    const request = await validate(q({ state: undefined }));
    expect(request.state).toBeUndefined();
    expect(request.resources).toEqual([]);
    expect(await outcome(q({ state: undefined, response_type: 'token' }))).toMatchObject({
      redirect: { uri: REDIRECT },
    });
  });

  it('never throws anything but an OAuthError, whatever the query', async () => {
    const pieces = [
      'client_id=client-1',
      `redirect_uri=${encodeURIComponent(REDIRECT)}`,
      'response_type=code',
      'scope=%00',
      'resource=',
      'state=%FF',
      'code_challenge=',
      'prompt=none',
      '%zz',
      '&&',
      '=',
      'client_id=%E0%A4%A',
    ];
    for (let i = 0; i < 500; i++) {
      const query = Array.from(
        { length: 1 + (i % 7) },
        (_, j) => pieces[(i * 7 + j * 13) % pieces.length],
      ).join('&');
      const result = await outcome(query);
      expect(['ok', 'page', 'redirect']).toContain(result.disposition);
    }
  });
});
