import { describe, expect, it } from 'vitest';
import {
  classifyRedirectUri,
  matchRedirectUri,
} from '../../lambdas/core/clients/client-metadata.js';
import { validateClientMetadata } from '../../lambdas/core/clients/metadata-validation.js';
import { OAuthError } from '../../lambdas/core/errors.js';

const NOW = 1_800_000_000;
const validate = (body: Record<string, unknown>, allowedScopes?: string[]) =>
  validateClientMetadata(body, allowedScopes ? { allowedScopes: new Set(allowedScopes) } : {}, NOW);

function rejection(body: Record<string, unknown>, allowedScopes?: string[]) {
  try {
    validate(body, allowedScopes);
  } catch (error) {
    if (error instanceof OAuthError) return error;
    throw error;
  }
  throw new Error('expected the metadata to be rejected');
}

const code = { redirect_uris: ['https://app.example.com/cb'] };
const machine = { grant_types: ['client_credentials'] };

describe('redirect URI rules', () => {
  it.each([
    ['https://app.example.com/cb', 'web'],
    ['https://app.example.com/cb?x=1', 'web'],
    ['http://127.0.0.1/cb', 'loopback'],
    ['http://127.0.0.1:53124/callback', 'loopback'],
    ['http://[::1]:8080/cb', 'loopback'],
    ['http://localhost:33418', 'loopback'],
    ['com.example.app:/oauth2redirect', 'private-use'],
    ['cursor://anysphere.cursor-retrieval/oauth/callback', 'private-use'],
  ])('accepts %s as %s', (uri, kind) => {
    expect(classifyRedirectUri(uri)).toBe(kind);
  });

  it.each([
    ['http://app.example.com/cb', 'loopback'],
    ['http://127.0.0.2.example.com/cb', 'loopback'],
    ['https://app.example.com/cb#frag', 'fragment'],
    ['https://app.example.com/cb#', 'fragment'],
    ['javascript:alert(1)', 'forbidden scheme'],
    ['data:text/html,hi', 'forbidden scheme'],
    ['file:///etc/passwd', 'forbidden scheme'],
    ['JavaScript:alert(1)', 'forbidden scheme'],
    ['/relative/cb', 'absolute'],
    ['not-a-uri', 'absolute'],
    // Parsers disagree on these: WHATWG reads host localhost, RFC 3986 parsers evil.example.
    ['http://localhost\\@evil.example/cb', 'characters'],
    ['http://127.0.0.1\\\\evil.example/cb', 'characters'],
    ['https://app.example.com/c\tb', 'characters'],
    ['https://app.example\n.com/cb', 'characters'],
    ['https://app.example.com/a b', 'characters'],
    ['https://app.example.com/"><script>', 'characters'],
    ['mailto:owner@app.example.com', 'forbidden scheme'],
    ['tel:+15550100', 'forbidden scheme'],
    ['intent://scan/#Intent;scheme=zxing;end', 'fragment'],
    ['intent://callback', 'forbidden scheme'],
    ['urn:ietf:wg:oauth:2.0:oob', 'forbidden scheme'],
    ['https://user:pass@app.example.com/cb', 'user information'],
    [`https://app.example.com/${'a'.repeat(2000)}`, 'longer than'],
  ])('refuses %s (%s)', (uri, why) => {
    const error = (() => {
      try {
        classifyRedirectUri(uri);
      } catch (e) {
        return e as OAuthError;
      }
    })();
    expect(error).toBeInstanceOf(OAuthError);
    expect(error?.error).toBe('invalid_redirect_uri');
    expect(error?.status).toBe(400);
    expect(error?.description).toContain(why);
  });

  it('stores the normalised form: lower-case punycode hosts, no default port, a path', () => {
    const { metadata } = validate({
      ...code,
      redirect_uris: [
        'https://BÜCHER.example/cb',
        'HTTP://LOCALHOST:80/callback',
        'https://app.example.com',
        'https://app.example.com/ä?q=ü',
        'https://app.example.com:443/cb',
      ],
    });
    expect(metadata.redirect_uris).toEqual([
      'https://xn--bcher-kva.example/cb',
      'http://localhost/callback',
      'https://app.example.com/',
      'https://app.example.com/%C3%A4?q=%C3%BC',
      'https://app.example.com/cb',
    ]);
  });

  it('allows private-use schemes only for native clients', () => {
    const uri = 'com.example.app:/cb';
    expect(validate({ redirect_uris: [uri] }).metadata.application_type).toBe('native');
    expect(rejection({ redirect_uris: [uri], application_type: 'web' }).error).toBe(
      'invalid_redirect_uri',
    );
  });

  it('a native client registers loopback, private-use and https redirects; a web client https only', () => {
    const native = [
      'http://127.0.0.1/cb',
      'cursor://anysphere.cursor-mcp/cb',
      'https://a.example/cb',
    ];
    expect(
      validate({ redirect_uris: native, application_type: 'native' }).metadata.redirect_uris,
    ).toEqual(native);
    for (const uri of ['http://127.0.0.1:33418/', 'http://localhost/cb', 'http://[::1]/cb']) {
      const refused = rejection({
        redirect_uris: ['https://a.example/cb', uri],
        application_type: 'web',
      });
      expect(refused.error).toBe('invalid_redirect_uri');
      expect(refused.description).toContain('native');
    }
    expect(
      validate({ redirect_uris: ['https://a.example/cb'], application_type: 'web' }).metadata
        .application_type,
    ).toBe('web');
  });

  it('takes an empty scope as no scope (the MCP Inspector registers one)', () => {
    const { metadata } = validate({ redirect_uris: ['http://localhost:6274/cb'], scope: '' });
    expect(metadata).not.toHaveProperty('scope');
    expect(validate({ ...code, scope: '' }, ['read']).metadata).not.toHaveProperty('scope');
  });

  it('derives application_type: native when every redirect is loopback or private-use', () => {
    expect(validate({ redirect_uris: ['http://127.0.0.1/cb'] }).metadata.application_type).toBe(
      'native',
    );
    expect(
      validate({ redirect_uris: ['http://127.0.0.1/cb', 'https://a.example/cb'] }).metadata
        .application_type,
    ).toBe('web');
    expect(validate(machine).metadata.application_type).toBe('web');
  });
});

