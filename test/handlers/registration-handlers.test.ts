import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LambdaHandler } from '../../lambdas/http/lambda.js';
import { logger } from '../../lambdas/log.js';
import { API_DOMAIN, apiEvent } from '../support/apigw.js';

const dynamo = mockClient(DynamoDBDocumentClient);
const ISSUER = `https://${API_DOMAIN}`;

let register: LambdaHandler;
let configuration: LambdaHandler;
let discovery: LambdaHandler;

beforeAll(async () => {
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('DCR_TABLE_NAME', 'dcr-test');
  ({ handler: register } = await import('../../lambdas/functions/register/handler.js'));
  ({ handler: configuration } = await import(
    '../../lambdas/functions/client-configuration/handler.js'
  ));
  ({ handler: discovery } = await import('../../lambdas/functions/discovery/handler.js'));
});

beforeEach(() => {
  dynamo.reset();
});

const parse = (body: string | undefined) => JSON.parse(body ?? 'null');
const throttled = () =>
  Object.assign(new Error('Rate exceeded'), {
    name: 'ProvisionedThroughputExceededException',
    $fault: 'client',
  });

describe('discovery handler', () => {
  it('serves RFC 8414 metadata with the API domain as issuer', async () => {
    const result = await discovery(apiEvent('GET', '/.well-known/oauth-authorization-server'));
    expect(result.statusCode).toBe(200);
    const metadata = parse(result.body);
    expect(metadata.issuer).toBe(ISSUER);
    expect(metadata.registration_endpoint).toBe(`${ISSUER}/register`);
    const oidc = await discovery(apiEvent('GET', '/.well-known/openid-configuration'));
    expect(parse(oidc.body)).toEqual(metadata);
  });

  it('ignores a client-supplied Host header when choosing the issuer', async () => {
    const result = await discovery(
      apiEvent('GET', '/.well-known/oauth-authorization-server', {
        headers: { host: 'evil.example' },
      }),
    );
    expect(parse(result.body).issuer).toBe(ISSUER);
  });
});

