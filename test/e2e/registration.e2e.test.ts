import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalApp } from '../../local/app.js';
import { jsonPost, readJson, startTestServer } from '../support/server.js';

let app: LocalApp;
let issuer: URL;

beforeAll(async () => {
  app = await startTestServer();
  issuer = new URL(app.issuer);
});
afterAll(() => app.close());

const registerUrl = () => `${app.issuer}/register`;
const machine = { grant_types: ['client_credentials'], client_name: 'e2e agent', scope: 'read' };

async function discover() {
  const response = await oauth.discoveryRequest(issuer, {
    algorithm: 'oauth2',
    [oauth.allowInsecureRequests]: true,
  });
  return oauth.processDiscoveryResponse(issuer, response);
}

describe('third-party clients', () => {
  it('oauth4webapi discovers the server and registers a client', async () => {
    const as = await discover();
    expect(as.issuer).toBe(app.issuer);
    expect(as.registration_endpoint).toBe(registerUrl());

    const response = await oauth.dynamicClientRegistrationRequest(as, machine, {
      [oauth.allowInsecureRequests]: true,
    });
    const registered = await oauth.processDynamicClientRegistrationResponse(response);
    expect(registered.client_id).toEqual(expect.any(String));
    expect(registered.client_secret).toEqual(expect.any(String));
    expect(registered.client_secret_expires_at).toBe(0);
    expect(registered.grant_types).toEqual(['client_credentials']);
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('oauth4webapi registers an MCP-style public client with a loopback redirect', async () => {
    const as = await discover();
    const response = await oauth.dynamicClientRegistrationRequest(
      as,
      {
        client_name: 'MCP client',
        redirect_uris: ['http://127.0.0.1:33418/callback'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      },
      { [oauth.allowInsecureRequests]: true },
    );
    const registered = await oauth.processDynamicClientRegistrationResponse(response);
    expect(registered.token_endpoint_auth_method).toBe('none');
    expect(registered.application_type).toBe('native');
    expect(registered).not.toHaveProperty('client_secret');
  });

  it.each(['oauth2', 'oidc'] as const)(
    'openid-client registers through %s discovery',
    async (algorithm) => {
      const config = await client.dynamicClientRegistration(
        issuer,
        { ...machine, token_endpoint_auth_method: 'client_secret_post' },
        undefined,
        { algorithm, execute: [client.allowInsecureRequests] },
      );
      const metadata = config.clientMetadata();
      expect(metadata.client_id).toEqual(expect.any(String));
      expect(metadata.client_secret).toEqual(expect.any(String));
      expect(config.serverMetadata().issuer).toBe(app.issuer);
    },
  );
});

describe('RFC 7592 cycle over HTTP', () => {
  it('reads, updates and deletes with the registration access token', async () => {
    const created = await readJson(await jsonPost(registerUrl(), machine));
    const auth = { authorization: `Bearer ${created.registration_access_token}` };
    const uri = created.registration_client_uri;
    expect(uri).toBe(`${app.issuer}/register/${created.client_id}`);

    const read = await fetch(uri, { headers: auth });
    expect(read.status).toBe(200);
    expect(read.headers.get('cache-control')).toBe('no-store');
    const current = await readJson(read);
    expect(current.registration_access_token).toBe(created.registration_access_token);
    expect(current).not.toHaveProperty('client_secret');

    const put = await fetch(uri, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: created.client_id,
        client_secret: created.client_secret,
        grant_types: ['client_credentials'],
        client_name: 'renamed',
      }),
    });
    expect(put.status).toBe(200);
    const updated = await readJson(put);
    expect(updated.client_name).toBe('renamed');
    expect(updated).not.toHaveProperty('scope');

    const stale = await fetch(uri, { headers: auth }).then(readJson);
    expect(stale.client_name).toBe('renamed');

    const deleted = await fetch(uri, { method: 'DELETE', headers: auth });
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');

    for (const method of ['GET', 'DELETE']) {
      const after = await fetch(uri, { method, headers: auth });
      expect(after.status).toBe(401);
      expect(after.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    }
  });

  it('lets one of two concurrent PUTs win and tells the other', async () => {
    const created = await readJson(await jsonPost(registerUrl(), machine));
    const put = (name: string) =>
      fetch(created.registration_client_uri, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${created.registration_access_token}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ client_id: created.client_id, ...machine, client_name: name }),
      });
    const statuses = (await Promise.all(Array.from({ length: 6 }, (_, i) => put(`n${i}`)))).map(
      (r) => r.status,
    );
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((s) => s === 200 || s === 409)).toBe(true);
  });
});

