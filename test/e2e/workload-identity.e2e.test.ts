import { randomUUID } from 'node:crypto';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  createRemoteJWKSet,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalApp } from '../../local/app.js';
import { type DocumentServer, startDocumentServer } from '../support/cimd-server.js';
import { STACK, tokenRequest } from '../support/interactive.js';
import { auditEvents, hygieneSeen } from '../support/secret-hygiene.js';
import { type Json, operatorAdmin, readJson, startTestServer } from '../support/server.js';
import type { StackApp } from '../support/synthesized-stack.js';

/**
 * Workload identity federation (RFC 7523 jwt-bearer) over HTTP, on the local server and the
 * synthesized stack: two stand-in platforms — a CI issuer whose keys are served at a jwks_uri on
 * 127.0.0.1 (a trusted test origin), a cluster issuer with inline keys — exchange their
 * workloads' JWTs for access tokens under the operator's ordered claim rules.
 */
const CI = 'https://ci-issuer.example';
const CLUSTER = 'https://cluster-issuer.example';
const RESOURCE = 'https://mcp.example/api';
const OTHER = 'https://other.example/api';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const MAIN = 'repo:acme/app:ref:refs/heads/main';
const IDP = 'https://idp.acme.example';
/** An account's IAM outbound identity federation issuer (STS GetWebIdentityToken). */
const AWS = 'https://a1b2c3d4-e5f6.tokens.sts.global.api.aws';
/** Where GetWebIdentityToken tokens nest the AWS-specific claims. */
const STS = 'https://sts.amazonaws.com/';
const ROLE = 'arn:aws:iam::123456789012:role/agent-runner';
const ID_JAG_PROFILE = 'urn:ietf:params:oauth:grant-profile:id-jag';
const ADMIN_TOKEN = 'local-admin-token-0123456789-abcdefghijklmnop';
/** How long a federated subject is listed after its last token. */
const SUBJECT_KEPT_SECONDS = 30 * 86_400;

let app: LocalApp;
let docs: DocumentServer;
let tokenEndpoint: string;
let ciKey: CryptoKey;
let clusterKey: CryptoKey;
let idpKey: CryptoKey;
let awsKey: CryptoKey;

const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  const ci = await generateKeyPair('RS256', { extractable: true });
  const cluster = await generateKeyPair('ES256', { extractable: true });
  ciKey = ci.privateKey;
  clusterKey = cluster.privateKey;
  const ciJwk: JWK = { ...(await exportJWK(ci.publicKey)), kid: 'ci-1', alg: 'RS256' };
  const clusterJwk: JWK = { ...(await exportJWK(cluster.publicKey)), kid: 'cluster-1' };
  const idp = await generateKeyPair('ES256', { extractable: true });
  idpKey = idp.privateKey;
  const idpJwk: JWK = { ...(await exportJWK(idp.publicKey)), kid: 'idp-1' };
  const aws = await generateKeyPair('ES384', { extractable: true });
  awsKey = aws.privateKey;
  const awsJwk: JWK = { ...(await exportJWK(aws.publicKey)), kid: 'sts-1' };
  docs = await startDocumentServer();
  docs.serve('/ci/jwks', { keys: [ciJwk] });
  app = await startTestServer({
    DCR_ADMIN_TOKEN: ADMIN_TOKEN,
    DCR_RESOURCES: `${RESOURCE} ${OTHER}`,
    DCR_ALLOWED_SCOPES: 'tools:read tools:write admin',
    DCR_TRUSTED_FETCH_ORIGINS: docs.origin,
    DCR_TRUSTED_ISSUERS: JSON.stringify({
      [CI]: {
        kind: 'workload',
        jwks_uri: docs.url('/ci/jwks'),
        rules: [
          // The first match decides: the app's main branch gets more than its siblings'.
          { claims: { sub: MAIN }, scope: 'tools:read tools:write', resources: [RESOURCE] },
          {
            claims: { sub: 'repo:acme/*:ref:refs/heads/main' },
            scope: 'tools:read',
            resources: [RESOURCE],
          },
        ],
      },
      [CLUSTER]: {
        kind: 'workload',
        jwks: { keys: [clusterJwk] },
        rules: [
          {
            claims: { sub: 'system:serviceaccount:agents:*', environment: 'prod' },
            scope: 'tools:read',
            resources: [RESOURCE, OTHER],
          },
        ],
      },
      [AWS]: {
        kind: 'workload',
        jwks: { keys: [awsJwk] },
        rules: [
          // Any role of the account, but only from Lambda functions in eu-west-1 tagged team=agents.
          {
            claims: {
              sub: 'arn:aws:iam::123456789012:role/*',
              [STS]: {
                aws_account: '123456789012',
                lambda_source_function_arn: 'arn:aws:lambda:eu-west-1:123456789012:function:*',
                principal_tags: { team: 'agents' },
              },
            },
            scope: 'tools:read',
            resources: [RESOURCE],
          },
        ],
      },
      [IDP]: {
        kind: 'id-jag',
        jwks: { keys: [idpJwk] },
        rules: [
          {
            claims: { sub: '*@acme.example' },
            scope: 'tools:read tools:write',
            resources: [RESOURCE],
          },
        ],
      },
    }),
  });
  tokenEndpoint = `${app.issuer}/token`;
});
afterAll(async () => {
  await app?.close();
  await docs?.close();
});

