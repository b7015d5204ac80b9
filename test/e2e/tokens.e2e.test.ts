import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CryptoKey, exportJWK, generateKeyPair, SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalApp } from '../../local/app.js';
import { type Json, jsonPost, readJson, startTestServer } from '../support/server.js';

const RESOURCE = 'https://mcp.example.com/mcp';
const insecure = { [oauth.allowInsecureRequests]: true } as const;

let app: LocalApp;
let as: oauth.AuthorizationServer;
let dataDir: string;
let introspector: Json;

async function register(metadata: Record<string, unknown>): Promise<Json> {
  const response = await jsonPost(`${app.issuer}/register`, metadata);
  expect(response.status).toBe(201);
  return readJson(response);
}

const machine = (extra: Record<string, unknown> = {}) =>
  register({ grant_types: ['client_credentials'], scope: 'read write', ...extra });

beforeAll(async () => {
  // The operator names a resource server allowed to introspect any token: register it first,
  // then restart with its client_id configured (the data folder keeps it).
  dataDir = mkdtempSync(join(tmpdir(), 'dcr-tokens-'));
  app = await startTestServer({ DCR_DATA_DIR: dataDir, DCR_SIGNING_ALG: 'ES256' });
  introspector = await machine({ client_name: 'resource server' });
  const port = String(app.port);
  await app.close();
  app = await startTestServer({
    PORT: port,
    DCR_DATA_DIR: dataDir,
    DCR_SIGNING_ALG: 'ES256',
    DCR_RESOURCES: RESOURCE,
    DCR_ALLOWED_SCOPES: 'read write',
    DCR_INTROSPECTOR_CLIENT_IDS: introspector.client_id,
  });
  const issuer = new URL(app.issuer);
  as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
  );
});

afterAll(async () => {
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function tokenWith(
  registered: Json,
  auth: oauth.ClientAuth,
  parameters: Record<string, string> = {},
) {
  const c: oauth.Client = { client_id: registered.client_id };
  const response = await oauth.clientCredentialsGrantRequest(as, c, auth, parameters, insecure);
  return oauth.processClientCredentialsResponse(as, c, response);
}

/** What a resource server does: validate the token offline against the published JWKS. */
function validateAsResourceServer(accessToken: string, audience: string) {
  const request = new Request(RESOURCE, { headers: { authorization: `Bearer ${accessToken}` } });
  return oauth.validateJwtAccessToken(as, request, audience, insecure);
}

describe('discovery', () => {
  it('advertises the token, JWKS, introspection and revocation endpoints', () => {
    expect(as).toMatchObject({
      token_endpoint: `${app.issuer}/token`,
      jwks_uri: `${app.issuer}/.well-known/jwks.json`,
      introspection_endpoint: `${app.issuer}/introspect`,
      revocation_endpoint: `${app.issuer}/revoke`,
      grant_types_supported: expect.arrayContaining(['client_credentials']),
    });
  });

  it('publishes public keys only, with kid, alg and use', async () => {
    const response = await fetch(as.jwks_uri as string);
    expect(response.headers.get('cache-control')).toContain('max-age');
    const { keys } = await readJson(response);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(keys[0].kid).toEqual(expect.any(String));
    expect(keys[0]).not.toHaveProperty('d');
  });
});

describe('client_credentials with real clients', () => {
  it('oauth4webapi with client_secret_basic; the token validates as RFC 9068', async () => {
    const registered = await machine();
    const result = await tokenWith(registered, oauth.ClientSecretBasic(registered.client_secret), {
      scope: 'read',
      resource: RESOURCE,
    });
    expect(result.token_type).toBe('bearer');
    expect(result.expires_in).toBe(600);
    expect(result.scope).toBe('read');
    const claims = await validateAsResourceServer(result.access_token, RESOURCE);
    expect(claims).toMatchObject({
      iss: app.issuer,
      sub: registered.client_id,
      client_id: registered.client_id,
      aud: RESOURCE,
      scope: 'read',
    });
    expect(claims.exp - claims.iat).toBe(600);
    const header = JSON.parse(
      Buffer.from(result.access_token.split('.')[0] as string, 'base64url').toString(),
    );
    expect(header).toMatchObject({ typ: 'at+jwt', alg: 'ES256', kid: expect.any(String) });
  });

  it('oauth4webapi with client_secret_post; default scope and audience', async () => {
    const registered = await machine({ token_endpoint_auth_method: 'client_secret_post' });
    const result = await tokenWith(registered, oauth.ClientSecretPost(registered.client_secret));
    expect(result.scope).toBe('read write');
    const claims = await validateAsResourceServer(result.access_token, app.issuer);
    expect(claims.aud).toBe(app.issuer);
  });

  it('oauth4webapi with private_key_jwt', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const registered = await machine({
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1' }] },
    });
    expect(registered).not.toHaveProperty('client_secret');
    const result = await tokenWith(registered, oauth.PrivateKeyJwt({ key: privateKey, kid: 'k1' }));
    const claims = await validateAsResourceServer(result.access_token, app.issuer);
    expect(claims.client_id).toBe(registered.client_id);
  });

  it('openid-client clientCredentialsGrant', async () => {
    const registered = await machine();
    const config = new client.Configuration(
      as as client.ServerMetadata,
      registered.client_id,
      undefined,
      client.ClientSecretBasic(registered.client_secret),
    );
    client.allowInsecureRequests(config);
    const result = await client.clientCredentialsGrant(config, { scope: 'write' });
    expect(result.scope).toBe('write');
    expect(result.expires_in).toBe(600);
  });

  it('sends no-store and Pragma: no-cache with tokens', async () => {
    const registered = await machine();
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      { client_id: registered.client_id },
      oauth.ClientSecretBasic(registered.client_secret),
      {},
      insecure,
    );
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('pragma')).toBe('no-cache');
  });
});

