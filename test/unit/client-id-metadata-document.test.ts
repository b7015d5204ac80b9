import { describe, expect, it } from 'vitest';
import { cacheSeconds } from '../../lambdas/adapters/fetch/metadata-documents.js';
import {
  clientFromMetadataDocument,
  clientIdUrlProblem,
} from '../../lambdas/core/clients/client-id-metadata-document.js';
import { METADATA_DOCUMENT } from '../../lambdas/core/clients/client-lifecycle.js';

const URL_ = 'https://app.example.com/oauth/client.json';
const NOW = 1_800_000_000;

const documentFor = (extra: Record<string, unknown> = {}) => ({
  client_id: URL_,
  client_name: 'Example MCP client',
  redirect_uris: ['http://127.0.0.1/callback', 'https://app.example.com/cb'],
  ...extra,
});

const resolve = (document: unknown, url = URL_) =>
  clientFromMetadataDocument(url, JSON.stringify(document), NOW);

const problemOf = (document: unknown) => {
  const result = resolve(document);
  if (!('problem' in result)) throw new Error('expected a problem');
  return result.problem;
};

describe('client_id URL rules', () => {
  it.each([
    ['a path', 'https://app.example.com/client.json'],
    ['a nested path with a query', 'https://app.example.com/a/b/client?v=1'],
    ['a port', 'https://app.example.com:8443/client'],
    ['dots inside a segment', 'https://app.example.com/v1.2/client..json'],
  ])('accepts %s', (_, url) => {
    expect(clientIdUrlProblem(url)).toBeUndefined();
  });

  it.each([
    ['http', 'http://app.example.com/client.json', /https/],
    ['no path', 'https://app.example.com', /no path/],
    ['the root path', 'https://app.example.com/', /no path/],
    ['the root path with a query', 'https://app.example.com/?client=1', /no path/],
    ['a fragment', 'https://app.example.com/client.json#x', /fragment/],
    ['an empty fragment', 'https://app.example.com/client.json#', /fragment/],
    ['user information', 'https://user@app.example.com/client.json', /user information/],
    ['a user and password', 'https://u:p@app.example.com/client.json', /user information/],
    ['a "." segment', 'https://app.example.com/./client.json', /"\." or "\.\."/],
    ['a ".." segment', 'https://app.example.com/a/../client.json', /"\." or "\.\."/],
    ['a trailing ".." segment', 'https://app.example.com/a/..', /"\." or "\.\."/],
    ['a percent-encoded "."', 'https://app.example.com/%2e/client.json', /"\." or "\.\."/],
    ['a percent-encoded ".."', 'https://app.example.com/a/%2E%2e/client.json', /"\." or "\.\."/],
    ['a half-encoded ".."', 'https://app.example.com/a/.%2e/client.json', /"\." or "\.\."/],
    ['a space', 'https://app.example.com/my client.json', /whitespace/],
    ['a tab', 'https://app.example.com/client\t.json', /whitespace/],
    ['a newline', 'https://app.example.com/client.json\n', /whitespace/],
    ['a control character', 'https://app.example.com/client\u0000.json', /control/],
    ['a DEL', 'https://app.example.com/client\u007f.json', /control/],
    ['a backslash', 'https://app.example.com\\@evil.example/client.json', /backslash/],
    ['no host', 'https:///client.json', /no host/],
    ['over 2000 characters', `https://app.example.com/${'a'.repeat(2000)}`, /longer than 2000/],
    ['an upper-case scheme', 'HTTPS://app.example.com/client.json', /https/],
  ])('refuses %s', (_, url, why) => {
    expect(clientIdUrlProblem(url)).toMatch(why);
  });
});

