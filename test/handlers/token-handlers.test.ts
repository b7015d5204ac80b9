import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClientRecord } from '../../lambdas/core/clients/ports.js';
import { hashSecret } from '../../lambdas/core/secrets.js';
import type { LambdaHandler } from '../../lambdas/http/lambda.js';
import { API_DOMAIN, apiEvent } from '../support/apigw.js';
import { capturingLogs } from '../support/faults.js';

const ISSUER = `https://${API_DOMAIN}`;
const KEY_ID = 'arn:aws:kms:eu-west-1:000000000000:key/test';
const dynamo = mockClient(DynamoDBDocumentClient);
const kms = mockClient(KMSClient);

const SECRET = 'a-secret-with-enough-entropy-for-the-test-only';
const clientItem: ClientRecord & { pk: string; sk: string } = {
  pk: 'client#agent-1',
  sk: 'client',
  clientId: 'agent-1',
  metadata: {
    grant_types: ['client_credentials'],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
    application_type: 'web',
    scope: 'read write',
  },
  clientIdIssuedAt: 1_800_000_000,
  secretHash: hashSecret(SECRET),
  clientSecretExpiresAt: 0,
  registrationTokenHash: hashSecret('rat'),
  version: 1,
};
const basic = `Basic ${Buffer.from(`agent-1:${SECRET}`).toString('base64')}`;
const form = (body: string, headers: Record<string, string> = { authorization: basic }) =>
  apiEvent('POST', '/token', {
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });

/** A KMS double that really signs with a local key, as KMS would (DER for ECDSA). */
function kmsSigningWith(privateKey: KeyObject, publicKey: KeyObject, keySpec: string) {
  kms.on(GetPublicKeyCommand).resolves({
    KeyId: KEY_ID,
    KeySpec: keySpec as 'RSA_2048',
    KeyUsage: 'SIGN_VERIFY',
    PublicKey: publicKey.export({ format: 'der', type: 'spki' }),
  });
  kms.on(SignCommand).callsFake(signingWith(privateKey));
}

/** KMS's Sign, answered by really signing with a local key. */
const signingWith =
  (privateKey: KeyObject) => (input: { SigningAlgorithm?: string; Message?: Uint8Array }) => ({
    KeyId: KEY_ID,
    SigningAlgorithm: input.SigningAlgorithm,
    Signature: sign('sha256', input.Message as Uint8Array, privateKey),
  });

async function loadHandlers() {
  vi.resetModules();
  return {
    token: (await import('../../lambdas/functions/token/handler.js')).handler as LambdaHandler,
    jwks: (await import('../../lambdas/functions/jwks/handler.js')).handler as LambdaHandler,
    introspect: (await import('../../lambdas/functions/introspect/handler.js'))
      .handler as LambdaHandler,
    logger: (await import('../../lambdas/log.js')).logger,
  };
}

beforeAll(() => {
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('DCR_TABLE_NAME', 'dcr-test');
  vi.stubEnv('DCR_KMS_KEY_ID', KEY_ID);
});
afterAll(() => vi.unstubAllEnvs());

beforeEach(() => {
  dynamo.reset();
  kms.reset();
  // The generic answer first: aws-sdk-client-mock lets a later generic one override.
  dynamo.on(GetCommand).resolves({});
  dynamo
    .on(GetCommand, { Key: { pk: 'client#agent-1', sk: 'client' } })
    .resolves({ Item: clientItem });
  dynamo.on(PutCommand).resolves({});
});

