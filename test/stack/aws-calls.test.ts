import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser.js';
import {
  authorizationRequest,
  type InteractiveServer,
  startInteractiveServer,
} from '../support/interactive.js';
import { type Json, jsonPost, operatorAdmin, readJson } from '../support/server.js';
import type { AwsCall, StackApp } from '../support/synthesized-stack.js';

/**
 * What each operation costs in AWS calls, counted on the synthesized stack: every DynamoDB, KMS,
 * EventBridge and Secrets Manager call the bundled functions make passes the IAM gate, which
 * records it. The design's floor: one write per registration, one read and one Sign per access
 * token. The request's own function is counted apart from the audit function the table's
 * stream then runs (asynchronously in AWS). With DCR_AWS_CALLS_REPORT set, the counts are
 * written there as JSON (`npm run bench` puts them in BENCHMARKS.md).
 */
const RESOURCE = 'https://mcp.example.com/mcp';
const REDIRECT = 'http://127.0.0.1:8765/callback';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan']);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);

interface Cost {
  readonly operation: string;
  /** The function that served the request. */
  readonly reads: number;
  readonly writes: number;
  /** KMS Sign calls (the public key is read once per container, for the `kid`). */
  readonly kms: number;
  /** Everything, `function service:Operation` → count. */
  readonly calls: Record<string, number>;
}

let server: InteractiveServer;
let app: StackApp;
const costs: Cost[] = [];
/** A stand-in CI platform whose workloads exchange their JWTs (keys inline). */
const PLATFORM = 'https://ci.example';
const WORKLOAD = 'repo:acme/app:ref:refs/heads/main';
let platformKey: CryptoKey;
const RULE = { claims: { sub: WORKLOAD }, scope: 'read', resources: [RESOURCE] };
let platformJwk: JWK;

/** Runs `operation` alone and counts the calls it caused. */
async function cost<T>(operation: string, served: string, run: () => Promise<T>) {
  app.awsCalls.length = 0;
  const result = await run();
  const calls: AwsCall[] = [...app.awsCalls];
  const own = calls.filter((c) => c.caller.startsWith(`Function${served}`));
  const operationOf = (c: AwsCall) => c.action.split(':')[1] as string;
  const counted: Cost = {
    operation,
    reads: own.filter((c) => READS.has(operationOf(c))).length,
    writes: own.filter((c) => WRITES.has(operationOf(c))).length,
    kms: own.filter((c) => c.action === 'kms:Sign').length,
    calls: calls.reduce<Record<string, number>>((all, c) => {
      const name = `${c.caller.replace(/^Function/, '').replace(/Function[0-9A-F]{8}$/, '')} ${c.action}`;
      all[name] = (all[name] ?? 0) + 1;
      return all;
    }, {}),
  };
  costs.push(counted);
  return { result, cost: counted };
}

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

beforeAll(async () => {
  const platform = await generateKeyPair('ES256', { extractable: true });
  platformKey = platform.privateKey;
  platformJwk = { ...(await exportJWK(platform.publicKey)), kid: 'ci' };
  server = await startInteractiveServer({
    DCR_RESOURCES: RESOURCE,
    DCR_ALLOWED_SCOPES: 'read',
    DCR_TRUSTED_ISSUERS: JSON.stringify({
      [PLATFORM]: {
        kind: 'workload',
        jwks: { keys: [platformJwk] },
        rules: [RULE],
      },
    }),
  });
  app = server.app as StackApp;
  expect(Array.isArray(app.awsCalls)).toBe(true);
});
afterAll(async () => {
  if (process.env.DCR_AWS_CALLS_REPORT) {
    writeFileSync(process.env.DCR_AWS_CALLS_REPORT, JSON.stringify(costs, null, 2));
  }
  await server.close();
});

