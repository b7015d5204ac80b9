import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LambdaHandler } from '../../lambdas/http/lambda.js';
import { API_DOMAIN, apiEvent } from '../support/apigw.js';
import { capturingLogs } from '../support/faults.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const dynamo = mockClient(DynamoDBDocumentClient);
const secrets = mockClient(SecretsManagerClient);
const COOKIE_KEY_ARN = 'arn:aws:secretsmanager:eu-west-1:000000000000:secret:cookie-AbCdEf';

/** The authorize function's environment as the stack sets it (an operator upstream). */
const STACK_ENV = {
  AWS_REGION: 'eu-west-1',
  AWS_LAMBDA_FUNCTION_NAME: 'authorize',
  DCR_TABLE_NAME: 'dcr-test',
  DCR_UPSTREAM_ISSUER: 'https://login.example.com',
  DCR_UPSTREAM_CLIENT_ID: 'dcr',
  DCR_COOKIE_KEY_SECRET_ARN: COOKIE_KEY_ARN,
};

async function loadHandler(env: Record<string, string | undefined>) {
  vi.resetModules();
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  return (await import('../../lambdas/functions/authorize/handler.js')).handler as LambdaHandler;
}

beforeEach(() => {
  dynamo.reset();
  secrets.reset();
  dynamo.on(GetCommand).resolves({});
  secrets.on(GetSecretValueCommand).resolves({ SecretString: 'k'.repeat(64) });
});
afterEach(() => vi.unstubAllEnvs());

describe('the authorize Lambda', () => {
  it('answers from the AWS wiring, with no call at cold start: an unknown client is a 401', async () => {
    const handler = await loadHandler(STACK_ENV);
    expect(dynamo.calls()).toHaveLength(0);
    expect(secrets.calls()).toHaveLength(0);
    const result = await handler(
      apiEvent('GET', '/authorize', {
        query: 'client_id=nobody&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&response_type=code',
        headers: { accept: 'application/json' },
      }),
    );
    expect(result.statusCode).toBe(401);
    expect(JSON.parse(result.body as string)).toMatchObject({ error: 'invalid_client' });
    expect(dynamo.commandCalls(GetCommand)[0]?.args[0].input.Key).toEqual({
      pk: 'client#nobody',
      sk: 'client',
    });
  });

  it.each([
    [{ DCR_UPSTREAM_ISSUER: undefined, DCR_UPSTREAM_CLIENT_ID: undefined }, /DCR_UPSTREAM_ISSUER/],
    [{ DCR_COOKIE_KEY_SECRET_ARN: undefined }, /DCR_COOKIE_KEY_SECRET_ARN/],
    [{ DCR_DEV_LOGIN: 'on' }, /development login never runs in Lambda/],
  ])('refuses to start with %o', async (changes, message) => {
    await expect(loadHandler({ ...STACK_ENV, ...changes })).rejects.toThrow(message);
  });
});

describe('faults at the first sign-in (Secrets Manager, the upstream)', () => {
  const UPSTREAM_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:000000000000:secret:upstream-XyZ';
  const UPSTREAM_SECRET = 'upstream-client-secret-value-never-logged';
  const REDIRECT = 'https://app.example/cb';
  const query = new URLSearchParams({
    client_id: 'mcp',
    redirect_uri: REDIRECT,
    response_type: 'code',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    state: 'client-state',
  }).toString();
  let upstream: Upstream;
  let handler: LambdaHandler;
  let handlerLogger: typeof import('../../lambdas/log.js').logger;

  beforeEach(async () => {
    upstream = await startUpstream(); // answers 503 until configured
    dynamo.on(GetCommand, { Key: { pk: 'client#mcp', sk: 'client' } }).resolves({
      Item: {
        pk: 'client#mcp',
        sk: 'client',
        clientId: 'mcp',
        metadata: {
          redirect_uris: [REDIRECT],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
          application_type: 'web',
        },
        clientIdIssuedAt: 1_800_000_000,
        clientSecretExpiresAt: 0,
        registrationTokenHash: 'h',
        version: 1,
      },
    });
    secrets
      .on(GetSecretValueCommand, { SecretId: UPSTREAM_SECRET_ARN })
      .rejectsOnce(
        Object.assign(new Error(`Rate exceeded for ${UPSTREAM_SECRET_ARN}`), {
          name: 'ThrottlingException',
          $fault: 'client',
        }),
      )
      .resolves({ SecretString: UPSTREAM_SECRET });
    handler = await loadHandler({
      ...STACK_ENV,
      DCR_UPSTREAM_ISSUER: upstream.issuer,
      DCR_UPSTREAM_CLIENT_SECRET_ARN: UPSTREAM_SECRET_ARN,
    });
    ({ logger: handlerLogger } = await import('../../lambdas/log.js'));
  });
  afterEach(() => upstream.close());

  /** One /authorize: the redirect's error, and what was logged besides the request line. */
  async function authorize() {
    const { result, lines } = await capturingLogs(
      () => handler(apiEvent('GET', '/authorize', { query })),
      handlerLogger,
    );
    const location = new URL(result.headers?.location as string);
    const faults = lines.filter((l) => l.message !== 'request');
    const logged = JSON.stringify(lines);
    expect(logged).not.toContain(UPSTREAM_SECRET);
    expect(logged).not.toContain('Rate exceeded');
    return { status: result.statusCode, location, faults };
  }

  it('each fault goes back to the client as temporarily_unavailable (never a 5xx), logged once; the next sign-in retries', async () => {
    // Secrets Manager throttles the upstream client secret's first read.
    const throttled = await authorize();
    expect(throttled.status).toBe(303);
    expect(throttled.location.origin + throttled.location.pathname).toBe(REDIRECT);
    expect(throttled.location.searchParams.get('error')).toBe('temporarily_unavailable');
    expect(throttled.location.searchParams.get('state')).toBe('client-state');
    expect(throttled.faults).toEqual([
      {
        level: 'warn',
        message: 'dependency unavailable',
        attributes: expect.objectContaining({
          service: 'sign-in',
          errorName: 'ThrottlingException',
        }),
      },
    ]);
    // The secret is read again; the upstream's discovery answers 503.
    const down = await authorize();
    expect(down.location.searchParams.get('error')).toBe('temporarily_unavailable');
    expect(down.faults).toEqual([
      {
        level: 'warn',
        message: 'dependency unavailable',
        attributes: expect.objectContaining({ service: 'the identity provider (discovery)' }),
      },
    ]);
    // The provider is back: the browser is sent to sign in there.
    upstream.configure([`https://${API_DOMAIN}/callback`]);
    const up = await authorize();
    expect(up.status).toBe(303);
    expect(up.location.origin).toBe(upstream.issuer);
    expect(up.faults).toEqual([]);
    expect(
      secrets.commandCalls(GetSecretValueCommand, { SecretId: UPSTREAM_SECRET_ARN }),
    ).toHaveLength(2);
  });
});
