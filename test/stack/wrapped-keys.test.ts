import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, type JWK, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { allows } from '../support/iam-policy.js';
import { type Json, jsonPost, readJson } from '../support/server.js';
import {
  readTemplate,
  type StackApp,
  stackFunctions,
  startStackServer,
} from '../support/synthesized-stack.js';

/**
 * The wrapped signing mode end to end on the synthesized stack (dcr:signingMode=wrapped): its
 * bundled functions behind the IAM gate (a call the template's IAM or key policy would refuse
 * fails the run), the KMS-compatible server really wrapping and unwrapping. The first key comes
 * from the template's custom resource, as at deploy; the rotation is invoked as its schedule
 * would. Short lifetimes so that a rotation activates within the test: tokens live 60 s, the
 * keyring is re-read every second, so a new key signs 61 s after it is made.
 */
const LIFETIME = 60;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const SCHEDULED = { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };

/** Synthesized by the global setup with dcr:signingMode=wrapped. */
const STACK = 'ServerlessDcrWrapped';
const { cdkOut } = inject('stack');
let app: StackApp;
let client: Json;

beforeAll(async () => {
  app = await startStackServer({
    cdkOut,
    stackName: STACK,
    tls: inject('tls'),
    env: {
      DCR_REGISTRATION_RATE_LIMIT: 'off',
      DCR_ACCESS_TOKEN_LIFETIME_SECONDS: String(LIFETIME),
      DCR_KEYRING_REFRESH_SECONDS: '1',
    },
  });
  client = await readJson(
    await jsonPost(`${app.issuer}/register`, {
      grant_types: ['client_credentials'],
      client_name: 'wrapped',
    }),
  );
}, 600_000);
afterAll(async () => {
  await app?.close();
});

