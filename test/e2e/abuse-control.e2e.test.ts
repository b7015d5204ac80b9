import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalApp } from '../../local/app.js';
import { type Json, jsonPost, readJson, startTestServer } from '../support/server.js';

const machine = { grant_types: ['client_credentials'], client_name: 'abuse e2e', scope: 'read' };
const publicClient = (redirectUri: string) => ({
  client_name: 'abuse e2e public',
  redirect_uris: [redirectUri],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A server of this describe block, started with `env`; the returned getter reads it. */
function serverWith(env: Record<string, string> = {}) {
  let app: LocalApp | undefined;
  beforeAll(async () => {
    app = await startTestServer(env);
  });
  afterAll(() => app?.close());
  return () => app as LocalApp;
}

/** Waits until at least `seconds` are left in the current fixed window of `length` seconds. */
async function awaitWindowRoom(length: number, seconds: number) {
  const now = Date.now() / 1000;
  const left = length - (now % length);
  if (left < seconds) await sleep(Math.ceil(left * 1000) + 50);
}

describe('anonymous registration rate limit (3/60)', () => {
  const server = serverWith({ DCR_REGISTRATION_RATE_LIMIT: '3/60' });

  it('the 4th anonymous registration in a window: 429, Retry-After, JSON error; a credential is not counted', async () => {
    const register = (headers: Record<string, string> = {}) =>
      jsonPost(`${server().issuer}/register`, machine, headers);
    await awaitWindowRoom(60, 15);
    // Requests presenting a credential are the registration policy's to judge, never counted.
    for (let i = 0; i < 4; i++) {
      expect((await register({ authorization: 'Bearer x' })).status).not.toBe(429);
    }
    for (let i = 0; i < 3; i++) expect((await register()).status).toBe(201);

    const refused = await register();
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('content-type')).toMatch(/^application\/json/);
    expect(refused.headers.get('cache-control')).toBe('no-store');
    expect(await readJson(refused)).toEqual({
      error: 'too_many_requests',
      error_description: expect.stringContaining('retry after'),
    });
    // Still not counted, still not refused for the rate.
    expect((await register({ authorization: 'Bearer x' })).status).not.toBe(429);
  });
});

describe('anonymous registration rate limit: the source is the connection (2/60)', () => {
  const server = serverWith({ DCR_REGISTRATION_RATE_LIMIT: '2/60' });

  it('a client-supplied X-Forwarded-For or Forwarded header does not make another source', async () => {
    const register = (headers: Record<string, string> = {}) =>
      jsonPost(`${server().issuer}/register`, machine, headers);
    await awaitWindowRoom(60, 15);
    for (let i = 0; i < 2; i++) expect((await register()).status).toBe(201);
    for (const headers of [
      { 'x-forwarded-for': '203.0.113.7' } as Record<string, string>,
      { 'x-forwarded-for': '198.51.100.1, 203.0.113.8' },
      { forwarded: 'for=203.0.113.9' },
      { 'x-real-ip': '203.0.113.10' },
    ]) {
      expect((await register(headers)).status).toBe(429);
    }
  });
});

describe('anonymous registration rate limit: recovery (1/2)', () => {
  const server = serverWith({ DCR_REGISTRATION_RATE_LIMIT: '1/2' });

  it('registers again once Retry-After has passed', async () => {
    const register = () => jsonPost(`${server().issuer}/register`, machine);
    let refused: Response | undefined;
    for (let i = 0; i < 5 && !refused; i++) {
      const response = await register();
      if (response.status === 429) refused = response;
      else expect(response.status).toBe(201);
    }
    expect(refused?.status).toBe(429);
    const retryAfter = Number(refused?.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(2);
    await sleep(retryAfter * 1000 + 50);
    expect((await register()).status).toBe(201);
  });
});

describe('redirect policy of anonymous clients (defaults)', () => {
  const server = serverWith();

  it.each([
    'https://claude.ai/api/mcp/auth_callback',
    'https://claude.com/api/mcp/auth_callback',
    'https://vscode.dev/redirect',
    'https://chatgpt.com/connector_platform_oauth_redirect',
    'http://127.0.0.1:6274/oauth/callback',
    'http://localhost:33418/callback',
    'cursor://anysphere.cursor-retrieval/oauth/user-abc/callback',
  ])('admits %s', async (uri) => {
    const response = await jsonPost(`${server().issuer}/register`, publicClient(uri));
    expect(response.status).toBe(201);
    expect((await readJson(response)).redirect_uris).toEqual([uri]);
  });

  it.each([
    'https://evil.example/callback',
    'https://claude.ai.evil.example/api/mcp/auth_callback',
    'com.example.app:/callback',
  ])('refuses %s with invalid_redirect_uri naming it', async (uri) => {
    const response = await jsonPost(`${server().issuer}/register`, publicClient(uri));
    expect(response.status).toBe(400);
    const body = await readJson(response);
    expect(body.error).toBe('invalid_redirect_uri');
    expect(body.error_description).toContain(uri);
  });

  it('holds an anonymous client to it on an RFC 7592 update', async () => {
    const created = await readJson(
      await jsonPost(
        `${server().issuer}/register`,
        publicClient('https://claude.ai/api/mcp/auth_callback'),
      ),
    );
    const {
      registration_access_token: token,
      registration_client_uri: uri,
      client_id_issued_at: _,
      client_secret_expires_at: __,
      ...metadata
    } = created;
    const update = (redirect: string) =>
      fetch(uri, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ ...metadata, redirect_uris: [redirect] }),
      });
    const refused = await update('https://evil.example/cb');
    expect(refused.status).toBe(400);
    expect(await readJson(refused)).toMatchObject({ error: 'invalid_redirect_uri' });
    const allowed = await update('https://claude.com/api/mcp/auth_callback');
    expect(allowed.status).toBe(200);
  });
});