describe('defaults (RFC 7591 §2)', () => {
  it('applies grant, response and auth method defaults', () => {
    const { metadata } = validate(code);
    expect(metadata).toMatchObject({
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      application_type: 'web',
    });
  });

  it('gives a client_credentials-only client no response types', () => {
    expect(validate(machine).metadata.response_types).toEqual([]);
  });

  it('drops unknown members and treats null as absent', () => {
    const { metadata } = validate({
      ...machine,
      foo: 'bar',
      client_name: null,
      'client_name#ja': 'x',
    });
    expect(metadata).not.toHaveProperty('foo');
    expect(metadata).not.toHaveProperty('client_name');
    expect(metadata).not.toHaveProperty('client_name#ja');
  });

  it('names the first wrong member in the order the metadata lists them, whatever the body order', () => {
    const wrong = { logo_uri: 'logo.png', scope: 'read  write', client_name: '' };
    const error = (() => {
      try {
        validate({ ...wrong, ...machine });
      } catch (e) {
        return e as OAuthError;
      }
    })();
    expect(error?.description).toMatch(/^client_name: /);
  });

  it('keeps the members in one order, whatever the body order', () => {
    const body = { ...machine, software_id: 'sw', client_name: 'a', contacts: ['a@b.example'] };
    const reversed = Object.fromEntries(Object.entries(body).reverse());
    const { metadata } = validate(reversed);
    expect(JSON.stringify(metadata)).toBe(JSON.stringify(validate(body).metadata));
    expect(Object.keys(metadata)).toEqual([
      'grant_types',
      'client_name',
      'contacts',
      'software_id',
      'response_types',
      'token_endpoint_auth_method',
      'application_type',
    ]);
  });

  it('omits absent fields instead of null or empty strings', () => {
    const { metadata } = validate(machine);
    for (const value of Object.values(metadata)) {
      expect(value).not.toBeNull();
      expect(value).not.toBe('');
    }
    expect(metadata).not.toHaveProperty('client_name');
    expect(metadata).not.toHaveProperty('redirect_uris');
  });

  it('removes duplicate grant types, redirect URIs and scopes', () => {
    const { metadata } = validate({
      redirect_uris: ['https://a.example/cb', 'https://a.example/cb'],
      grant_types: ['authorization_code', 'authorization_code', 'refresh_token'],
      scope: 'read read write',
    });
    expect(metadata.redirect_uris).toEqual(['https://a.example/cb']);
    expect(metadata.grant_types).toEqual(['authorization_code', 'refresh_token']);
    expect(metadata.scope).toBe('read write');
  });

  it('accepts names in any script, without control characters', () => {
    for (const client_name of ['エージェント', 'وكيل', 'agent 🤖', 'Café — v2']) {
      expect(validate({ ...machine, client_name }).metadata.client_name).toBe(client_name);
    }
  });

  it('returns the requested expires_at for the service to cap', () => {
    expect(validate({ ...machine, expires_at: NOW + 60 }).requestedExpiresAt).toBe(NOW + 60);
  });
});