interface AssertionOptions {
  issuer?: string;
  header?: Record<string, unknown>;
  key?: CryptoKey | Uint8Array;
}

/** A platform JWT as the CI issuer (or, with `issuer`, the cluster or AWS STS) makes it. */
function assertion(claims: JWTPayload = {}, options: AssertionOptions = {}) {
  const issuer = options.issuer ?? CI;
  const signer =
    issuer === CLUSTER
      ? { alg: 'ES256', kid: 'cluster-1', key: clusterKey }
      : issuer === AWS
        ? { alg: 'ES384', kid: 'sts-1', key: awsKey }
        : { alg: 'RS256', kid: 'ci-1', key: ciKey };
  return new SignJWT({
    iss: issuer,
    sub: MAIN,
    aud: tokenEndpoint,
    jti: randomUUID(),
    iat: now(),
    exp: now() + 300,
    ...claims,
  })
    .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: 'JWT', ...options.header })
    .sign(options.key ?? signer.key);
}

const exchange = (jwt: string, extra: Record<string, string> = {}, headers = {}) =>
  tokenRequest(
    app.issuer,
    { grant_type: JWT_BEARER, assertion: jwt, resource: RESOURCE, ...extra },
    headers,
  );

const expectError = async (response: Response, error: string, status = 400) => {
  const body = await readJson(response);
  expect({ status: response.status, error: body.error }).toEqual({ status, error });
  expect(body.access_token).toBeUndefined();
  return body;
};

/** The access token's claims, verified with this server's published keys. */
const verified = async (token: string) =>
  (
    await jwtVerify(token, createRemoteJWKSet(new URL(`${app.issuer}/.well-known/jwks.json`)), {
      issuer: app.issuer,
      typ: 'at+jwt',
    })
  ).payload as Json;

/** Every assertion sent, to check that none reaches a log line. */
const sent: string[] = [];
const sign = async (claims?: JWTPayload, options?: AssertionOptions) => {
  const jwt = await assertion(claims, options);
  sent.push(jwt);
  return jwt;
};