describe('error paths over HTTP', () => {
  const expectError = async (response: Response, status: number, error: string) => {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = await readJson(response);
    expect(body.error).toBe(error);
    expect(body.error_description).toEqual(expect.any(String));
    return body;
  };

  it.each([
    ['malformed JSON', '{"grant_types":', 400, 'invalid_request'],
    ['a JSON string', '"hello"', 400, 'invalid_request'],
    ['JSON null', 'null', 400, 'invalid_request'],
    ['a JSON array', '[1,2]', 400, 'invalid_request'],
    ['an http redirect', { redirect_uris: ['http://app.example/cb'] }, 400, 'invalid_redirect_uri'],
    [
      'a fragment redirect',
      { redirect_uris: ['https://app.example/cb#x'] },
      400,
      'invalid_redirect_uri',
    ],
    [
      'a javascript: redirect',
      { redirect_uris: ['javascript:alert(1)'] },
      400,
      'invalid_redirect_uri',
    ],
    ['a wrong type', { grant_types: 'client_credentials' }, 400, 'invalid_client_metadata'],
    [
      'a grant/response mismatch',
      { ...machine, response_types: ['code'] },
      400,
      'invalid_client_metadata',
    ],
    [
      'a software statement',
      { ...machine, software_statement: 'a.b.c' },
      400,
      'unapproved_software_statement',
    ],
  ])('POST /register with %s', async (_, body, status, error) => {
    await expectError(await jsonPost(registerUrl(), body), status, error);
  });

  it('a jwks key with a member this server does not use is invalid_client_metadata, however deep, and the server goes on', async () => {
    const key = {
      kty: 'EC',
      crv: 'P-256',
      x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
      y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
    };
    const keyClient = {
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'private_key_jwt',
    };
    let nested: unknown = 'x';
    for (let i = 0; i < 1000; i++) nested = { a: nested };
    for (const extra of [nested, { a: 1 }, 'text']) {
      const response = await jsonPost(registerUrl(), {
        ...keyClient,
        jwks: { keys: [{ ...key, extra }] },
      });
      const body = await expectError(response, 400, 'invalid_client_metadata');
      expect(body.error_description).toContain('jwks.keys[0]');
    }
    for (const bad of [{ ...key, x: { a: 1 } }, { ...key, x: 'x'.repeat(10_000) }, { kty: 'EC' }]) {
      const response = await jsonPost(registerUrl(), { ...keyClient, jwks: { keys: [bad] } });
      await expectError(response, 400, 'invalid_client_metadata');
    }
    const good = await jsonPost(registerUrl(), { ...keyClient, jwks: { keys: [key] } });
    expect(good.status).toBe(201);
    expect((await readJson(good)).jwks).toEqual({ keys: [key] });
  });

  it('refuses a non-JSON content type', async () => {
    const response = await fetch(registerUrl(), {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify(machine),
    });
    await expectError(response, 400, 'invalid_request');
  });

  it('answers 413 for a body over 64 KiB', async () => {
    const body = { ...machine, client_name: 'x'.repeat(100_000) };
    await expectError(await jsonPost(registerUrl(), body), 413, 'invalid_request');
  });

  it('answers 405 with Allow for a wrong method', async () => {
    const response = await fetch(registerUrl(), { method: 'PATCH' });
    expect(response.headers.get('allow')).toBe('POST, OPTIONS');
    await expectError(response, 405, 'invalid_request');
  });

  it('answers 404 with an RFC-shaped body for an unknown path', async () => {
    await expectError(await fetch(`${app.issuer}/nope`), 404, 'not_found');
  });

  it('PUT with a wrong client_id, a wrong secret or a server-managed field is refused', async () => {
    const created = await readJson(await jsonPost(registerUrl(), machine));
    const headers = {
      authorization: `Bearer ${created.registration_access_token}`,
      'content-type': 'application/json',
    };
    const put = (body: Record<string, unknown>) =>
      fetch(created.registration_client_uri, {
        method: 'PUT',
        headers,
        body: JSON.stringify(body),
      });
    await expectError(await put({ ...machine, client_id: 'other' }), 400, 'invalid_request');
    await expectError(
      await put({ ...machine, client_id: created.client_id, client_secret: 'wrong' }),
      400,
      'invalid_request',
    );
    await expectError(
      await put({ ...machine, client_id: created.client_id, registration_access_token: 'x' }),
      400,
      'invalid_request',
    );
    await expectError(
      await put({ client_id: created.client_id, grant_types: ['password'] }),
      400,
      'invalid_client_metadata',
    );
    // None of them changed anything.
    const current = await fetch(created.registration_client_uri, { headers }).then(readJson);
    expect(current.client_name).toBe(machine.client_name);
  });

  it('answers the same 401 for a wrong token and for an unknown client', async () => {
    const created = await readJson(await jsonPost(registerUrl(), machine));
    const wrong = await fetch(created.registration_client_uri, {
      headers: { authorization: 'Bearer wrong-token' },
    });
    const unknown = await fetch(`${app.issuer}/register/unknown`, {
      headers: { authorization: `Bearer ${created.registration_access_token}` },
    });
    const a = await expectError(wrong, 401, 'invalid_token');
    const b = await expectError(unknown, 401, 'invalid_token');
    expect(a).toEqual(b);
    expect(wrong.headers.get('www-authenticate')).toBe(unknown.headers.get('www-authenticate'));
  });

  it('treats a client past expires_at as gone at once', async () => {
    const expiresAt = Math.floor(Date.now() / 1000) + 2;
    const created = await readJson(
      await jsonPost(registerUrl(), { ...machine, expires_at: expiresAt }),
    );
    expect(created.expires_at).toBe(expiresAt);
    await new Promise((resolve) => setTimeout(resolve, (expiresAt + 1) * 1000 - Date.now()));
    const response = await fetch(created.registration_client_uri, {
      headers: { authorization: `Bearer ${created.registration_access_token}` },
    });
    await expectError(response, 401, 'invalid_token');
  });
});

