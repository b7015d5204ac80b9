import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LambdaHandler } from '../../lambdas/http/lambda.js';
import { apiEvent } from '../support/apigw.js';

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
  return (await import('../../lambdas/authorize/handler.js')).handler as LambdaHandler;
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