const basic = () =>
  `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`).toString('base64')}`;

const token = async (): Promise<string> => {
  const response = await fetch(`${app.issuer}/token`, {
    method: 'POST',
    headers: { ...FORM, authorization: basic() },
    body: 'grant_type=client_credentials',
  });
  expect(response.status).toBe(200);
  return (await readJson(response)).access_token;
};

const jwks = async () =>
  (await readJson(await fetch(`${app.issuer}/.well-known/jwks.json`))) as { keys: JWK[] };

const verify = async (jwt: string, keys: { keys: JWK[] }) =>
  jwtVerify(jwt, createLocalJWKSet(keys), { issuer: app.issuer, typ: 'at+jwt' });

const introspect = async (jwt: string) =>
  readJson(
    await fetch(`${app.issuer}/introspect`, {
      method: 'POST',
      headers: { ...FORM, authorization: basic() },
      body: `token=${jwt}`,
    }),
  );

/** The KMS calls the functions made since the last clear, `function operation` each. */
const kmsCalls = () =>
  app.awsCalls
    .filter((c) => c.action.startsWith('kms:'))
    .map(
      (c) => `${c.caller.replace(/^Function/, '').replace(/Function[0-9A-F]{8}$/, '')} ${c.action}`,
    );

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('wrapped signing mode on the synthesized stack', () => {
  it('lets only the token function unwrap (as the gate evaluates the template), only under the signing context', () => {
    const functions = stackFunctions(cdkOut, readTemplate(cdkOut, STACK));
    const key = String(
      functions.find((fn) => fn.logicalId.startsWith('FunctiontokenFunction'))?.environment
        .DCR_KMS_WRAPPING_KEY_ID,
    );
    const signing = {
      'kms:EncryptionContext:purpose': ['serverless-dcr:access-token-signing-key'],
    };
    const unwrappers = functions
      .filter((fn) => allows(fn.statements, 'kms:Decrypt', signing, key))
      .map((fn) => fn.logicalId.replace(/Function[0-9A-F]{8}$/, ''));
    expect(unwrappers).toEqual(['Functiontoken']);
    const token = functions.find((fn) => fn.logicalId.startsWith('FunctiontokenFunction'));
    expect(
      allows(
        token?.statements ?? [],
        'kms:Decrypt',
        { 'kms:EncryptionContext:purpose': ['other'] },
        key,
      ),
    ).toBe(false);
    expect(allows(token?.statements ?? [], 'kms:Encrypt', signing, key)).toBe(false);
  });

  let first: string;
  let before: string;

  it('has a key from deploy; 100 tokens cost one Decrypt and no Sign, and verify against the JWKS', async () => {
    const published = await jwks();
    expect(published.keys).toHaveLength(1);
    first = published.keys[0]?.kid as string;
    expect(published.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(published.keys[0]).not.toHaveProperty('d');
    app.awsCalls.length = 0;
    const tokens: string[] = [];
    for (let i = 0; i < 100; i++) tokens.push(await token());
    expect(kmsCalls()).toEqual(['token kms:Decrypt']);
    for (const jwt of [tokens[0], tokens[99]] as string[]) {
      expect((await verify(jwt, published)).protectedHeader.kid).toBe(first);
    }
    before = tokens[99] as string;
    // The publishing and verifying functions never call KMS.
    app.awsCalls.length = 0;
    expect((await introspect(before)).active).toBe(true);
    expect(kmsCalls()).toEqual([]);
  });

  it('rotates: the JWKS lists both keys at once, tokens keep the old key until the new one activates, then switch', async () => {
    const started = Math.floor(Date.now() / 1000);
    const rotated = (await app.invoke('key-rotation', SCHEDULED)) as {
      outcome: string;
      kid: string;
      activatesAt: number;
    };
    expect(rotated).toMatchObject({ outcome: 'created' });
    expect(rotated.kid).not.toBe(first);
    // Published one token lifetime (plus one keyring refresh) before it signs.
    expect(rotated.activatesAt - started).toBeGreaterThanOrEqual(LIFETIME + 1);
    // A run retried by EventBridge adds nothing while the key waits.
    expect(await app.invoke('key-rotation', SCHEDULED)).toEqual({
      outcome: 'unchanged',
      kid: rotated.kid,
    });

    await sleep(1100); // one keyring refresh
    const both = await jwks();
    expect(both.keys.map((k) => k.kid)).toEqual([first, rotated.kid]);
    // Tokens signed before the rotation verify against it; new ones still use the old key.
    expect((await verify(before, both)).protectedHeader.kid).toBe(first);
    const pending = await token();
    expect(decodeProtectedHeader(pending).kid).toBe(first);

    // Just before the activation: the last tokens of the old key.
    await sleep(Math.max(0, (rotated.activatesAt - 3) * 1000 - Date.now()));
    const last = await token();
    expect(decodeProtectedHeader(last).kid).toBe(first);
    app.awsCalls.length = 0;
    await sleep(Math.max(0, (rotated.activatesAt + 1) * 1000 - Date.now()));
    const after = await token();
    expect(decodeProtectedHeader(after).kid).toBe(rotated.kid);
    // The new key's private half is unwrapped once, still no Sign.
    expect(kmsCalls()).toEqual(['token kms:Decrypt']);
    for (let i = 0; i < 20; i++) expect(decodeProtectedHeader(await token()).kid).toBe(rotated.kid);
    expect(kmsCalls()).toEqual(['token kms:Decrypt']);

    // The old key's last token still verifies, against the JWKS and at introspection.
    const now = await jwks();
    expect(now.keys.map((k) => k.kid)).toEqual([rotated.kid, first]);
    expect(decodeJwt(last).exp as number).toBeGreaterThan(Date.now() / 1000);
    expect((await verify(last, now)).protectedHeader.kid).toBe(first);
    expect((await verify(after, now)).protectedHeader.kid).toBe(rotated.kid);
    expect((await introspect(last)).active).toBe(true);
    expect((await introspect(after)).active).toBe(true);
  }, 240_000);
});