describe('CORS and caching', () => {
  it('answers preflights for discovery, register and client configuration', async () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/register', '/register/abc']) {
      const response = await fetch(`${app.issuer}${path}`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
      });
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });

  it('serves the same cacheable metadata at both well-known paths', async () => {
    const a = await fetch(`${app.issuer}/.well-known/oauth-authorization-server`);
    const b = await fetch(`${app.issuer}/.well-known/openid-configuration`);
    expect(a.headers.get('cache-control')).toContain('max-age');
    expect(a.headers.get('access-control-allow-origin')).toBe('*');
    expect(await a.json()).toEqual(await b.json());
  });
});

describe('security headers', () => {
  it('sends nosniff on every response, and HSTS exactly when the issuer is https', async () => {
    const responses = [
      await fetch(`${app.issuer}/.well-known/oauth-authorization-server`),
      await fetch(`${app.issuer}/.well-known/jwks.json`),
      await jsonPost(registerUrl(), machine),
      await jsonPost(registerUrl(), '{'),
      await fetch(`${app.issuer}/nope`),
      await fetch(registerUrl(), { method: 'PATCH' }),
      await fetch(registerUrl(), {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
      }),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 200, 201, 400, 404, 405, 204]);
    // Locally the issuer is http://127.0.0.1; the stack serves an https one.
    const hsts = issuer.protocol === 'https:' ? 'max-age=63072000; includeSubDomains' : null;
    for (const response of responses) {
      expect(response.headers.get('x-content-type-options'), response.url).toBe('nosniff');
      expect(response.headers.get('strict-transport-security'), response.url).toBe(hsts);
    }
  });
});

describe('an issuer with a path', () => {
  it('serves metadata at the path-inserted and appended well-known URLs', async () => {
    const probe = await startTestServer();
    const origin = new URL(probe.issuer).origin;
    const port = String(probe.port);
    await probe.close();
    const tenant = await startTestServer({ PORT: port, DCR_ISSUER: `${origin}/tenant-a` });
    try {
      const inserted = await fetch(`${origin}/.well-known/oauth-authorization-server/tenant-a`);
      expect(inserted.status).toBe(200);
      const metadata = await readJson(inserted);
      expect(metadata.issuer).toBe(`${origin}/tenant-a`);
      expect(metadata.registration_endpoint).toBe(`${origin}/tenant-a/register`);
      const appended = await fetch(`${origin}/tenant-a/.well-known/openid-configuration`);
      expect(await appended.json()).toEqual(metadata);
      const registered = await jsonPost(metadata.registration_endpoint, machine);
      expect(registered.status).toBe(201);
      const outside = await fetch(`${origin}/register`, { method: 'POST' });
      expect(outside.status).toBe(404);
    } finally {
      await tenant.close();
    }
  });
});