describe('redirect policy of anonymous clients (configured)', () => {
  const server = serverWith({
    DCR_REDIRECT_HOSTS: '*.example.org',
    DCR_PRIVATE_USE_SCHEMES: 'com.example.app',
  });

  it.each([
    ['https://app.example.org/cb', 201],
    ['https://a.b.example.org/cb', 201],
    ['https://example.org/cb', 400],
    ['https://claude.ai/api/mcp/auth_callback', 400],
    ['com.example.app:/callback', 201],
    ['cursor://anysphere.cursor-retrieval/oauth/x/callback', 400],
    ['http://127.0.0.1:9999/cb', 201],
  ])('%s: %i', async (uri, status) => {
    const response = await jsonPost(`${server().issuer}/register`, publicClient(uri));
    expect(response.status).toBe(status);
  });
});

describe('active clients per software_id (DCR_SOFTWARE_ID_MAX_ACTIVE_CLIENTS=2)', () => {
  const server = serverWith({ DCR_SOFTWARE_ID_MAX_ACTIVE_CLIENTS: '2' });
  const register = (body: object) => jsonPost(`${server().issuer}/register`, body);

  it('admits N clients of one software at once, each software on its own; a leaving client frees its place', async () => {
    const fleet = { ...machine, software_id: `fleet-${Date.now()}` };
    const responses = await Promise.all(Array.from({ length: 6 }, () => register(fleet)));
    const admitted = responses.filter((r) => r.status === 201);
    expect(admitted).toHaveLength(2);
    for (const refused of responses.filter((r) => r.status !== 201)) {
      expect(refused.status).toBe(403);
      expect(await readJson(refused)).toEqual({
        error: 'access_denied',
        error_description: expect.stringContaining('most active clients this server allows (2)'),
      });
    }
    // Another software, and clients naming none, are not held to this one's count.
    expect((await register({ ...fleet, software_id: `${fleet.software_id}-b` })).status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await register(machine)).status).toBe(201);

    // An RFC 7592 update that renames the software keeps the place counted where it was taken.
    const [renamed, leaving] = (await Promise.all(admitted.map(readJson))) as [Json, Json];
    const update = await fetch(renamed.registration_client_uri, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${renamed.registration_access_token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        ...fleet,
        client_id: renamed.client_id,
        software_id: `${fleet.software_id}-c`,
      }),
    });
    expect(update.status).toBe(200);
    expect((await register(fleet)).status).toBe(403);

    const deleted = await fetch(leaving.registration_client_uri, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${leaving.registration_access_token}` },
    });
    expect(deleted.status).toBe(204);
    expect((await register(fleet)).status).toBe(201);
    expect((await register(fleet)).status).toBe(403);
  });
});
