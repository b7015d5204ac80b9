import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalApp } from '../../local/app.js';
import { tokenRequest } from '../support/interactive.js';
import { auditEvents } from '../support/secret-hygiene.js';
import { type Json, jsonPost, readJson, startTestServer } from '../support/server.js';

/**
 * RFC 8693 token exchange over HTTP, on the local server and the synthesized stack: two resource
 * servers (the operator's introspector clients) exchange an agent's access token for tokens to
 * other resources, acting for its subject, the actors chained in `act`.
 */
const RESOURCE_A = 'https://a.example/mcp';
const RESOURCE_B = 'https://b.example/mcp';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

let app: LocalApp;
let dataDir: string;
let serverA: Json;
let serverB: Json;
let agent: Json;
/** What the server answered to an exchange before DCR_TOKEN_EXCHANGE was on. */
let whenOff: Json;

const basic = (c: Json) =>
  `Basic ${Buffer.from(`${encodeURIComponent(c.client_id)}:${encodeURIComponent(c.client_secret)}`).toString('base64')}`;

const register = async (name: string) => {
  const response = await jsonPost(`${app.issuer}/register`, {
    client_name: name,
    grant_types: ['client_credentials'],
    scope: 'read write',
  });
  expect(response.status).toBe(201);
  return readJson(response);
};

/** The agent's own access token for resource A. */
const agentToken = async (scope = 'read write') =>
  (
    await readJson(
      await tokenRequest(
        app.issuer,
        { grant_type: 'client_credentials', resource: RESOURCE_A, scope },
        { authorization: basic(agent) },
      ),
    )
  ).access_token as string;

const exchange = (as: Json | null, subject: string, extra: Record<string, string> = {}) =>
  tokenRequest(
    app.issuer,
    {
      grant_type: TOKEN_EXCHANGE,
      subject_token: subject,
      subject_token_type: ACCESS_TOKEN,
      resource: RESOURCE_B,
      ...extra,
    },
    as === null ? {} : { authorization: basic(as) },
  );

const claimsOf = async (token: string) =>
  (await jwtVerify(token, createRemoteJWKSet(new URL(`${app.issuer}/.well-known/jwks.json`))))
    .payload as Json;

beforeAll(async () => {
  // The operator names the resource servers: register them first, then restart with their
  // client_ids configured (the data folder keeps them).
  dataDir = mkdtempSync(join(tmpdir(), 'dcr-exchange-'));
  const common = {
    DCR_DATA_DIR: dataDir,
    DCR_RESOURCES: `${RESOURCE_A} ${RESOURCE_B}`,
    DCR_ALLOWED_SCOPES: 'read write',
  };
  app = await startTestServer(common);
  serverA = await register('resource server A');
  serverB = await register('resource server B');
  agent = await register('agent');
  whenOff = await readJson(await exchange(serverA, await agentToken()));
  const port = String(app.port);
  await app.close();
  app = await startTestServer({
    ...common,
    PORT: port,
    DCR_TOKEN_EXCHANGE: 'on',
    DCR_INTROSPECTOR_CLIENT_IDS: `${serverA.client_id} ${serverB.client_id}`,
  });
});

