import type {
  APIGatewayProxyEventV2WithLambdaAuthorizer,
  APIGatewayRequestAuthorizerEventV2,
} from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthorizerContext,
  authorizerFromEnvironment,
} from '../../resource-server/lambda-authorizer.js';
import { dpopKey, type StandInIssuer, startStandInIssuer } from '../support/stand-in-issuer.js';

/**
 * The Lambda shape: the kit's API Gateway authorizer and the example MCP server's function,
 * driven with API Gateway HTTP API (payload 2.0) events as the gateway sends them.
 */
const RESOURCE = 'https://mcp.example.com/mcp';
const BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'whoami', arguments: {} },
});

let issuer: StandInIssuer;
let authorize: ReturnType<typeof authorizerFromEnvironment>;
let server: typeof import('../../examples/mcp-server/lambda.js').handler;

beforeAll(async () => {
  issuer = await startStandInIssuer({ aud: RESOURCE });
  const env = {
    RS_ISSUER: issuer.issuer,
    RS_RESOURCE: RESOURCE,
    RS_SCOPES: 'mcp:tools',
    RS_DPOP_CONTENT_DIGEST: 'true',
  };
  Object.assign(process.env, env);
  authorize = authorizerFromEnvironment(env);
  ({ handler: server } = await import('../../examples/mcp-server/lambda.js'));
});
afterAll(async () => {
  await issuer?.close();
});

const http = (method: string, path: string) => ({
  method,
  path,
  protocol: 'HTTP/1.1',
  sourceIp: '127.0.0.1',
  userAgent: 'test',
});

const authorizerEvent = (headers: Record<string, string>): APIGatewayRequestAuthorizerEventV2 =>
  ({
    version: '2.0',
    type: 'REQUEST',
    routeArn: 'arn:aws:execute-api:eu-west-1:1:api/$default/POST/mcp',
    identitySource: [headers.authorization ?? ''],
    routeKey: 'POST /mcp',
    rawPath: '/mcp',
    rawQueryString: '',
    headers,
    requestContext: {
      domainName: 'abc.execute-api.eu-west-1.amazonaws.com',
      http: http('POST', '/mcp'),
    },
  }) as unknown as APIGatewayRequestAuthorizerEventV2;

const serverEvent = (
  rawPath: string,
  context: Partial<AuthorizerContext> | undefined,
  body = BODY,
  method = 'POST',
) =>
  ({
    version: '2.0',
    routeKey: `${method} ${rawPath}`,
    rawPath,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body,
    isBase64Encoded: false,
    requestContext: { http: http(method, rawPath), authorizer: context && { lambda: context } },
  }) as unknown as APIGatewayProxyEventV2WithLambdaAuthorizer<Partial<AuthorizerContext>>;

const whoami = (result: { statusCode?: number; body?: string }) => {
  expect(result.statusCode).toBe(200);
  return JSON.parse(JSON.parse(result.body ?? '{}').result.content[0].text);
};

describe('the authorizer and the MCP function', () => {
  it('a Bearer token: authorized, the caller passed to the function, whoami answers', async () => {
    const decision = await authorize(
      authorizerEvent({ authorization: `Bearer ${await issuer.token()}` }),
    );
    expect(decision).toEqual({
      isAuthorized: true,
      context: {
        sub: 'user-1',
        client_id: 'client-1',
        scope: 'mcp:tools',
        token_type: 'Bearer',
        jkt: '',
        content_digest: '',
      },
    });
    expect(await whoami(await server(serverEvent('/mcp', decision.context)))).toEqual({
      sub: 'user-1',
      client_id: 'client-1',
      scope: 'mcp:tools',
    });
  });

  it('refuses a token for another audience and one lacking the scope', async () => {
    for (const claims of [{ aud: 'https://other.example/mcp' }, { scope: 'other' }]) {
      const token = await issuer.token(claims);
      expect(await authorize(authorizerEvent({ authorization: `Bearer ${token}` }))).toEqual({
        isAuthorized: false,
        context: {},
      });
    }
  });

  it('DPoP: the authorizer checks the proof, the function checks the body it signed', async () => {
    const key = await dpopKey();
    const token = await issuer.token({ cnf: { jkt: key.jkt } });
    const proof = await key.proof({ method: 'POST', url: RESOURCE, token, body: BODY });
    const headers = { authorization: `DPoP ${token}`, dpop: proof };
    const decision = await authorize(authorizerEvent(headers));
    expect(decision.isAuthorized).toBe(true);
    expect(decision.context).toMatchObject({ token_type: 'DPoP', jkt: key.jkt });

    const swapped = await server(serverEvent('/mcp', decision.context, BODY.replace('1', '2')));
    expect(swapped.statusCode).toBe(401);
    expect(swapped.headers?.['www-authenticate']).toContain('error="invalid_dpop_proof"');
    expect(await whoami(await server(serverEvent('/mcp', decision.context)))).toMatchObject({
      sub: 'user-1',
    });
    // The same proof again: refused by the authorizer's replay cache.
    expect((await authorize(authorizerEvent(headers))).isAuthorized).toBe(false);
  });

  it('DPoP: a bound token sent as Bearer is refused', async () => {
    const key = await dpopKey();
    const token = await issuer.token({ cnf: { jkt: key.jkt } });
    expect(
      (await authorize(authorizerEvent({ authorization: `Bearer ${token}` }))).isAuthorized,
    ).toBe(false);
  });

  it('the function serves the RFC 9728 metadata on its public route', async () => {
    const result = await server(
      serverEvent('/.well-known/oauth-protected-resource/mcp', undefined, '', 'GET'),
    );
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body ?? '{}')).toMatchObject({
      resource: RESOURCE,
      authorization_servers: [issuer.issuer],
      scopes_supported: ['mcp:tools'],
    });
  });
});
