import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AdminClient } from '../../cli/admin-client.js';
import type { LocalApp } from '../../local/app.js';
import { publicClientGrants, tokenRequest } from '../support/interactive.js';
import { type Json, jsonPost, readJson } from '../support/server.js';
import { type StoreCall, startStackServer } from '../support/synthesized-stack.js';
import { startUpstream, type Upstream, upstreamEnv } from '../support/upstream.js';

/**
 * The synthesized stack with a function that dies mid-request: right after the store applied
 * its first write of a multi-write operation, the function's execution environment ends (as a
 * crash or a Lambda timeout ends it) and API Gateway answers 500. What is left must be
 * consistent, and the client's retry must neither double-spend nor find a half-written client:
 * the conditional writes prove it.
 */
const REDIRECT = 'http://127.0.0.1:8765/callback';
const machine = { grant_types: ['client_credentials'], client_name: 'agent' };

let upstream: Upstream;
let app: LocalApp;
let admin: AdminClient;
/** The next store call this matches kills its function (once). */
let crashOn: ((call: StoreCall) => boolean) | undefined;
const crashes: string[] = [];

beforeAll(async () => {
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'operator',
    AWS_SECRET_ACCESS_KEY: 'operator-secret',
  });
  upstream = await startUpstream();
  app = await startStackServer({
    cdkOut: inject('stack').cdkOut,
    tls: inject('tls'),
    env: { DCR_REGISTRATION_RATE_LIMIT: 'off', ...upstreamEnv(upstream) },
    crashAfter: (call) => {
      if (!crashOn?.(call)) return false;
      crashOn = undefined;
      crashes.push(`${call.functionId} ${call.operation}`);
      return true;
    },
  });
  upstream.configure([`${app.issuer}/callback`]);
  admin = new AdminClient({ url: app.issuer, sigv4: { region: 'local' } });
});
afterAll(async () => {
  await app.close();
  await upstream.close();
});

/** Arms the crash: after the first `operation` whose input mentions `touching`. */
const crashAfter = (operation: string, touching: string) => {
  crashes.length = 0;
  crashOn = (call) => call.operation === operation && call.input.includes(touching);
};

/** What API Gateway answers when the function dies mid-request. */
async function expectCrashed(response: Response, where: string) {
  expect(crashes).toEqual([expect.stringContaining(where)]);
  expect(response.status).toBe(500);
  await response.arrayBuffer();
}

const register = async (body: Json = machine, headers: Record<string, string> = {}) => {
  const response = await jsonPost(`${app.issuer}/register`, body, headers);
  expect(response.status).toBe(201);
  return readJson(response);
};
type Grants = Awaited<ReturnType<typeof publicClientGrants>>;
const listed = async (clientId: string) => {
  const { status } = await admin.request('GET', `/clients/${encodeURIComponent(clientId)}`);
  return status;
};

describe('a function dying after its first write', () => {
  it('RFC 7592 delete, after the marker: the client is gone at once, the retry finishes (204), the item goes', async () => {
    const agent = await register();
    const remove = () =>
      fetch(agent.registration_client_uri, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${agent.registration_access_token}` },
      });
    crashAfter('UpdateItem', `client#${agent.client_id}`);
    await expectCrashed(await remove(), 'clientconfiguration');
    const basic = Buffer.from(`${agent.client_id}:${agent.client_secret}`).toString('base64');
    const token = await tokenRequest(
      app.issuer,
      { grant_type: 'client_credentials' },
      { authorization: `Basic ${basic}` },
    );
    expect(token.status).toBe(401);
    expect((await remove()).status).toBe(204);
    expect(await listed(agent.client_id)).toBe(404);
    expect((await remove()).status).toBe(401);
  });

  it('registration with an initial access token, after its use was counted: no client, and no use beyond max_uses', async () => {
    const { status, body } = await admin.request('POST', '/initial-access-tokens', {
      max_uses: 1,
    });
    expect(status).toBe(201);
    const iat = body as Json;
    const bearer = { authorization: `Bearer ${iat.initial_access_token}` };
    crashAfter('UpdateItem', `iat#${iat.id}`);
    await expectCrashed(await jsonPost(`${app.issuer}/register`, machine, bearer), 'register');
    const { body: tokens } = await admin.request('GET', '/initial-access-tokens');
    const listedToken = (tokens as { initial_access_tokens: Json[] }).initial_access_tokens.find(
      (t) => t.id === iat.id,
    );
    // The use is burned (docs/registration.md "Registration policy": a client too few, never one too many) …
    expect(listedToken).toMatchObject({ uses: 1, max_uses: 1 });
    // … so the retry cannot register a second client under a single-use token.
    const retried = await jsonPost(`${app.issuer}/register`, machine, bearer);
    expect(retried.status).toBe(401);
    const { body: clients } = await admin.request('GET', '/clients?limit=500');
    const registered = (clients as { clients: Json[] }).clients.filter(
      (c) => c.initial_access_token_id === iat.id,
    );
    expect(registered).toEqual([]);
  });

  describe('user grants', () => {
    let signIn: Grants['signIn'];
    let redeem: Grants['redeem'];
    let refresh: Grants['refresh'];
    beforeAll(async () => {
      const mcp = await register({
        client_name: 'mcp',
        redirect_uris: [REDIRECT],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'none',
      });
      ({ signIn, redeem, refresh } = await publicClientGrants(app.issuer, mcp.client_id, REDIRECT));
    });

    it('code redemption, after the code was spent: the retry is refused (invalid_grant), the code cannot be spent twice', async () => {
      const grant = await signIn();
      crashAfter('UpdateItem', 'code#');
      await expectCrashed(await redeem(grant), 'token');
      const retried = await redeem(grant);
      expect(retried.status).toBe(400);
      expect((await readJson(retried)).error).toBe('invalid_grant');
    });

    it('refresh rotation, after the rotation was written: every retry within the grace window gets the one successor the crash lost', async () => {
      const tokens = await readJson(await redeem(await signIn()));
      expect(tokens.refresh_token).toEqual(expect.any(String));
      const grantId = (tokens.refresh_token as string).split('.')[0];
      crashAfter('UpdateItem', `grant#${grantId}`);
      await expectCrashed(await refresh(tokens.refresh_token), 'token');
      const successors = new Set<string>();
      for (let attempt = 0; attempt < 2; attempt++) {
        const retried = await refresh(tokens.refresh_token);
        expect(retried.status).toBe(200);
        successors.add((await readJson(retried)).refresh_token);
      }
      expect(successors.size).toBe(1);
      // The successor is the family's current token; once it was used, the old one is a reuse.
      expect((await refresh([...successors][0] as string)).status).toBe(200);
      const reused = await refresh(tokens.refresh_token);
      expect(reused.status).toBe(400);
      expect((await readJson(reused)).error).toBe('invalid_grant');
    });
  });
});