describe('AWS calls per operation on the synthesized stack', () => {
  let machine: Json;

  it('a registration: one write (the client), no read; the stream then counts it', async () => {
    const { result, cost: c } = await cost('registration (open)', 'register', async () =>
      readJson(
        await jsonPost(`${app.issuer}/register`, {
          grant_types: ['client_credentials'],
          client_name: 'costed',
          scope: 'read',
        }),
      ),
    );
    machine = result;
    expect([c.reads, c.writes, c.kms]).toEqual([0, 1, 0]);
    expect(c.calls['register dynamodb:PutItem']).toBe(1);
    // The audit function: the event on the bus and the statistics' counters.
    expect(c.calls['audit events:PutEvents']).toBe(1);
  });

  it('an access token: one read and one Sign (the first one also records "last used")', async () => {
    const issue = () =>
      fetch(`${app.issuer}/token`, {
        method: 'POST',
        headers: { ...FORM, authorization: basic(machine.client_id, machine.client_secret) },
        body: 'grant_type=client_credentials&scope=read',
      }).then(readJson);
    const first = await cost(
      'client_credentials token (first: records last used, a cold container reads the public key)',
      'token',
      issue,
    );
    expect([first.cost.reads, first.cost.writes, first.cost.kms]).toEqual([1, 1, 1]);
    expect(first.cost.calls['token kms:GetPublicKey']).toBe(1);
    const steady = await cost('client_credentials token', 'token', issue);
    expect(steady.result.access_token).toEqual(expect.any(String));
    expect([steady.cost.reads, steady.cost.writes, steady.cost.kms]).toEqual([1, 0, 1]);
    expect(Object.keys(steady.cost.calls)).toEqual(['token dynamodb:GetItem', 'token kms:Sign']);

    const introspected = await cost('introspection (own token)', 'introspect', async () =>
      fetch(`${app.issuer}/introspect`, {
        method: 'POST',
        headers: { ...FORM, authorization: basic(machine.client_id, machine.client_secret) },
        body: `token=${steady.result.access_token}`,
      }).then(readJson),
    );
    expect(introspected.result.active).toBe(true);
    // The client's authentication and the revocation list; the signature is checked locally.
    expect([introspected.cost.reads, introspected.cost.writes, introspected.cost.kms]).toEqual([
      2, 0, 0,
    ]);
  });

  it('a DPoP-bound access token: one more write, the conditional put that spends the proof', async () => {
    const keys = await generateKeyPair('ES256');
    const jwk = await exportJWK(keys.publicKey);
    const issue = async () =>
      fetch(`${app.issuer}/token`, {
        method: 'POST',
        headers: {
          ...FORM,
          authorization: basic(machine.client_id, machine.client_secret),
          dpop: await new SignJWT({
            jti: randomUUID(),
            htm: 'POST',
            htu: `${app.issuer}/token`,
            iat: Math.floor(Date.now() / 1000),
          })
            .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
            .sign(keys.privateKey),
        },
        body: 'grant_type=client_credentials&scope=read',
      }).then(readJson);
    const bound = await cost('client_credentials token with a DPoP proof', 'token', issue);
    expect(bound.result.token_type).toBe('DPoP');
    expect([bound.cost.reads, bound.cost.writes, bound.cost.kms]).toEqual([1, 1, 1]);
    expect(Object.keys(bound.cost.calls).sort()).toEqual([
      'token dynamodb:GetItem',
      'token dynamodb:PutItem',
      'token kms:Sign',
    ]);
  });

  /** A workload's token for a platform JWT of `issuer`. */
  const workloadToken = (issuer: string) => async () =>
    fetch(`${app.issuer}/token`, {
      method: 'POST',
      headers: FORM,
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        resource: RESOURCE,
        assertion: await new SignJWT({ sub: WORKLOAD, aud: `${app.issuer}/token` })
          .setProtectedHeader({ alg: 'ES256', kid: 'ci', typ: 'JWT' })
          .setIssuer(issuer)
          .setJti(randomUUID())
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(platformKey),
      }),
    }).then(readJson);

  it('a workload’s access token (jwt-bearer): one conditional write (the jti, carrying the audit event) and one Sign, no read; the stream then audits it', async () => {
    const issue = workloadToken(PLATFORM);
    const workload = await cost('jwt-bearer token (workload identity)', 'token', issue);
    expect(workload.result.scope).toBe('read');
    expect([workload.cost.reads, workload.cost.writes, workload.cost.kms]).toEqual([0, 1, 1]);
    // Off the request path, the audit function: the event on the bus, the subject's summary.
    expect(workload.cost.calls).toEqual({
      'token dynamodb:PutItem': 1,
      'token kms:Sign': 1,
      'audit events:PutEvents': 1,
      'audit dynamodb:UpdateItem': 1,
    });
  });

  it('a workload’s token from an issuer stored through the admin API: one read per container, then the floor', async () => {
    const stored = 'https://ci-stored.example';
    const put = await operatorAdmin(app.issuer, '').request(
      'PUT',
      `/trusted-issuers/${encodeURIComponent(stored)}`,
      { kind: 'workload', jwks: { keys: [platformJwk] }, rules: [RULE] },
    );
    expect(put.status).toBe(201);
    await app.coldStart('token');
    const issue = workloadToken(stored);
    const first = await cost(
      'jwt-bearer token (stored issuer, first in a container)',
      'token',
      issue,
    );
    expect(first.result.scope).toBe('read');
    // The one read is the issuer's item (a fresh container also reads its public key once).
    expect([first.cost.reads, first.cost.writes, first.cost.kms]).toEqual([1, 1, 1]);
    expect(first.cost.calls['token dynamodb:GetItem']).toBe(1);
    // Remembered for DCR_TRUSTED_ISSUER_CACHE_SECONDS (30 s): the next one reads nothing.
    const next = await cost('jwt-bearer token (stored issuer)', 'token', issue);
    expect([next.cost.reads, next.cost.writes, next.cost.kms]).toEqual([0, 1, 1]);
    // An issuer nobody trusts: one read, remembered as unknown too; then none.
    const unknown = workloadToken('https://nobody.example');
    const refused = await cost('jwt-bearer, unknown issuer', 'token', unknown);
    expect(refused.result.error).toBe('invalid_grant');
    expect([refused.cost.reads, refused.cost.writes, refused.cost.kms]).toEqual([1, 0, 0]);
    const again = await cost('jwt-bearer, unknown issuer again', 'token', unknown);
    expect([again.cost.reads, again.cost.writes, again.cost.kms]).toEqual([0, 0, 0]);
  });

  it('a code exchange and a refresh: what a user grant costs', async () => {
    const mcp = await readJson(
      await jsonPost(`${app.issuer}/register`, {
        client_name: 'costed mcp',
        redirect_uris: [REDIRECT],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'none',
        scope: 'read',
      }),
    );
    const config = await client.discovery(
      new URL(app.issuer),
      mcp.client_id,
      undefined,
      client.None(),
    );
    const { url, state, verifier } = await authorizationRequest(config, {
      redirect_uri: REDIRECT,
      scope: 'read offline_access',
      resource: RESOURCE,
    });
    const callback = await new Browser().signIn(url, { user: 'alice', stopAt: REDIRECT });
    const exchanged = await cost('code exchange', 'token', () =>
      client.authorizationCodeGrant(
        config,
        callback,
        { pkceCodeVerifier: verifier, expectedState: state },
        { resource: RESOURCE },
      ),
    );
    expect(exchanged.cost.kms).toBe(1);
    // One put, the grant: its user's index entry was filed at consent, not here.
    expect(exchanged.cost.calls['token dynamodb:PutItem']).toBe(1);
    const refreshed = await cost('refresh', 'token', () =>
      client.refreshTokenGrant(config, exchanged.result.refresh_token as string, {
        resource: RESOURCE,
      }),
    );
    expect(refreshed.result.access_token).toEqual(expect.any(String));
    expect(refreshed.cost.kms).toBe(1);
  });
});