describe('metadata document rules', () => {
  it('a valid document is a public client described by the document, never stored', () => {
    const result = resolve(
      documentFor({
        grant_types: ['authorization_code', 'refresh_token'],
        scope: 'read write',
        logo_uri: 'https://app.example.com/logo.png',
      }),
    );
    expect(result).toEqual({
      client: {
        clientId: URL_,
        metadata: {
          client_name: 'Example MCP client',
          redirect_uris: ['http://127.0.0.1/callback', 'https://app.example.com/cb'],
          scope: 'read write',
          logo_uri: 'https://app.example.com/logo.png',
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
          application_type: 'web',
        },
        clientIdIssuedAt: NOW,
        clientSecretExpiresAt: 0,
        registrationTokenHash: '',
        version: 0,
        registrationMethod: METADATA_DOCUMENT,
      },
    });
  });

  it('token_endpoint_auth_method none is accepted; absent means none', () => {
    for (const document of [documentFor(), documentFor({ token_endpoint_auth_method: 'none' })]) {
      const result = resolve(document);
      expect('client' in result && result.client.metadata.token_endpoint_auth_method).toBe('none');
    }
  });

  it('unsupported grant types are dropped, not fatal', () => {
    const result = resolve(
      documentFor({ grant_types: ['authorization_code', 'client_credentials', 'urn:x:y'] }),
    );
    expect('client' in result && result.client.metadata.grant_types).toEqual([
      'authorization_code',
    ]);
  });

  it('a document with none of the grants such clients use is refused', () => {
    expect(problemOf(documentFor({ grant_types: ['client_credentials'] }))).toMatch(
      /grant_types include none of authorization_code, refresh_token/,
    );
  });

  it('unknown members are ignored; expires_at (a registration extension) too', () => {
    const result = resolve(documentFor({ foo: 'bar', expires_at: 1 }));
    expect('client' in result && result.client.metadata).not.toHaveProperty('foo');
    expect('client' in result && result.client.metadata).not.toHaveProperty('expires_at');
  });

  it.each([
    ['not JSON', '{"client_id":', /not valid JSON/],
    ['an array', JSON.stringify([documentFor()]), /not a JSON object/],
    ['a string', JSON.stringify(URL_), /not a JSON object/],
    ['null', 'null', /not a JSON object/],
  ])('refuses a document that is %s', (_, text, why) => {
    const result = clientFromMetadataDocument(URL_, text, NOW);
    expect('problem' in result && result.problem).toMatch(why);
  });

  it.each([
    ['missing', { client_id: undefined }],
    ['another URL', { client_id: 'https://app.example.com/other.json' }],
    ['the URL with a trailing slash', { client_id: `${URL_}/` }],
    ['the URL in other case', { client_id: URL_.toUpperCase() }],
    ['not a string', { client_id: [URL_] }],
  ])('refuses a client_id that is %s', (_, extra) => {
    expect(problemOf(documentFor(extra))).toBe('its client_id is not the URL it was fetched from');
  });

  it.each([
    ['client_secret', { client_secret: 's3cret' }],
    ['client_secret_expires_at', { client_secret_expires_at: 0 }],
  ])('refuses a document holding %s', (_, extra) => {
    expect(problemOf(documentFor(extra))).toMatch(/client secret/);
  });

  it.each(['client_secret_basic', 'client_secret_post', 'tls_client_auth'])(
    'refuses token_endpoint_auth_method %s (such clients hold no secret)',
    (method) => {
      expect(problemOf(documentFor({ token_endpoint_auth_method: method }))).toMatch(
        /token_endpoint_auth_method .* public.*private_key_jwt/,
      );
    },
  );

  it('takes private_key_jwt with published keys (ChatGPT), and refuses it without keys', () => {
    const jwks_uri = 'https://app.example.com/oauth/jwks.json';
    const result = resolve(
      documentFor({
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
        token_endpoint_auth_signing_alg: 'RS256',
        jwks_uri,
      }),
    );
    expect('client' in result && result.client.metadata).toMatchObject({
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'RS256',
      jwks_uri,
    });
    expect(problemOf(documentFor({ token_endpoint_auth_method: 'private_key_jwt' }))).toMatch(
      /private_key_jwt requires jwks or jwks_uri/,
    );
  });

  it('refuses private key material in jwks', () => {
    const jwks = { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'private' }] };
    expect(problemOf(documentFor({ jwks }))).toMatch(/jwks.*public keys only/);
  });

  it.each([
    ['missing', { redirect_uris: undefined }, /redirect_uris: required/],
    ['empty', { redirect_uris: [] }, /redirect_uris: required/],
    ['http on a public host', { redirect_uris: ['http://app.example.com/cb'] }, /not loopback/],
    ['with a fragment', { redirect_uris: ['https://app.example.com/cb#x'] }, /fragment/],
    ['javascript:', { redirect_uris: ['javascript:alert(1)'] }, /forbidden scheme/],
    [
      'a private-use scheme for a web client',
      { redirect_uris: ['com.example.app:/cb', 'https://app.example.com/cb'] },
      /native clients only/,
    ],
    ['not strings', { redirect_uris: [42] }, /redirect_uris\[0\]/],
  ])('refuses redirect_uris %s', (_, extra, why) => {
    expect(problemOf(documentFor(extra))).toMatch(why);
  });

  it('refuses control and bidi characters in names', () => {
    expect(problemOf(documentFor({ client_name: 'Good\u202Eeviл' }))).toMatch(
      /client_name: must not contain control/,
    );
  });
});

describe('metadata document caching headers', () => {
  const at = NOW;
  const httpDate = (seconds: number) => new Date(seconds * 1000).toUTCString();
  it.each([
    ['nothing said: the default, 5 minutes', {}, 300],
    ['max-age', { 'cache-control': 'public, max-age=600' }, 600],
    ['max-age over 24 hours: capped', { 'cache-control': 'max-age=31536000' }, 86_400],
    ['no-store', { 'cache-control': 'max-age=600, no-store' }, 0],
    ['no-cache', { 'cache-control': 'No-Cache' }, 0],
    ['max-age before Expires', { 'cache-control': 'max-age=60', expires: httpDate(at + 900) }, 60],
    ['Expires', { expires: httpDate(at + 900) }, 900],
    ['Expires in the past', { expires: httpDate(at - 900) }, 0],
    ['an Expires that is no date', { expires: '0' }, 0],
    ['Expires beyond 24 hours: capped', { expires: httpDate(at + 7 * 86_400) }, 86_400],
  ])('%s', (_, headers, seconds) => {
    expect(cacheSeconds(headers, at)).toBe(seconds);
  });
});
