import { hash, randomUUID } from 'node:crypto';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminClient, JsonText } from '../../cli/admin-client.js';
import type { LocalApp } from '../../local/app.js';
import { type DocumentServer, startDocumentServer } from '../support/cimd-server.js';
import { STACK, tokenRequest } from '../support/interactive.js';
import { auditEvents } from '../support/secret-hygiene.js';
import { operatorAdmin, operatorCli, readJson, startTestServer } from '../support/server.js';
import type { StackApp } from '../support/synthesized-stack.js';

/**
 * Trusted issuers added, replaced and removed at runtime through the admin API (and dcr-admin),
 * on the local server and the synthesized stack: a stand-in CI platform whose keys the test
 * serves at a jwks_uri gets jwt-bearer tokens once the operator stores it, under the rules as
 * last put, and none once removed; the configured issuer stays as configured.
 */
const STORED = 'https://ci.stored.example';
const CONFIGURED = 'https://cluster.configured.example';
const RESOURCE = 'https://mcp.example/api';
const OTHER = 'https://other.example/api';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const MAIN = 'repo:acme/app:ref:refs/heads/main';
const ADMIN_TOKEN = 'trusted-issuers-admin-token-0123456789abcdef';
/** The stack's cache of stored issuers, short so a removal is seen without a long wait. */
const CACHE_SECONDS = 1;

let app: LocalApp;
let docs: DocumentServer;
let admin: AdminClient;
let ciKey: CryptoKey;
let clusterJwk: JWK;

const now = () => Math.floor(Date.now() / 1000);
const pathOf = (issuer: string) => `/trusted-issuers/${encodeURIComponent(issuer)}`;

beforeAll(async () => {
  const ci = await generateKeyPair('RS256', { extractable: true });
  ciKey = ci.privateKey;
  const cluster = await generateKeyPair('ES256', { extractable: true });
  clusterJwk = { ...(await exportJWK(cluster.publicKey)), kid: 'cluster-1' };
  docs = await startDocumentServer();
  docs.serve('/ci/jwks', {
    keys: [{ ...(await exportJWK(ci.publicKey)), kid: 'ci-1', alg: 'RS256' }],
  });
  app = await startTestServer({
    DCR_ADMIN_TOKEN: ADMIN_TOKEN,
    DCR_RESOURCES: `${RESOURCE} ${OTHER}`,
    DCR_ALLOWED_SCOPES: 'tools:read tools:write',
    DCR_TRUSTED_FETCH_ORIGINS: docs.origin,
    DCR_TRUSTED_ISSUER_CACHE_SECONDS: String(CACHE_SECONDS),
    DCR_TRUSTED_ISSUERS: JSON.stringify({
      [CONFIGURED]: {
        kind: 'workload',
        jwks: { keys: [clusterJwk] },
        rules: [{ claims: { sub: 'system:serviceaccount:agents:*' }, resources: [RESOURCE] }],
      },
    }),
  });
  admin = operatorAdmin(app.issuer, ADMIN_TOKEN);
});
afterAll(async () => {
  await app?.close();
  await docs?.close();
});

/** The stored CI issuer's definition: one value of DCR_TRUSTED_ISSUERS. */
const definition = (rules: unknown[]) => ({
  kind: 'workload',
  jwks_uri: docs.url('/ci/jwks'),
  algorithms: ['RS256'],
  rules,
});
const mainGetsRead = [{ claims: { sub: MAIN }, scope: 'tools:read', resources: [RESOURCE] }];

/** A CI workload's platform JWT, signed with the key served at the jwks_uri. */
const assertion = (issuer = STORED) =>
  new SignJWT({ sub: MAIN, aud: `${app.issuer}/token`, jti: randomUUID() })
    .setProtectedHeader({ alg: 'RS256', kid: 'ci-1', typ: 'JWT' })
    .setIssuer(issuer)
    .setIssuedAt()
    .setExpirationTime(now() + 300)
    .sign(ciKey);

const exchange = async (extra: Record<string, string> = {}) => {
  const response = await tokenRequest(app.issuer, {
    grant_type: JWT_BEARER,
    assertion: await assertion(),
    resource: RESOURCE,
    ...extra,
  });
  return { status: response.status, body: await readJson(response) };
};