describe.each([
  ['RS256', 'RSA_2048', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
  ['ES256', 'ECC_NIST_P256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' })],
])('%s through KMS', (alg, keySpec, generate) => {
  it('issues a token that verifies against the published JWKS', async () => {
    const { privateKey, publicKey } = generate();
    kmsSigningWith(privateKey, publicKey, keySpec);
    const handlers = await loadHandlers();

    const result = await handlers.token(form('grant_type=client_credentials&scope=read'));
    expect(result.statusCode).toBe(200);
    // GetPublicKey once per container, however many tokens it signs.
    expect((await handlers.token(form('grant_type=client_credentials'))).statusCode).toBe(200);
    expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(1);
    const body = JSON.parse(result.body as string);
    const jwks = JSON.parse(
      (await handlers.jwks(apiEvent('GET', '/.well-known/jwks.json'))).body as string,
    );
    expect(jwks.keys).toEqual([
      expect.objectContaining({ alg, use: 'sig', kid: expect.any(String) }),
    ]);

    const { payload, protectedHeader } = await jwtVerify(
      body.access_token,
      createLocalJWKSet(jwks),
      {
        issuer: ISSUER,
        audience: ISSUER,
        typ: 'at+jwt',
      },
    );
    expect(protectedHeader).toEqual({ alg, typ: 'at+jwt', kid: jwks.keys[0].kid });
    expect(payload).toMatchObject({ sub: 'agent-1', client_id: 'agent-1', scope: 'read' });

    const sign = kms.commandCalls(SignCommand)[0]?.args[0].input;
    expect(sign).toMatchObject({
      KeyId: KEY_ID,
      MessageType: 'RAW',
      SigningAlgorithm: alg === 'RS256' ? 'RSASSA_PKCS1_V1_5_SHA_256' : 'ECDSA_SHA_256',
    });

    // The introspection function verifies with the published key, without signing.
    const introspected = await handlers.introspect(
      apiEvent('POST', '/introspect', {
        body: `token=${body.access_token}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
      }),
    );
    expect(JSON.parse(introspected.body as string)).toMatchObject({ active: true, scope: 'read' });
    expect(kms.commandCalls(SignCommand)).toHaveLength(2);
  });
});

describe('key rotation (DCR_KMS_PREVIOUS_KEY_IDS)', () => {
  afterAll(() => {
    vi.stubEnv('DCR_KMS_KEY_ID', KEY_ID);
    vi.stubEnv('DCR_KMS_PREVIOUS_KEY_IDS', '');
  });

  it('publishes the new key and the previous one; tokens of the previous key still introspect', async () => {
    const OLD = `${KEY_ID}-old`;
    const NEW = `${KEY_ID}-new`;
    const keys = new Map([
      [OLD, generateKeyPairSync('rsa', { modulusLength: 2048 })],
      [NEW, generateKeyPairSync('rsa', { modulusLength: 2048 })],
    ]);
    const pair = (id: string | undefined) => {
      const found = keys.get(id ?? '');
      if (!found) throw new Error(`no key ${id}`);
      return found;
    };
    kms.on(GetPublicKeyCommand).callsFake((input) => ({
      KeyId: input.KeyId,
      KeySpec: 'RSA_2048',
      KeyUsage: 'SIGN_VERIFY',
      PublicKey: pair(input.KeyId).publicKey.export({ format: 'der', type: 'spki' }),
    }));
    kms.on(SignCommand).callsFake((input) => ({
      KeyId: input.KeyId,
      SigningAlgorithm: input.SigningAlgorithm,
      Signature: sign('sha256', input.Message, pair(input.KeyId).privateKey),
    }));
    const tokenOf = async (handlers: Awaited<ReturnType<typeof loadHandlers>>) =>
      JSON.parse((await handlers.token(form('grant_type=client_credentials'))).body as string)
        .access_token as string;
    const introspect = async (handlers: Awaited<ReturnType<typeof loadHandlers>>, t: string) =>
      JSON.parse(
        (
          await handlers.introspect(
            apiEvent('POST', '/introspect', {
              body: `token=${t}`,
              headers: {
                'content-type': 'application/x-www-form-urlencoded',
                authorization: basic,
              },
            }),
          )
        ).body as string,
      );

    vi.stubEnv('DCR_KMS_KEY_ID', OLD);
    const before = await loadHandlers();
    const oldToken = await tokenOf(before);

    // The rotation: a new signing key, the old one still published until its tokens expire.
    vi.stubEnv('DCR_KMS_KEY_ID', NEW);
    vi.stubEnv('DCR_KMS_PREVIOUS_KEY_IDS', OLD);
    const after = await loadHandlers();
    const jwks = JSON.parse(
      (await after.jwks(apiEvent('GET', '/.well-known/jwks.json'))).body as string,
    );
    expect(jwks.keys).toHaveLength(2);
    const [newKid, oldKid] = jwks.keys.map((k: { kid: string }) => k.kid);
    const newToken = await tokenOf(after);
    const kidOf = (t: string) =>
      JSON.parse(Buffer.from(t.split('.')[0] as string, 'base64url').toString()).kid;
    expect(kidOf(newToken)).toBe(newKid);
    expect(kidOf(oldToken)).toBe(oldKid);
    expect(await introspect(after, oldToken)).toMatchObject({ active: true });
    expect(await introspect(after, newToken)).toMatchObject({ active: true });
    // Only the active key signs.
    expect(kms.commandCalls(SignCommand).map((c) => c.args[0].input.KeyId)).toEqual([OLD, NEW]);
  });
});

describe('KMS failures', () => {
  it('throttling becomes 503 with Retry-After', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    kmsSigningWith(privateKey, publicKey, 'ECC_NIST_P256');
    kms
      .on(SignCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const { token } = await loadHandlers();
    const result = await token(form('grant_type=client_credentials'));
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['retry-after']).toBe('1');
    expect(JSON.parse(result.body as string).error).toBe('temporarily_unavailable');
  });

  it('emits the Rejections metric the SigningUnavailable alarm watches', async () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    kms
      .on(GetPublicKeyCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const { token } = await loadHandlers();
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      expect((await token(form('grant_type=client_credentials'))).statusCode).toBe(503);
    } finally {
      write.mockRestore();
      vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    }
    const emf = lines
      .flatMap((l) => l.split('\n'))
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l));
    const rejection = emf.find((m) => 'Rejections' in m);
    expect(rejection).toMatchObject({
      service: 'serverless-dcr',
      endpoint: 'token',
      error: 'temporarily_unavailable',
      Rejections: 1,
      _aws: {
        CloudWatchMetrics: [
          expect.objectContaining({
            Namespace: 'ServerlessDcr',
            // Exactly the dimension set the alarm names: CloudWatch matches the whole set.
            Dimensions: [['service', 'endpoint', 'error']],
          }),
        ],
      },
    });
  });

  it('a disabled key becomes 503 and a loud log, without a stack trace in the body', async () => {
    kms
      .on(GetPublicKeyCommand)
      .rejects(Object.assign(new Error('key arn:... is disabled'), { name: 'DisabledException' }));
    const { token, logger } = await loadHandlers();
    const errors = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const result = await token(form('grant_type=client_credentials'));
    expect(result.statusCode).toBe(503);
    expect(result.body).not.toContain('arn:');
    expect(errors).toHaveBeenCalledWith('signing key unusable', { errorName: 'DisabledException' });
    errors.mockRestore();
  });

  it.each([
    ['ThrottlingException', 'warn', 'dependency unavailable'],
    ['KMSInternalException', 'warn', 'dependency unavailable'],
    ['TimeoutError', 'warn', 'dependency unavailable'],
    ['DisabledException', 'error', 'signing key unusable'],
    ['KMSInvalidStateException', 'error', 'signing key unusable'],
    ['KeyUnavailableException', 'error', 'signing key unusable'],
  ])(
    'Sign failing with %s: 503 + Retry-After, no token, one %s line (%s), and the next request signs',
    async (name, level, message) => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      kmsSigningWith(privateKey, publicKey, 'ECC_NIST_P256');
      kms
        .on(SignCommand)
        .rejectsOnce(Object.assign(new Error(`${name} for ${KEY_ID}`), { name, $fault: 'client' }))
        .callsFake(signingWith(privateKey));
      const { token, logger } = await loadHandlers();
      const { result, lines } = await capturingLogs(
        () => token(form('grant_type=client_credentials')),
        logger,
      );
      expect(result.statusCode).toBe(503);
      expect(result.headers?.['retry-after']).toBe('1');
      expect(JSON.parse(result.body as string)).toEqual({
        error: 'temporarily_unavailable',
        error_description: expect.any(String),
      });
      expect(lines.filter((l) => l.message !== 'request')).toEqual([
        { level, message, attributes: expect.objectContaining({ errorName: name }) },
      ]);
      expect(lines.find((l) => l.message === 'request')?.attributes).toMatchObject({
        status: 503,
        error: 'temporarily_unavailable',
      });
      const logged = JSON.stringify(lines);
      expect(logged).not.toContain(KEY_ID);
      expect(logged).not.toContain(SECRET);
      expect((await token(form('grant_type=client_credentials'))).statusCode).toBe(200);
    },
  );

  it('a key lookup that failed is retried by the next request', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    kms
      .on(GetPublicKeyCommand)
      .rejectsOnce(Object.assign(new Error('busy'), { name: 'KMSInternalException' }));
    const { token } = await loadHandlers();
    expect((await token(form('grant_type=client_credentials'))).statusCode).toBe(503);
    kmsSigningWith(privateKey, publicKey, 'ECC_NIST_P256');
    expect((await token(form('grant_type=client_credentials'))).statusCode).toBe(200);
  });
});

describe('configuration', () => {
  it('a signing function without DCR_KMS_KEY_ID fails its cold start', async () => {
    vi.stubEnv('DCR_KMS_KEY_ID', '');
    await expect(loadHandlers()).rejects.toThrow(/DCR_KMS_KEY_ID/);
    vi.stubEnv('DCR_KMS_KEY_ID', KEY_ID);
  });
});