const key = { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' };

describe('invalid_client_metadata, naming the field', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['redirect_uris not an array', { redirect_uris: 'https://a.example/cb' }, 'redirect_uris'],
    ['a redirect URI not a string', { redirect_uris: [42] }, 'redirect_uris[0]'],
    [
      'too many redirect URIs',
      { redirect_uris: Array(21).fill('https://a.example/cb') },
      'redirect_uris',
    ],
    ['unknown grant type', { grant_types: ['password'] }, 'grant_types[0]'],
    ['empty grant types', { grant_types: [] }, 'grant_types'],
    ['unknown response type', { ...code, response_types: ['token'] }, 'response_types[0]'],
    [
      'unknown auth method',
      { ...machine, token_endpoint_auth_method: 'client_secret_jwt' },
      'token_endpoint_auth_method',
    ],
    ['client_name a number', { ...machine, client_name: 7 }, 'client_name'],
    ['client_name empty', { ...machine, client_name: '' }, 'client_name'],
    ['client_name too long', { ...machine, client_name: 'x'.repeat(1001) }, 'client_name'],
    // Terminal escapes and bidi reordering in text that operators and users will read.
    ['client_name with ESC (CSI)', { ...machine, client_name: 'a\u001b[8mhidden' }, 'client_name'],
    [
      'client_name with an OSC 52 clipboard write',
      { ...machine, client_name: 'a\u001b]52;c;cm0gLXJmIH4=\u0007' },
      'client_name',
    ],
    ['client_name with a C1 CSI', { ...machine, client_name: 'a\u009b31m' }, 'client_name'],
    ['client_name with a newline', { ...machine, client_name: 'a\nb' }, 'client_name'],
    [
      'client_name with a bidi override',
      { ...machine, client_name: 'evil\u202Egnp.exe' },
      'client_name',
    ],
    ['client_name with a bidi isolate', { ...machine, client_name: 'a\u2067b' }, 'client_name'],
    ['software_id with a control', { ...machine, software_id: 'sw\u0000' }, 'software_id'],
    [
      'software_version with a control',
      { ...machine, software_version: '1\u007f' },
      'software_version',
    ],
    ['a contact with a control', { ...machine, contacts: ['a@b.example\r\n'] }, 'contacts[0]'],
    [
      'client_uri with a bidi mark',
      { ...machine, client_uri: 'https://a.example/\u200f' },
      'client_uri',
    ],
    ['logo_uri not a URL', { ...machine, logo_uri: 'logo.png' }, 'logo_uri'],
    ['client_uri javascript:', { ...machine, client_uri: 'javascript:alert(1)' }, 'client_uri'],
    ['contacts not an array', { ...machine, contacts: 'a@b.example' }, 'contacts'],
    ['scope with a bad character', { ...machine, scope: 'read "write"' }, 'scope'],
    ['scope with double spaces', { ...machine, scope: 'read  write' }, 'scope'],
    ['jwks_uri over http', { ...machine, jwks_uri: 'http://a.example/jwks' }, 'jwks_uri'],
    ['jwks without keys', { ...machine, jwks: {} }, 'jwks.keys'],
    [
      'jwks with a private key',
      { ...machine, jwks: { keys: [{ ...key, d: 'secret' }] } },
      'jwks.keys[0]',
    ],
    [
      'jwks with a symmetric key',
      { ...machine, jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } },
      'jwks.keys[0]',
    ],
    ['application_type unknown', { ...code, application_type: 'browser' }, 'application_type'],
    [
      'alg none',
      { ...machine, token_endpoint_auth_signing_alg: 'none' },
      'token_endpoint_auth_signing_alg',
    ],
    [
      'HS256',
      { ...machine, token_endpoint_auth_signing_alg: 'HS256' },
      'token_endpoint_auth_signing_alg',
    ],
    ['expires_at not an integer', { ...machine, expires_at: NOW + 0.5 }, 'expires_at'],
    ['expires_at a string', { ...machine, expires_at: String(NOW + 60) }, 'expires_at'],
    ['expires_at in the past', { ...machine, expires_at: NOW - 1 }, 'expires_at'],
    ['software_id too long', { ...machine, software_id: 'x'.repeat(256) }, 'software_id'],
    ['code grant without redirect URIs', { grant_types: ['authorization_code'] }, 'redirect_uris'],
    [
      'refresh_token without code',
      { grant_types: ['client_credentials', 'refresh_token'] },
      'refresh_token',
    ],
    [
      'response type code without the code grant',
      { ...machine, response_types: ['code'] },
      'response_types',
    ],
    ['code grant with no response types', { ...code, response_types: [] }, 'response_types'],
    [
      'public client with client_credentials',
      { ...machine, token_endpoint_auth_method: 'none' },
      'none',
    ],
    [
      'jwks and jwks_uri together',
      { ...machine, jwks: { keys: [key] }, jwks_uri: 'https://a.example/jwks' },
      'jwks',
    ],
    [
      'private_key_jwt without keys',
      { ...machine, token_endpoint_auth_method: 'private_key_jwt' },
      'private_key_jwt',
    ],
  ])('%s', (_, body, field) => {
    const error = rejection(body);
    expect(error.status).toBe(400);
    expect(error.error).toBe('invalid_client_metadata');
    expect(error.description).toContain(field);
  });

  it('refuses scopes the server does not offer', () => {
    const error = rejection({ ...machine, scope: 'read admin' }, ['read', 'write']);
    expect(error.error).toBe('invalid_client_metadata');
    expect(error.description).toContain('admin');
    expect(validate({ ...machine, scope: 'read' }, ['read', 'write']).metadata.scope).toBe('read');
  });

  // What the MCP SDKs register when the resource names no scopes: it must not break the flow.
  it('drops OpenID scopes instead of refusing them, whatever the server offers', () => {
    const mcp = { ...code, scope: 'openid email profile offline_access read' };
    expect(validate(mcp, ['read']).metadata.scope).toBe('read');
    expect(
      validate({ ...code, scope: 'openid email profile' }, ['read']).metadata,
    ).not.toHaveProperty('scope');
    expect(validate(mcp).metadata.scope).toBe('read');
  });
});