describe('trusted issuers through the admin API', () => {
  it('an issuer the operator puts grants jwt-bearer tokens under its rules', async () => {
    await admin.request('DELETE', pathOf(STORED));
    expect((await exchange()).body.error).toBe('invalid_grant');

    const created = await admin.request('PUT', pathOf(STORED), definition(mainGetsRead));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ issuer: STORED, source: 'admin', kind: 'workload' });
    // An unknown issuer is remembered as unknown for the cache time (the stack): a fresh
    // container sees the new one at once.
    if (STACK) await (app as StackApp).coldStart('token');
    const granted = await exchange();
    expect(granted).toMatchObject({ status: 200, body: { scope: 'tools:read' } });

    const got = await admin.request('GET', pathOf(STORED));
    expect(got.body).toEqual({
      issuer: STORED,
      source: 'admin',
      ...definition(mainGetsRead),
      updated_at: expect.any(Number),
      updated_by: expect.any(String),
    });
  });

  it('replaced rules take effect', async () => {
    const replaced = await admin.request(
      'PUT',
      pathOf(STORED),
      definition([
        { claims: { sub: MAIN }, scope: 'tools:read tools:write', resources: [RESOURCE, OTHER] },
      ]),
    );
    expect(replaced.status).toBe(200);
    const seen = async () => {
      const { status, body } = await exchange({ resource: OTHER });
      return status === 200 ? body.scope : body.error;
    };
    // Locally at once; on the stack within the cache time.
    await expect
      .poll(seen, { timeout: (CACHE_SECONDS + 2) * 1000, interval: 200 })
      .toBe('tools:read tools:write');
  });

  it('a removed issuer is refused: invalid_grant (locally at once, on the stack within the cache time)', async () => {
    expect((await admin.request('PUT', pathOf(STORED), definition(mainGetsRead))).status).toBe(200);
    if (STACK) await (app as StackApp).coldStart('token');
    expect((await exchange()).status).toBe(200);
    const removed = await admin.request('DELETE', pathOf(STORED));
    expect(removed.status).toBe(204);
    if (!STACK) {
      expect((await exchange()).body.error).toBe('invalid_grant');
    } else {
      const started = Date.now();
      await expect
        .poll(async () => (await exchange()).body.error, {
          timeout: (CACHE_SECONDS + 2) * 1000,
          interval: 100,
        })
        .toBe('invalid_grant');
      expect(Date.now() - started).toBeLessThan((CACHE_SECONDS + 2) * 1000);
    }
    const refused = await exchange();
    expect(refused.body).toMatchObject({
      error: 'invalid_grant',
      error_description: expect.stringMatching(/issuer is not trusted/),
    });
    expect((await admin.request('DELETE', pathOf(STORED))).status).toBe(404);
    expect((await admin.request('GET', pathOf(STORED))).status).toBe(404);
  });

  it('lists configured issuers (marked so) beside stored ones, and never lets the API change a configured one', async () => {
    await admin.request('PUT', pathOf(STORED), definition(mainGetsRead));
    const listed = await admin.request('GET', '/trusted-issuers');
    expect(listed.status).toBe(200);
    const bySource = Object.fromEntries(
      listed.body.trusted_issuers.map((i: { issuer: string; source: string }) => [
        i.issuer,
        i.source,
      ]),
    );
    expect(bySource).toMatchObject({ [CONFIGURED]: 'configuration', [STORED]: 'admin' });
    expect((await admin.request('GET', pathOf(CONFIGURED))).body).toMatchObject({
      source: 'configuration',
      kind: 'workload',
      jwks: { keys: [clusterJwk] },
    });
    for (const [method, body] of [
      ['PUT', definition(mainGetsRead)],
      ['DELETE', undefined],
    ] as const) {
      const refused = await admin.request(method, pathOf(CONFIGURED), body);
      expect(refused.status).toBe(409);
      expect(refused.body.error).toBe('invalid_request');
      expect(refused.body.error_description).toMatch(
        /change the configuration|changing the configuration/,
      );
    }
  });

  const wildcardOnly = [{ claims: { sub: '*' }, resources: [RESOURCE] }];
  const badPuts: [string, string, () => unknown, RegExp][] = [
    ['malformed JSON', STORED, () => new JsonText('{"kind": "workload",'), /well-formed JSON/],
    ['a JSON array', STORED, () => new JsonText('[]'), /JSON object/],
    [
      'an http issuer',
      'http://ci.example',
      () => definition(mainGetsRead),
      /^issuer: must be an https URL/,
    ],
    [
      'an issuer with a fragment',
      'https://ci.example#x',
      () => definition(mainGetsRead),
      /no fragment/,
    ],
    [
      'an unknown kind',
      STORED,
      () => ({ ...definition(mainGetsRead), kind: 'saml' }),
      /^kind: must be one of/,
    ],
    [
      'no key source',
      STORED,
      () => ({ kind: 'workload', rules: mainGetsRead }),
      /give jwks or jwks_uri/,
    ],
    [
      'an http jwks_uri',
      STORED,
      () => ({ ...definition(mainGetsRead), jwks_uri: 'http://keys.example/jwks' }),
      /^jwks_uri: must be an https URL/,
    ],
    [
      'a private key',
      STORED,
      () => ({
        kind: 'workload',
        jwks: { keys: [{ ...clusterJwk, d: 'secret' }] },
        rules: mainGetsRead,
      }),
      /public keys only/,
    ],
    [
      'a symmetric algorithm',
      STORED,
      () => ({ ...definition(mainGetsRead), algorithms: ['HS256'] }),
      /^algorithms\.0: must be one of/,
    ],
    ['no rules', STORED, () => definition([]), /^rules: must name at least 1/],
    [
      'a wildcard-only rule',
      STORED,
      () => definition(wildcardOnly),
      /^rules\.0\.claims: must pin at least one claim/,
    ],
    [
      'an unknown member',
      STORED,
      () => ({ ...definition(mainGetsRead), audience: 'x' }),
      /audience/,
    ],
    [
      'an unserved resource',
      STORED,
      () => definition([{ claims: { sub: MAIN }, resources: ['https://elsewhere.example/api'] }]),
      /does not serve: https:\/\/elsewhere\.example\/api/,
    ],
    [
      'an unoffered scope',
      STORED,
      () => definition([{ claims: { sub: MAIN }, scope: 'admin', resources: [RESOURCE] }]),
      /does not serve: admin/,
    ],
  ];

  it.each(badPuts)(
    'refuses %s: 400 invalid_request, nothing stored',
    async (_, issuer, body, says) => {
      const before = await admin.request('GET', pathOf(issuer));
      const refused = await admin.request('PUT', pathOf(issuer), body());
      expect({ status: refused.status, error: refused.body.error }).toEqual({
        status: 400,
        error: 'invalid_request',
      });
      expect(refused.body.error_description).toMatch(says);
      expect(JSON.stringify(refused.body)).not.toContain('secret');
      const after = await admin.request('GET', pathOf(issuer));
      expect(after.body).toEqual(before.body);
    },
  );

  it.each([
    ['not a URL', 'ci'],
    ['too long to be a key', `https://ci.example/${'x'.repeat(3000)}`],
  ])(
    'answers 404 for an issuer that could never be stored (%s), to GET and DELETE',
    async (_, issuer) => {
      for (const method of ['GET', 'DELETE']) {
        const answered = await admin.request(method, pathOf(issuer));
        expect({ status: answered.status, error: answered.body.error }).toEqual({
          status: 404,
          error: 'not_found',
        });
      }
    },
  );

  it('audits each change of a stored issuer: created, updated, deleted, by whom, its keys named and its rules digested, never a key', async () => {
    const AUDITED = 'https://audited.stored.example';
    const of = () => auditEvents().then((all) => all.filter((e) => e.issuer === AUDITED));
    const digest = (rules: unknown) => hash('sha256', JSON.stringify(rules), 'base64url');
    const actor = STACK ? expect.stringMatching(/^arn:aws:/) : 'admin-token';
    const inline = {
      kind: 'workload',
      jwks: { keys: [clusterJwk, { ...clusterJwk, kid: undefined }] },
      rules: mainGetsRead,
    };
    const wider = [
      { claims: { sub: MAIN }, scope: 'tools:read tools:write', resources: [RESOURCE] },
    ];

    expect((await admin.request('PUT', pathOf(AUDITED), inline)).status).toBe(201);
    expect((await admin.request('PUT', pathOf(AUDITED), definition(wider))).status).toBe(200);
    // Refusals change nothing and are no events.
    expect((await admin.request('PUT', pathOf(AUDITED), definition([]))).status).toBe(400);
    expect((await admin.request('DELETE', pathOf(AUDITED))).status).toBe(204);
    expect((await admin.request('DELETE', pathOf(AUDITED))).status).toBe(404);

    const events = await of();
    const common = {
      issuer: AUDITED,
      issuer_kind: 'workload',
      rules: 1,
      actor,
      source_ip: '127.0.0.1',
      occurred_at: expect.any(Number),
    };
    const stored = {
      ...common,
      jwks_uri: docs.url('/ci/jwks'),
      algorithms: ['RS256'],
      rules_digest: digest(wider),
    };
    expect(events).toEqual([
      {
        type: 'trusted_issuer.created',
        ...common,
        jwks_kids: ['cluster-1'],
        jwks_keys: 2,
        rules_digest: digest(mainGetsRead),
      },
      {
        type: 'trusted_issuer.updated',
        ...stored,
        previous_rules_digest: digest(mainGetsRead),
      },
      { type: 'trusted_issuer.deleted', ...stored },
    ]);
    for (const event of events) {
      expect(Math.abs((event.occurred_at as number) - now())).toBeLessThan(60);
    }
    // Key ids and the key set's place only: never a key's material.
    expect(JSON.stringify(events)).not.toContain(clusterJwk.x as string);
    // A configured issuer is never changed, so never an event.
    await admin.request('DELETE', pathOf(CONFIGURED));
    expect((await auditEvents()).filter((e) => e.issuer === CONFIGURED)).toEqual([]);
  });

  it('is open to the operator only', async () => {
    const anonymous = await fetch(`${app.issuer}/admin${pathOf(STORED)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(definition(mainGetsRead)),
    });
    expect(anonymous.status).toBe(STACK ? 403 : 401);
  });

  it('dcr-admin trusted-issuers: put, list, get, delete', async () => {
    const cli = operatorCli(app.issuer, ADMIN_TOKEN);
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'issuer-')), 'ci.json');
    writeFileSync(file, JSON.stringify(definition(mainGetsRead)));
    await admin.request('DELETE', pathOf(STORED));
    const eventsBefore = (await auditEvents()).length;
    expect(await cli('trusted-issuers', 'put', STORED, file)).toEqual({
      code: 0,
      out: `created trusted issuer ${STORED}`,
    });
    expect((await cli('trusted-issuers', 'put', STORED, file)).out).toBe(
      `replaced trusted issuer ${STORED}`,
    );
    const listed = await cli('trusted-issuers', 'list');
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(
      new RegExp(`${CONFIGURED}\\s+configuration\\s+workload\\s+inline \\(1 key\\(s\\)\\)\\s+1`),
    );
    expect(listed.out).toMatch(
      new RegExp(`${STORED}\\s+admin\\s+workload\\s+${docs.url('/ci/jwks')}\\s+1`),
    );
    expect(JSON.parse((await cli('trusted-issuers', 'get', STORED)).out)).toMatchObject({
      issuer: STORED,
      rules: mainGetsRead,
    });
    writeFileSync(file, '{"kind": "workload"');
    const bad = await cli('trusted-issuers', 'put', STORED, file);
    expect(bad.code).toBe(1);
    expect((await cli('trusted-issuers', 'delete', CONFIGURED)).code).toBe(1);
    expect(await cli('trusted-issuers', 'delete', STORED)).toEqual({
      code: 0,
      out: `deleted trusted issuer ${STORED}`,
    });
    expect((await cli('trusted-issuers', 'delete', STORED)).code).toBe(1);
    // Audited as the API's changes are; the refusals and the replacement by the same
    // definition (no change of trust) are no events.
    const changes = (await auditEvents()).slice(eventsBefore).filter((e) => e.issuer === STORED);
    expect(changes.map((e) => e.type)).toEqual([
      'trusted_issuer.created',
      'trusted_issuer.deleted',
    ]);
  });
});