afterAll(async () => {
  await app?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('token exchange (RFC 8693)', () => {
  it('is off by default, and listed in discovery when on', async () => {
    expect(whenOff.error).toBe('unsupported_grant_type');
    const metadata = await readJson(
      await fetch(`${app.issuer}/.well-known/oauth-authorization-server`),
    );
    expect(metadata.grant_types_supported).toContain(TOKEN_EXCHANGE);
  });

  it('gives a resource server a token for another resource, acting for the same subject', async () => {
    const subject = await agentToken();
    const response = await exchange(serverA, subject, { scope: 'read' });
    expect(response.status).toBe(200);
    const body = await readJson(response);
    expect(body).toMatchObject({
      issued_token_type: ACCESS_TOKEN,
      token_type: 'Bearer',
      scope: 'read',
    });
    expect(body.refresh_token).toBeUndefined();
    const [held, issued] = [await claimsOf(subject), await claimsOf(body.access_token)];
    expect(issued).toMatchObject({
      sub: agent.client_id,
      client_id: serverA.client_id,
      aud: RESOURCE_B,
      scope: 'read',
      act: { sub: serverA.client_id },
    });
    expect(issued.exp).toBeLessThanOrEqual(held.exp);
  });

  it('nests the actors when an exchanged token is exchanged again', async () => {
    const first = await readJson(await exchange(serverA, await agentToken()));
    const second = await readJson(
      await exchange(serverB, first.access_token, { resource: RESOURCE_A }),
    );
    expect(await claimsOf(second.access_token)).toMatchObject({
      sub: agent.client_id,
      client_id: serverB.client_id,
      act: { sub: serverB.client_id, act: { sub: serverA.client_id } },
    });
  });

  it('audits each exchanged token with its actor chain, subject and resource, never a token', async () => {
    const subject = await agentToken();
    const first = await readJson(await exchange(serverA, subject, { scope: 'read' }));
    const second = await readJson(
      await exchange(serverB, first.access_token, { resource: RESOURCE_A }),
    );
    const [held, once, twice] = [
      await claimsOf(subject),
      await claimsOf(first.access_token),
      await claimsOf(second.access_token),
    ];
    const events = await auditEvents();
    const about = (jti: string) => events.filter((e) => e.jti === jti);
    expect(about(once.jti)).toEqual([
      {
        type: 'token.exchanged',
        sub: agent.client_id,
        client_id: serverA.client_id,
        aud: RESOURCE_B,
        scope: 'read',
        act: { sub: serverA.client_id },
        jti: once.jti,
        exp: once.exp,
        subject_jti: held.jti,
        subject_client_id: agent.client_id,
        occurred_at: once.iat,
      },
    ]);
    expect(about(twice.jti)).toEqual([
      expect.objectContaining({
        type: 'token.exchanged',
        client_id: serverB.client_id,
        aud: RESOURCE_A,
        act: { sub: serverB.client_id, act: { sub: serverA.client_id } },
        subject_jti: once.jti,
        subject_client_id: serverA.client_id,
      }),
    ]);
    const lines = JSON.stringify(events);
    for (const token of [subject, first.access_token, second.access_token]) {
      expect(lines).not.toContain(token.split('.')[2]);
    }
  });

  it('refuses a scope wider than the subject token’s: invalid_scope', async () => {
    const response = await exchange(serverA, await agentToken('read'), { scope: 'read write' });
    expect(response.status).toBe(400);
    expect((await readJson(response)).error).toBe('invalid_scope');
  });

  it('refuses a revoked, made-up or mistyped subject token: invalid_request', async () => {
    const revoked = await agentToken();
    await fetch(`${app.issuer}/revoke`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(agent),
      },
      body: new URLSearchParams({ token: revoked }),
    });
    for (const response of [
      await exchange(serverA, revoked),
      await exchange(serverA, 'eyJhbGciOiJFUzI1NiJ9.e30.AAAA'),
      await exchange(serverA, await agentToken(), {
        subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
      }),
    ]) {
      expect(response.status).toBe(400);
      expect((await readJson(response)).error).toBe('invalid_request');
    }
  });

  it('lets only the operator’s resource servers exchange, and only authenticated', async () => {
    const notListed = await exchange(agent, await agentToken());
    expect(notListed.status).toBe(400);
    expect((await readJson(notListed)).error).toBe('unauthorized_client');
    const anonymous = await exchange(null, await agentToken());
    expect(anonymous.status).toBe(401);
    expect((await readJson(anonymous)).error).toBe('invalid_client');
  });

  it('refuses a resource this server does not serve: invalid_target', async () => {
    const response = await exchange(serverA, await agentToken(), {
      resource: 'https://elsewhere.example/',
    });
    expect(response.status).toBe(400);
    expect((await readJson(response)).error).toBe('invalid_target');
  });
});