describe('software statements', () => {
  it('are refused with the RFC 7591 error, since none can be verified', () => {
    const error = rejection({ ...machine, software_statement: 'eyJhbGciOiJSUzI1NiJ9.e30.sig' });
    expect(error.status).toBe(400);
    expect(error.error).toBe('unapproved_software_statement');
  });
});

describe('accepted shapes', () => {
  it('keeps every understood member', () => {
    const body = {
      redirect_uris: ['https://a.example/cb'],
      token_endpoint_auth_method: 'private_key_jwt',
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      client_name: 'Agent',
      client_uri: 'https://a.example',
      logo_uri: 'https://a.example/logo.png',
      tos_uri: 'https://a.example/tos',
      policy_uri: 'https://a.example/policy',
      contacts: ['ops@a.example'],
      scope: 'read write',
      jwks: { keys: [key] },
      software_id: '4NRB1-0XZABZI9E6-5SM3R',
      software_version: '2.1',
      application_type: 'web',
      token_endpoint_auth_signing_alg: 'ES256',
    };
    expect(validate(body).metadata).toEqual(body);
  });
});

describe('redirect URI matching at the authorization endpoint', () => {
  const registered = [
    'https://app.example.com/cb',
    'http://localhost/callback',
    'http://127.0.0.1:8080/cb',
    'com.example.app:/oauth2redirect',
  ];

  it.each([
    ['https://app.example.com/cb', 'https://app.example.com/cb'],
    ['HTTPS://APP.example.com:443/cb', 'https://app.example.com/cb'],
    ['http://localhost:53124/callback', 'http://localhost:53124/callback'],
    ['http://localhost/callback', 'http://localhost/callback'],
    ['http://127.0.0.1:1/cb', 'http://127.0.0.1:1/cb'],
    ['http://127.0.0.1/cb', 'http://127.0.0.1/cb'],
    ['com.example.app:/oauth2redirect', 'com.example.app:/oauth2redirect'],
  ])('matches %s (as %s)', (requested, normalized) => {
    expect(matchRedirectUri(registered, requested)).toBe(normalized);
  });

  it.each([
    ['another path on a loopback host', 'http://localhost:53124/other'],
    ['another loopback host than registered', 'http://127.0.0.1:53124/callback'],
    ['another port on https', 'https://app.example.com:8443/cb'],
    ['a longer path', 'https://app.example.com/cb/more'],
    ['an added query', 'https://app.example.com/cb?x=1'],
    ['a trailing slash', 'https://app.example.com/cb/'],
    ['another host', 'https://evil.example/cb'],
    ['a backslash trick', 'http://localhost\\@evil.example/callback'],
    ['a fragment', 'https://app.example.com/cb#x'],
    ['something not a URI', 'cb'],
  ])('refuses %s', (_, requested) => {
    expect(matchRedirectUri(registered, requested)).toBeUndefined();
  });
});