describe('register handler', () => {
  it('stores the client with a conditional put and answers 201 no-store', async () => {
    dynamo.on(PutCommand).resolves({});
    const result = await register(
      apiEvent('POST', '/register', { body: { grant_types: ['client_credentials'] } }),
    );
    expect(result.statusCode).toBe(201);
    expect(result.headers?.['cache-control']).toBe('no-store');
    expect(result.headers?.['access-control-allow-origin']).toBe('*');
    const body = parse(result.body);
    const [put] = dynamo.commandCalls(PutCommand);
    expect(put?.args[0].input).toMatchObject({
      TableName: 'dcr-test',
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: { pk: `client#${body.client_id}`, sk: 'client', version: 1 },
    });
    const stored = JSON.stringify(put?.args[0].input.Item);
    expect(stored).not.toContain(body.client_secret);
    expect(stored).not.toContain(body.registration_access_token);
  });

  it('logs one line per request with the client, never a secret', async () => {
    dynamo.on(PutCommand).resolves({});
    const info = vi.spyOn(logger, 'info');
    const result = await register(
      apiEvent('POST', '/register', { body: { grant_types: ['client_credentials'] } }),
    );
    const body = parse(result.body);
    expect(info).toHaveBeenCalledWith('request', {
      method: 'POST',
      path: '/register',
      status: 201,
      latencyMs: expect.any(Number),
      clientId: body.client_id,
    });
    const logged = JSON.stringify(info.mock.calls);
    expect(logged).not.toContain(body.client_secret);
    expect(logged).not.toContain(body.registration_access_token);
    info.mockRestore();
  });

  it('decodes base64 bodies', async () => {
    dynamo.on(PutCommand).resolves({});
    const result = await register(
      apiEvent('POST', '/register', {
        body: { grant_types: ['client_credentials'] },
        base64: true,
      }),
    );
    expect(result.statusCode).toBe(201);
  });

  it('turns DynamoDB throttling into 503 with Retry-After', async () => {
    dynamo.on(PutCommand).rejects(throttled());
    const result = await register(
      apiEvent('POST', '/register', { body: { grant_types: ['client_credentials'] } }),
    );
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['retry-after']).toBe('1');
    expect(parse(result.body).error).toBe('temporarily_unavailable');
  });

  it('turns an unexpected failure into a generic 500 that leaks nothing', async () => {
    dynamo.on(PutCommand).rejects(new Error('ValidationException: secret detail'));
    const result = await register(
      apiEvent('POST', '/register', { body: { grant_types: ['client_credentials'] } }),
    );
    expect(result.statusCode).toBe(500);
    expect(parse(result.body)).toEqual({
      error: 'server_error',
      error_description: 'internal error',
    });
  });

  it.each([
    ['malformed JSON', { body: '{"a":', headers: {} }, 400, 'invalid_request'],
    ['a JSON array', { body: '[]' }, 400, 'invalid_request'],
    [
      'form content type',
      { body: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      400,
      'invalid_request',
    ],
    [
      'a bad redirect URI',
      { body: { redirect_uris: ['http://example.com/cb'] } },
      400,
      'invalid_redirect_uri',
    ],
    ['a body over 64 KiB', { body: { client_name: 'x'.repeat(70_000) } }, 413, 'invalid_request'],
  ])('answers %s with %i %s and writes nothing', async (_, options, status, error) => {
    const result = await register(apiEvent('POST', '/register', options));
    expect(result.statusCode).toBe(status);
    expect(parse(result.body).error).toBe(error);
    expect(dynamo.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('answers a wrong method with 405 and Allow', async () => {
    const result = await register(apiEvent('GET', '/register'));
    expect(result.statusCode).toBe(405);
    expect(result.headers?.allow).toBe('POST, OPTIONS');
  });

  it('answers a CORS preflight', async () => {
    const result = await register(
      apiEvent('OPTIONS', '/register', {
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
      }),
    );
    expect(result.statusCode).toBe(204);
    expect(result.headers?.['access-control-allow-origin']).toBe('*');
    expect(result.headers?.['access-control-allow-methods']).toContain('POST');
    expect(result.headers?.['access-control-allow-headers']).toContain('content-type');
  });
});

describe('client configuration handler', () => {
  async function registered() {
    dynamo.on(PutCommand).resolves({});
    const result = await register(
      apiEvent('POST', '/register', { body: { grant_types: ['client_credentials'] } }),
    );
    const info = parse(result.body);
    const item = dynamo.commandCalls(PutCommand)[0]?.args[0].input.Item;
    dynamo.reset();
    dynamo.on(GetCommand).resolves({ Item: item });
    return { info, auth: { authorization: `Bearer ${info.registration_access_token}` } };
  }

  it('reads with a consistent get', async () => {
    const { info, auth } = await registered();
    const result = await configuration(
      apiEvent('GET', `/register/${info.client_id}`, { headers: auth }),
    );
    expect(result.statusCode).toBe(200);
    expect(parse(result.body).client_id).toBe(info.client_id);
    expect(dynamo.commandCalls(GetCommand)[0]?.args[0].input).toMatchObject({
      Key: { pk: `client#${info.client_id}`, sk: 'client' },
      ConsistentRead: true,
    });
  });

  it('answers 401 with WWW-Authenticate: Bearer without a token', async () => {
    const { info } = await registered();
    const result = await configuration(apiEvent('GET', `/register/${info.client_id}`));
    expect(result.statusCode).toBe(401);
    expect(result.headers?.['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
  });

  it('updates with a version condition and maps a lost race to 409', async () => {
    const { info, auth } = await registered();
    dynamo
      .on(PutCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }));
    const result = await configuration(
      apiEvent('PUT', `/register/${info.client_id}`, {
        headers: auth,
        body: { client_id: info.client_id, grant_types: ['client_credentials'] },
      }),
    );
    expect(result.statusCode).toBe(409);
    expect(parse(result.body).error).toBe('invalid_request');
    expect(dynamo.commandCalls(PutCommand)[0]?.args[0].input).toMatchObject({
      ConditionExpression:
        'attribute_exists(pk) AND attribute_not_exists(deletion) AND #version = :expected AND attribute_not_exists(lastUsedAt)',
      ExpressionAttributeValues: { ':expected': 1 },
      Item: { version: 2 },
    });
  });

  it('deletes and answers 204', async () => {
    const { info, auth } = await registered();
    dynamo.on(DeleteCommand).resolves({});
    const result = await configuration(
      apiEvent('DELETE', `/register/${info.client_id}`, { headers: auth }),
    );
    expect(result.statusCode).toBe(204);
    expect(result.body).toBeUndefined();
    expect(dynamo.commandCalls(DeleteCommand)).toHaveLength(1);
  });

  it('turns read throttling into 503', async () => {
    const { info, auth } = await registered();
    dynamo.on(GetCommand).rejects(throttled());
    const result = await configuration(
      apiEvent('GET', `/register/${info.client_id}`, { headers: auth }),
    );
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['retry-after']).toBeDefined();
  });
});

describe('security headers', () => {
  it('sends nosniff and, for the https issuer, HSTS on every response, errors included', async () => {
    dynamo.on(PutCommand).resolvesOnce({}).rejectsOnce(new Error('boom'));
    const machine = { body: { grant_types: ['client_credentials'] } };
    const results = {
      created: await register(apiEvent('POST', '/register', machine)),
      failed: await register(apiEvent('POST', '/register', machine)),
      invalid: await register(apiEvent('POST', '/register', { body: '{' })),
      unknown: await discovery(apiEvent('GET', '/nope')),
      wrongMethod: await register(apiEvent('GET', '/register')),
      preflight: await register(
        apiEvent('OPTIONS', '/register', {
          headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
        }),
      ),
      metadata: await discovery(apiEvent('GET', '/.well-known/oauth-authorization-server')),
    };
    expect(Object.values(results).map((r) => r.statusCode)).toEqual([
      201, 500, 400, 404, 405, 204, 200,
    ]);
    for (const [name, result] of Object.entries(results)) {
      expect(result.headers?.['x-content-type-options'], name).toBe('nosniff');
      expect(result.headers?.['strict-transport-security'], name).toBe(
        'max-age=63072000; includeSubDomains',
      );
    }
  });
});
