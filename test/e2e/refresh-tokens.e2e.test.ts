import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type InteractiveServer,
  publicClientGrants,
  startInteractiveServer,
  tokenRequest,
} from '../support/interactive.js';
import { type Json, jsonPost, readJson } from '../support/server.js';

/**
 * Refresh tokens as MCP clients use them day to day, over real HTTP on both targets: several
 * refreshes at once with one token (a client's parallel tool calls, or two windows sharing one
 * credential store), and what a dead refresh token answers (docs/tokens.md "Concurrent
 * refreshes").
 */
const REDIRECT = 'http://127.0.0.1:8765/callback';

async function publicClient(issuer: string, metadata: Json = {}) {
  const response = await jsonPost(`${issuer}/register`, {
    client_name: 'Refreshing agent',
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'none',
    ...metadata,
  });
  expect(response.status).toBe(201);
  const registered = await readJson(response);
  return { registered, grants: await publicClientGrants(issuer, registered.client_id, REDIRECT) };
}

/** A refresh token answered by a sign-in and a code exchange. */
async function signedIn(grants: Awaited<ReturnType<typeof publicClient>>['grants']) {
  const tokens = await readJson(await grants.redeem(await grants.signIn()));
  expect(tokens.refresh_token).toEqual(expect.any(String));
  return tokens.refresh_token as string;
}

/** Starts a server with `env`, and registers a public client there, for the enclosing describe. */
function serverWithClient(env: Record<string, string>) {
  const at = {} as { server: InteractiveServer; client: Awaited<ReturnType<typeof publicClient>> };
  beforeAll(async () => {
    at.server = await startInteractiveServer(env);
    at.client = await publicClient(at.server.app.issuer);
  });
  afterAll(() => at.server.close());
  return at;
}

const expectDead = async (response: Response) => {
  expect(response.status).toBe(400);
  expect(await readJson(response)).toMatchObject({ error: 'invalid_grant' });
};

/** The default settings (a 60 s grace window), with scopes configured. */
const at = serverWithClient({ DCR_ALLOWED_SCOPES: 'read write' });

describe('refresh tokens with the default reuse grace window', () => {
  it('8 concurrent refreshes with one token: 8 × 200, one successor, 8 access tokens', async () => {
    const parent = await signedIn(at.client.grants);
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => at.client.grants.refresh(parent)),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(200));
    const bodies: Json[] = await Promise.all(responses.map(readJson));
    const successors = new Set(bodies.map((b) => b.refresh_token));
    expect(successors.size).toBe(1);
    expect([...successors][0]).not.toBe(parent);
    expect(new Set(bodies.map((b) => b.access_token)).size).toBe(8);
    // The successor carries the family on.
    const next = await at.client.grants.refresh([...successors][0] as string);
    expect(next.status).toBe(200);
  });

  it('the parent presented after its successor was used ends the family', async () => {
    const parent = await signedIn(at.client.grants);
    const successor = (await readJson(await at.client.grants.refresh(parent))).refresh_token;
    const third = (await readJson(await at.client.grants.refresh(successor))).refresh_token;
    expect(third).toEqual(expect.any(String));
    await expectDead(await at.client.grants.refresh(parent));
    await expectDead(await at.client.grants.refresh(third));
  });

  it('every dead refresh token is 400 invalid_grant: unknown, malformed, revoked', async () => {
    const family = (await signedIn(at.client.grants)).split('.')[0];
    await expectDead(await at.client.grants.refresh(`${family}.${'A'.repeat(43)}`));
    await expectDead(await at.client.grants.refresh(`${'B'.repeat(22)}.${'A'.repeat(43)}`));
    await expectDead(await at.client.grants.refresh('not a refresh token'));
    const revoked = await signedIn(at.client.grants);
    const revocation = await fetch(`${at.server.app.issuer}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: at.client.registered.client_id, token: revoked }),
    });
    expect(revocation.status).toBe(200);
    await expectDead(await at.client.grants.refresh(revoked));
  });
});

describe('offline_access', () => {
  const issuer = () => at.server.app.issuer;

  it('is listed in scopes_supported beside the configured scopes', async () => {
    const metadata = await readJson(
      await fetch(`${issuer()}/.well-known/oauth-authorization-server`),
    );
    expect(metadata.scopes_supported).toEqual(['read', 'write', 'offline_access']);
  });

  it('is accepted at registration and in requests, and never reaches an access token', async () => {
    const { registered, grants } = await publicClient(issuer(), { scope: 'read offline_access' });
    expect(registered.scope).toBe('read');
    const tokens = await readJson(
      await grants.redeem(await grants.signIn({ scope: 'read offline_access' })),
    );
    expect(tokens.scope).toBe('read');
    expect(decodeJwt(tokens.access_token).scope).toBe('read');
    const refreshed = await readJson(
      await tokenRequest(issuer(), {
        grant_type: 'refresh_token',
        client_id: registered.client_id,
        refresh_token: tokens.refresh_token,
        scope: 'read offline_access',
      }),
    );
    expect(decodeJwt(refreshed.access_token).scope).toBe('read');
  });

  it('refresh tokens follow the registered grant types, asked for or not', async () => {
    const registeredForRefresh = await publicClient(issuer(), { scope: 'read' });
    const without = await readJson(
      await registeredForRefresh.grants.redeem(
        await registeredForRefresh.grants.signIn({ scope: 'read' }),
      ),
    );
    expect(without.refresh_token).toEqual(expect.any(String));
    const codeOnly = await publicClient(issuer(), { grant_types: ['authorization_code'] });
    const asked = await readJson(
      await codeOnly.grants.redeem(await codeOnly.grants.signIn({ scope: 'offline_access' })),
    );
    expect(asked.access_token).toEqual(expect.any(String));
    expect(asked).not.toHaveProperty('refresh_token');
  });
});

describe('refresh tokens once the grace window has passed', () => {
  const short = serverWithClient({ DCR_REFRESH_TOKEN_REUSE_GRACE_SECONDS: '1' });

  it('the parent presented after the window ends the family', async () => {
    const parent = await signedIn(short.client.grants);
    const successor = (await readJson(await short.client.grants.refresh(parent))).refresh_token;
    // One second, counted in whole seconds: two are surely past it.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    await expectDead(await short.client.grants.refresh(parent));
    await expectDead(await short.client.grants.refresh(successor));
  });
});

describe('refresh tokens with no grace window (0)', () => {
  const strict = serverWithClient({ DCR_REFRESH_TOKEN_REUSE_GRACE_SECONDS: '0' });

  it('one refresh token used 10 times at once: at most one success, and the family is revoked', async () => {
    const parent = await signedIn(strict.client.grants);
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => strict.client.grants.refresh(parent)),
    );
    const successes = responses.filter((r) => r.status === 200);
    expect(successes.length).toBeLessThanOrEqual(1);
    for (const r of responses.filter((r) => r.status !== 200)) await expectDead(r);
    // RFC 9700 §4.14.2: a refresh token used twice ends its family, the winner's new token too.
    const rotated = successes[0] && (await readJson(successes[0])).refresh_token;
    for (const token of [parent, rotated].filter(Boolean)) {
      await expectDead(await strict.client.grants.refresh(token));
    }
  });
});