describe('workload identity (jwt-bearer)', () => {
  it('is listed in discovery', async () => {
    const metadata = await readJson(
      await fetch(`${app.issuer}/.well-known/oauth-authorization-server`),
    );
    expect(metadata.grant_types_supported).toContain(JWT_BEARER);
  });

  it('exchanges a CI job’s JWT for an access token: the issuer-qualified subject, the resource, the rule’s scope, no refresh token', async () => {
    const response = await exchange(await sign());
    expect(response.status).toBe(200);
    const body = await readJson(response);
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'tools:read tools:write' });
    expect(body.refresh_token).toBeUndefined();
    const claims = await verified(body.access_token);
    expect(claims).toMatchObject({
      sub: `${CI}#${MAIN}`,
      client_id: `${CI}#${MAIN}`,
      aud: RESOURCE,
      scope: 'tools:read tools:write',
    });
    // The key set was fetched when first needed, and once: a second exchange reuses it.
    expect((await exchange(await sign())).status).toBe(200);
    expect(docs.hits('/ci/jwks')).toBe(1);
  });

  it('accepts the issuer itself as the assertion’s audience', async () => {
    expect((await exchange(await sign({ aud: app.issuer }))).status).toBe(200);
  });

  it('grants the requested scopes the matching rule allows, and refuses a request for none of them', async () => {
    const narrowed = await readJson(await exchange(await sign(), { scope: 'tools:read admin' }));
    expect(narrowed.scope).toBe('tools:read');
    // A sibling repository's main branch matches the second rule only: read, not write.
    const sibling = { sub: 'repo:acme/tools:ref:refs/heads/main' };
    const read = await readJson(await exchange(await sign(sibling)));
    expect(read.scope).toBe('tools:read');
    expect((await verified(read.access_token)).sub).toBe(`${CI}#${sibling.sub}`);
    await expectError(
      await exchange(await sign(sibling), { scope: 'tools:write' }),
      'invalid_scope',
    );
  });

  it('matches `*` within one segment only, and never an absent claim', async () => {
    // Another branch, a pull request, a path below the repository: no rule matches.
    for (const sub of [
      'repo:acme/app:ref:refs/heads/dev',
      'repo:acme/app:pull_request',
      'repo:acme/app/x:ref:refs/heads/main',
      'repo:acme-evil/app:ref:refs/heads/main',
    ]) {
      const refused = await expectError(await exchange(await sign({ sub })), 'invalid_grant');
      expect(refused.error_description).toMatch(/no rule/);
    }
    const workload = { sub: 'system:serviceaccount:agents:crawler' };
    const inCluster = { issuer: CLUSTER };
    // The cluster's rule also needs `environment: prod`: absent or other, it does not match.
    for (const claims of [workload, { ...workload, environment: 'dev' }]) {
      const refused = await expectError(
        await exchange(await sign(claims, inCluster)),
        'invalid_grant',
      );
      expect(refused.error_description).toMatch(/no rule/);
    }
    const prod = await exchange(await sign({ ...workload, environment: 'prod' }, inCluster), {
      resource: OTHER,
    });
    expect(prod.status).toBe(200);
    const claims = await verified((await readJson(prod)).access_token);
    expect(claims).toMatchObject({ sub: `${CLUSTER}#${workload.sub}`, aud: OTHER });
  });

  it('matches members of an object claim: an AWS role’s account, function and tags', async () => {
    const lambda = {
      sub: ROLE,
      [STS]: {
        aws_account: '123456789012',
        source_region: 'eu-west-1',
        org_id: 'o-abc1234567',
        principal_tags: { team: 'agents', environment: 'prod' },
        lambda_source_function_arn: 'arn:aws:lambda:eu-west-1:123456789012:function:crawler',
      },
    };
    const fromAws = { issuer: AWS };
    const granted = await exchange(await sign(lambda, fromAws));
    expect(granted.status).toBe(200);
    const body = await readJson(granted);
    expect(body.scope).toBe('tools:read');
    expect(await verified(body.access_token)).toMatchObject({ sub: `${AWS}#${ROLE}` });
    const members = lambda[STS];
    for (const [why, sts] of [
      ['another account', { ...members, aws_account: '210987654321' }],
      [
        'another region’s function',
        {
          ...members,
          lambda_source_function_arn: members.lambda_source_function_arn.replace(
            'eu-west-1',
            'us-east-1',
          ),
        },
      ],
      ['another team', { ...members, principal_tags: { team: 'billing' } }],
      ['no tags', { ...members, principal_tags: undefined }],
      ['tags that are no object', { ...members, principal_tags: 'team=agents' }],
    ] as const) {
      const refused = await expectError(
        await exchange(await sign({ ...lambda, [STS]: sts }, fromAws)),
        'invalid_grant',
      );
      expect(refused.error_description, why).toMatch(/no rule/);
    }
    // The namespace claim absent, or not an object: no rule matches.
    for (const sts of [undefined, '123456789012']) {
      const refused = await expectError(
        await exchange(await sign({ ...lambda, [STS]: sts }, fromAws)),
        'invalid_grant',
      );
      expect(refused.error_description).toMatch(/no rule/);
    }
  });

  it('refuses a resource the rule does not name, a missing resource, and client authentication', async () => {
    await expectError(await exchange(await sign(), { resource: OTHER }), 'invalid_target');
    const noResource = await tokenRequest(app.issuer, {
      grant_type: JWT_BEARER,
      assertion: await sign(),
    });
    await expectError(noResource, 'invalid_request');
    await expectError(
      await exchange(await sign(), { client_id: 'someone', client_secret: 'x' }),
      'invalid_request',
    );
  });

  /** Each refusal, and what its description must say (so each fails for its own reason). */
  const refusals: [string, () => Promise<string>, RegExp][] = [
    [
      'a bad signature',
      async () => sign({}, { key: (await generateKeyPair('RS256')).privateKey }),
      /signature does not verify/,
    ],
    ['an unknown issuer', () => sign({ iss: 'https://stranger.example' }), /issuer is not trusted/],
    ['another audience', () => sign({ aud: 'https://elsewhere.example/token' }), /aud/],
    ['no audience', () => sign({ aud: undefined }), /aud/],
    ['an expired assertion', () => sign({ iat: now() - 600, exp: now() - 120 }), /expired/],
    [
      'a lifetime past the maximum (an hour)',
      () => sign({ exp: now() + 7200 }),
      /expires more than 3600 seconds/,
    ],
    ['an iat in the future', () => sign({ iat: now() + 600 }), /iat/],
    ['an nbf in the future', () => sign({ nbf: now() + 600 }), /nbf/],
    ['no jti', () => sign({ jti: undefined }), /jti/],
    ['no sub', () => sign({ sub: undefined }), /sub/],
    [
      'HS256 (a shared secret is no trust anchor)',
      () => sign({}, { header: { alg: 'HS256' }, key: new Uint8Array(32).fill(7) }),
      /algorithm is not accepted/,
    ],
    [
      'an access token’s type',
      () => sign({}, { header: { typ: 'at+jwt' } }),
      /type at\+jwt is not accepted/,
    ],
    ['no rule that matches', () => sign({ sub: 'repo:other/app:ref:refs/heads/main' }), /no rule/],
    ['not a JWT', async () => 'not-a-jwt', /not a signed JWT/],
  ];

  it.each(refusals)('refuses %s: 400 invalid_grant, no token', async (_, make, says) => {
    const body = await expectError(await exchange(await make()), 'invalid_grant');
    expect(body.error_description).toMatch(says);
  });

  it('spends each assertion once: a replay is refused, in any container', async () => {
    const once = await sign();
    expect((await exchange(once)).status).toBe(200);
    await expectError(await exchange(once), 'invalid_grant');
    if (STACK) {
      // The next request reaches a fresh container: it has nothing in memory of the first.
      await (app as StackApp).coldStart('token');
      await expectError(await exchange(once), 'invalid_grant');
      const fresh = await exchange(await sign());
      expect(fresh.status).toBe(200);
    }
  });

  it('binds the token to a DPoP proof’s key', async () => {
    const keys = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(keys.publicKey);
    const proof = await new SignJWT({
      jti: randomUUID(),
      htm: 'POST',
      htu: tokenEndpoint,
      iat: now(),
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
      .sign(keys.privateKey);
    const body = await readJson(await exchange(await sign(), {}, { dpop: proof }));
    expect(body.token_type).toBe('DPoP');
    const claims = await verified(body.access_token);
    expect(claims.cnf).toEqual({ jkt: await calculateJwkThumbprint(jwk) });
    // The proof is spent: sent again, with a new assertion, it is refused.
    await expectError(await exchange(await sign(), {}, { dpop: proof }), 'invalid_dpop_proof');
  });

  it('audits each token (issuer, kind, rule, subject, scope, resource) and sums its subject for the operator; a replay is neither', async () => {
    const sub = `system:serviceaccount:agents:audited-${randomUUID()}`;
    const subject = `${CLUSTER}#${sub}`;
    const issued: Json[] = [];
    let last = '';
    for (const resource of [RESOURCE, OTHER]) {
      last = await sign({ sub, environment: 'prod' }, { issuer: CLUSTER });
      const response = await exchange(last, { resource });
      expect(response.status).toBe(200);
      issued.push(await verified((await readJson(response)).access_token));
    }
    await expectError(await exchange(last, { resource: OTHER }), 'invalid_grant');
    const events = (await auditEvents()).filter((e) => e.sub === subject);
    expect(events).toEqual(
      issued.map((claims) => ({
        type: 'token.workload_identity',
        issuer: CLUSTER,
        issuer_kind: 'workload',
        rule: 1,
        sub: subject,
        client_id: subject,
        aud: claims.aud,
        scope: 'tools:read',
        jti: claims.jti,
        exp: claims.exp,
        assertion_jti: expect.any(String),
        occurred_at: claims.iat,
      })),
    );
    // The operator's listing, a page of one subject at a time.
    const admin = operatorAdmin(app.issuer, ADMIN_TOKEN);
    const listed: Json[] = [];
    let cursor: string | undefined;
    do {
      const page = await admin.request(
        'GET',
        `/federated-subjects?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.subjects.length).toBeLessThanOrEqual(1);
      listed.push(...page.body.subjects);
      cursor = page.body.next_cursor;
    } while (cursor !== undefined && listed.length < 100);
    expect(new Set(listed.map((s) => s.sub)).size).toBe(listed.length);
    const [first, latest] = issued as [Json, Json];
    expect(listed.find((s) => s.sub === subject)).toEqual({
      sub: subject,
      issuer: CLUSTER,
      issuer_kind: 'workload',
      rule: 1,
      first_seen: first.iat,
      last_seen: latest.iat,
      tokens: 2,
      last_scope: 'tools:read',
      last_aud: OTHER,
      last_client_id: subject,
      expires_at: latest.iat + SUBJECT_KEPT_SECONDS,
    });
  });

  it('never writes an assertion into a log line', async () => {
    const { captured } = await hygieneSeen();
    const leaked = sent.filter((jwt) =>
      captured.some((line) => line.includes(jwt.split('.')[2] as string)),
    );
    expect(leaked).toEqual([]);
  });
});

describe('enterprise-managed authorization (ID-JAG)', () => {
  let client: Json;
  let other: Json;
  const register = async () =>
    readJson(
      await fetch(`${app.issuer}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          client_name: 'enterprise agent',
          grant_types: ['client_credentials'],
        }),
      }),
    );
  const basic = (c: Json) =>
    `Basic ${Buffer.from(`${encodeURIComponent(c.client_id)}:${encodeURIComponent(c.client_secret)}`).toString('base64')}`;

  beforeAll(async () => {
    client = await register();
    other = await register();
  });

  /** An ID-JAG the enterprise IdP issued to `client` for alice, for RESOURCE. */
  const idJag = (claims: JWTPayload = {}, options: AssertionOptions = {}) =>
    sign(
      {
        iss: IDP,
        sub: 'alice@acme.example',
        aud: app.issuer,
        client_id: client.client_id,
        resource: RESOURCE,
        scope: 'tools:read admin',
        ...claims,
      },
      {
        issuer: IDP,
        key: idpKey,
        header: { alg: 'ES256', kid: 'idp-1', typ: 'oauth-id-jag+jwt' },
        ...options,
      },
    );
  const present = (jwt: string, extra: Record<string, string> = {}, as: Json | null = client) =>
    tokenRequest(
      app.issuer,
      { grant_type: JWT_BEARER, assertion: jwt, ...extra },
      as === null ? {} : { authorization: basic(as) },
    );

  it('audits the token with the client that presented the ID-JAG', async () => {
    const body = await readJson(await present(await idJag()));
    const claims = await verified(body.access_token);
    const events = (await auditEvents()).filter((e) => e.jti === claims.jti);
    expect(events).toEqual([
      {
        type: 'token.id_jag',
        issuer: IDP,
        issuer_kind: 'id-jag',
        rule: 1,
        sub: `${IDP}#alice@acme.example`,
        client_id: client.client_id,
        aud: RESOURCE,
        scope: 'tools:read',
        jti: claims.jti,
        exp: claims.exp,
        assertion_jti: expect.any(String),
        occurred_at: claims.iat,
      },
    ]);
  });

  it('is listed in discovery with its profile', async () => {
    const metadata = await readJson(
      await fetch(`${app.issuer}/.well-known/oauth-authorization-server`),
    );
    expect(metadata.grant_types_supported).toContain(JWT_BEARER);
    expect(metadata.authorization_grant_profiles_supported).toEqual([ID_JAG_PROFILE]);
  });

  it('gives the client it was issued to a token for the user: requested ∩ ID-JAG ∩ rule scopes, its resource, no refresh token', async () => {
    const response = await present(await idJag(), { scope: 'tools:read tools:write' });
    expect(response.status).toBe(200);
    const body = await readJson(response);
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'tools:read' });
    expect(body.refresh_token).toBeUndefined();
    expect(await verified(body.access_token)).toMatchObject({
      sub: `${IDP}#alice@acme.example`,
      client_id: client.client_id,
      aud: RESOURCE,
      scope: 'tools:read',
    });
  });

  it('refuses an ID-JAG without client authentication, or from another client', async () => {
    const noClient = await present(await idJag(), {}, null);
    expect(noClient.status).toBe(401);
    expect((await readJson(noClient)).error).toBe('invalid_client');
    const stolen = await expectError(await present(await idJag(), {}, other), 'invalid_grant');
    expect(stolen.error_description).toMatch(/another client/);
  });

  const idJagRefusals: [string, () => JWTPayload, RegExp][] = [
    [
      'an audience other than this issuer (its token endpoint)',
      () => ({ aud: tokenEndpoint }),
      /aud/,
    ],
    ['a user no rule admits', () => ({ sub: 'mallory@evil.example' }), /no rule/],
    ['an expired ID-JAG', () => ({ iat: now() - 600, exp: now() - 120 }), /expired/],
  ];

  it.each(idJagRefusals)('refuses %s: 400 invalid_grant', async (_, claims, says) => {
    const body = await expectError(await present(await idJag(claims())), 'invalid_grant');
    expect(body.error_description).toMatch(says);
  });

  it('refuses an ID-JAG from a workload issuer, and a resource the ID-JAG does not name', async () => {
    const fromCi = await sign(
      { client_id: client.client_id, aud: app.issuer },
      { header: { typ: 'oauth-id-jag+jwt' } },
    );
    const refused = await expectError(await present(fromCi), 'invalid_grant');
    expect(refused.error_description).toMatch(/issuer is not trusted/);
    await expectError(await present(await idJag(), { resource: OTHER }), 'invalid_target');
  });

  it('spends each ID-JAG once', async () => {
    const once = await idJag();
    expect((await present(once)).status).toBe(200);
    await expectError(await present(once), 'invalid_grant');
  });
});