describe('introspection and revocation with oauth4webapi', () => {
  const introspect = async (caller: Json, token: string) => {
    const c = { client_id: caller.client_id };
    const response = await oauth.introspectionRequest(
      as,
      c,
      oauth.ClientSecretBasic(caller.client_secret),
      token,
      insecure,
    );
    return oauth.processIntrospectionResponse(as, c, response);
  };
  const revoke = async (caller: Json, token: string) => {
    const response = await oauth.revocationRequest(
      as,
      { client_id: caller.client_id },
      oauth.ClientSecretBasic(caller.client_secret),
      token,
      insecure,
    );
    expect(response.status).toBe(200);
    return oauth.processRevocationResponse(response);
  };

  it('a client introspects its own token; a revoked one is inactive', async () => {
    const registered = await machine();
    const { access_token } = await tokenWith(
      registered,
      oauth.ClientSecretBasic(registered.client_secret),
    );
    const active = await introspect(registered, access_token);
    expect(active).toMatchObject({
      active: true,
      client_id: registered.client_id,
      scope: 'read write',
    });
    await revoke(registered, access_token);
    expect(await introspect(registered, access_token)).toEqual({ active: false });
  });

  it('another client sees {"active":false}; a configured resource server sees the token', async () => {
    const owner = await machine();
    const stranger = await machine();
    const { access_token } = await tokenWith(owner, oauth.ClientSecretBasic(owner.client_secret));
    expect(await introspect(stranger, access_token)).toEqual({ active: false });
    expect(await introspect(introspector, access_token)).toMatchObject({
      active: true,
      client_id: owner.client_id,
    });
  });

  it('revoking a foreign or unknown token is a silent 200 that changes nothing', async () => {
    const owner = await machine();
    const stranger = await machine();
    const { access_token } = await tokenWith(owner, oauth.ClientSecretBasic(owner.client_secret));
    await revoke(stranger, access_token);
    await revoke(stranger, 'not-a-token');
    expect((await introspect(owner, access_token)).active).toBe(true);
  });

  it('a garbage token introspects as exactly {"active":false}', async () => {
    const registered = await machine();
    const response = await fetch(`${app.issuer}/introspect`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${registered.client_id}:${registered.client_secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'token=garbage',
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('{"active":false}');
  });

  it('tokens of an expired client introspect inactive at once and it cannot get more', async () => {
    const expiresAt = Math.floor(Date.now() / 1000) + 2;
    const registered = await machine({ expires_at: expiresAt });
    const auth = oauth.ClientSecretBasic(registered.client_secret);
    const { access_token } = await tokenWith(registered, auth);
    expect((await introspect(introspector, access_token)).active).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, (expiresAt + 1) * 1000 - Date.now()));
    expect(await introspect(introspector, access_token)).toEqual({ active: false });
    await expect(tokenWith(registered, auth)).rejects.toMatchObject({ status: 401 });
  });

  it('tokens of a deleted client introspect inactive and the client cannot get more', async () => {
    const registered = await machine();
    const auth = oauth.ClientSecretBasic(registered.client_secret);
    const { access_token } = await tokenWith(registered, auth);
    const deleted = await fetch(registered.registration_client_uri, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${registered.registration_access_token}` },
    });
    expect(deleted.status).toBe(204);
    expect(await introspect(introspector, access_token)).toEqual({ active: false });
    // oauth4webapi surfaces the 401's WWW-Authenticate: Basic challenge.
    await expect(tokenWith(registered, auth)).rejects.toMatchObject({
      status: 401,
      cause: [expect.objectContaining({ scheme: 'basic' })],
    });
  });
});

describe('token endpoint error paths', () => {
  const basic = (id: string, secret: string) =>
    `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${app.issuer}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body,
    });

  const expectError = async (response: Response, status: number, error: string) => {
    const body = await readJson(response);
    expect({ status: response.status, error: body.error }).toEqual({ status, error });
    expect(body.error_description).toEqual(expect.any(String));
    expect(response.headers.get('cache-control')).toBe('no-store');
    return body;
  };

  it('wrong secret: 401 invalid_client with WWW-Authenticate: Basic', async () => {
    const registered = await machine();
    const response = await post('/token', 'grant_type=client_credentials', {
      authorization: basic(registered.client_id, 'wrong'),
    });
    await expectError(response, 401, 'invalid_client');
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
  });

  // DynamoDB refuses keys over 2048 bytes with a ValidationException: such identifiers must get
  // the endpoint's normal answer, never a 500 that outsiders could use to trip the 5xx alarm.
  it('identifiers far over any bound get the normal error, never a 5xx', async () => {
    const long = 'x'.repeat(3000);
    const form = 'grant_type=client_credentials';
    await expectError(
      await post('/token', form, { authorization: basic(long, 'secret') }),
      401,
      'invalid_client',
    );
    await expectError(
      await post('/token', `${form}&client_id=${long}&client_secret=s`),
      401,
      'invalid_client',
    );
    await expectError(await post('/token', `${form}&client_id=${long}`), 401, 'invalid_client');
    const assertion = `e30.${Buffer.from(JSON.stringify({ sub: long })).toString('base64url')}.c2ln`;
    await expectError(
      await post(
        '/token',
        `${form}&client_assertion_type=${encodeURIComponent('urn:ietf:params:oauth:client-assertion-type:jwt-bearer')}&client_assertion=${assertion}`,
      ),
      401,
      'invalid_client',
    );
    await expectError(
      await post('/introspect', `token=${long}`, { authorization: basic(long, 'secret') }),
      401,
      'invalid_client',
    );
    const configuration = await fetch(`${app.issuer}/register/${long}`, {
      headers: { authorization: `Bearer ${'t'.repeat(43)}` },
    });
    await expectError(configuration, 401, 'invalid_token');
  });

  it('unknown client: the same 401', async () => {
    const response = await post('/token', 'grant_type=client_credentials', {
      authorization: basic('unknown', 'secret'),
    });
    await expectError(response, 401, 'invalid_client');
  });

  it('unsupported grant types: 400 unsupported_grant_type', async () => {
    const registered = await machine();
    for (const grant of ['password', 'implicit', 'urn:ietf:params:oauth:grant-type:device_code']) {
      const response = await post('/token', `grant_type=${encodeURIComponent(grant)}`, {
        authorization: basic(registered.client_id, registered.client_secret),
      });
      await expectError(response, 400, 'unsupported_grant_type');
    }
  });

  it('a machine client asking for user grants: 400 unauthorized_client', async () => {
    const registered = await machine();
    for (const grant of ['authorization_code', 'refresh_token']) {
      const response = await post('/token', `grant_type=${grant}`, {
        authorization: basic(registered.client_id, registered.client_secret),
      });
      await expectError(response, 400, 'unauthorized_client');
    }
  });

  it('a client not registered for client_credentials: 400 unauthorized_client', async () => {
    const registered = await register({
      redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
    });
    const response = await post('/token', 'grant_type=client_credentials', {
      authorization: basic(registered.client_id, registered.client_secret),
    });
    await expectError(response, 400, 'unauthorized_client');
  });

  it('scope outside the registration: 400 invalid_scope', async () => {
    const registered = await machine();
    const response = await post('/token', 'grant_type=client_credentials&scope=read%20admin', {
      authorization: basic(registered.client_id, registered.client_secret),
    });
    const body = await expectError(response, 400, 'invalid_scope');
    expect(body.error_description).toContain('admin');
  });

  it('an unknown resource: 400 invalid_target', async () => {
    const registered = await machine();
    const response = await post(
      '/token',
      `grant_type=client_credentials&resource=${encodeURIComponent('https://evil.example/')}`,
      { authorization: basic(registered.client_id, registered.client_secret) },
    );
    await expectError(response, 400, 'invalid_target');
  });

  it('two authentication methods, a repeated parameter, a missing grant_type: 400 invalid_request', async () => {
    const registered = await machine();
    const authorization = basic(registered.client_id, registered.client_secret);
    await expectError(
      await post(
        '/token',
        `grant_type=client_credentials&client_id=${registered.client_id}&client_secret=x`,
        {
          authorization,
        },
      ),
      400,
      'invalid_request',
    );
    await expectError(
      await post('/token', 'grant_type=client_credentials&scope=read&scope=write', {
        authorization,
      }),
      400,
      'invalid_request',
    );
    await expectError(
      await post('/token', 'scope=read', { authorization }),
      400,
      'invalid_request',
    );
  });

  it('a JSON body: 400 invalid_request', async () => {
    const response = await jsonPost(`${app.issuer}/token`, { grant_type: 'client_credentials' });
    await expectError(response, 400, 'invalid_request');
  });

  it('no authentication at all: 401 invalid_client', async () => {
    await expectError(await post('/token', 'grant_type=client_credentials'), 401, 'invalid_client');
  });

  describe('private_key_jwt assertions', () => {
    let registered: Json;
    let privateKey: CryptoKey;

    beforeAll(async () => {
      const pair = await generateKeyPair('ES256', { extractable: true });
      privateKey = pair.privateKey;
      registered = await machine({
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [await exportJWK(pair.publicKey)] },
      });
    });

    const assertion = (claims: Record<string, unknown> = {}) =>
      new SignJWT({ jti: crypto.randomUUID(), ...claims })
        .setProtectedHeader({ alg: 'ES256' })
        .setIssuer(registered.client_id)
        .setSubject(registered.client_id)
        .setAudience((claims.aud as string | string[]) ?? app.issuer)
        .setIssuedAt()
        .setExpirationTime((claims.exp as number) ?? '60s')
        .sign(privateKey);

    const withAssertion = (jwt: string) =>
      post(
        '/token',
        new URLSearchParams({
          grant_type: 'client_credentials',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: jwt,
        }).toString(),
      );

    it('accepts an assertion once; a replay gets 401 invalid_client', async () => {
      const jwt = await assertion();
      expect((await withAssertion(jwt)).status).toBe(200);
      await expectError(await withAssertion(jwt), 401, 'invalid_client');
    });

    it('refuses a wrong audience', async () => {
      await expectError(
        await withAssertion(await assertion({ aud: 'https://other.example/token' })),
        401,
        'invalid_client',
      );
    });

    // The audience-injection attack on RFC 7523: only the issuer identifier, alone, is accepted.
    it('refuses the token endpoint, and the issuer among other audiences', async () => {
      for (const aud of [
        `${app.issuer}/token`,
        [`${app.issuer}/token`, 'https://other-as.example/token'],
        [app.issuer, 'https://other-as.example'],
      ]) {
        await expectError(await withAssertion(await assertion({ aud })), 401, 'invalid_client');
      }
      expect((await withAssertion(await assertion({ aud: [app.issuer] }))).status).toBe(200);
    });

    it('refuses a long-lived assertion', async () => {
      const exp = Math.floor(Date.now() / 1000) + 3600;
      await expectError(await withAssertion(await assertion({ exp })), 401, 'invalid_client');
    });

    it('refuses an assertion signed by another key', async () => {
      const other = await generateKeyPair('ES256');
      const jwt = await new SignJWT({ jti: crypto.randomUUID() })
        .setProtectedHeader({ alg: 'ES256' })
        .setIssuer(registered.client_id)
        .setSubject(registered.client_id)
        .setAudience(app.issuer)
        .setExpirationTime('60s')
        .sign(other.privateKey);
      await expectError(await withAssertion(jwt), 401, 'invalid_client');
    });
  });

  it('revocation without valid client authentication: 401', async () => {
    await expectError(
      await post('/revoke', 'token=x', { authorization: basic('unknown', 'x') }),
      401,
      'invalid_client',
    );
  });

  it('introspection without a token parameter: 400 invalid_request', async () => {
    await expectError(
      await post('/introspect', '', {
        authorization: basic(introspector.client_id, introspector.client_secret),
      }),
      400,
      'invalid_request',
    );
  });
});
