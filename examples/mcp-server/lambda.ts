import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type {
  APIGatewayProxyEventV2WithLambdaAuthorizer,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda';
import { refusal } from '../../resource-server/challenges.js';
import {
  type AuthorizerContext,
  bodyMatchesDigest,
} from '../../resource-server/lambda-authorizer.js';
import { metadataResponse } from '../../resource-server/protected-resource-metadata.js';
import { createVerifier, ResourceError } from '../../resource-server/verifier.js';
import { mcpServer } from './server.js';

/**
 * The example MCP server on Lambda behind API Gateway and the kit's authorizer: the authorizer
 * verified the token (and DPoP proof); this function checks the proof's body digest, serves the
 * RFC 9728 metadata on its unprotected route, and answers MCP statelessly.
 */
const verifier = createVerifier({
  issuer: process.env.RS_ISSUER ?? '',
  resource: process.env.RS_RESOURCE ?? '',
});
const scopes = (process.env.RS_SCOPES ?? '').split(' ').filter(Boolean);

type Event = APIGatewayProxyEventV2WithLambdaAuthorizer<Partial<AuthorizerContext>>;

export async function handler(event: Event): Promise<APIGatewayProxyStructuredResultV2> {
  if (event.rawPath.startsWith('/.well-known/oauth-protected-resource')) {
    const answer = metadataResponse(verifier, { scopes });
    return { statusCode: answer.status, headers: answer.headers, body: answer.body };
  }
  const body = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  const caller = event.requestContext.authorizer?.lambda;
  if (!caller?.sub) return answer(new ResourceError(401, 'invalid_token', 'not authorized'));
  if (!bodyMatchesDigest(body, caller))
    return answer(
      new ResourceError(
        401,
        'invalid_dpop_proof',
        'the DPoP proof content_digest does not match the request body',
        {
          scheme: 'DPoP',
        },
      ),
    );
  const request = new Request(new URL(event.rawPath, verifier.resource), {
    method: event.requestContext.http.method,
    headers: Object.entries(event.headers ?? {}).filter(
      (e): e is [string, string] => e[1] !== undefined,
    ),
    ...(body.length && { body }),
  });
  const mcp = mcpServer();
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  await mcp.connect(transport);
  try {
    const response = await transport.handleRequest(request, {
      authInfo: {
        token: '',
        clientId: caller.client_id ?? '',
        scopes: (caller.scope ?? '').split(' ').filter(Boolean),
        resource: new URL(verifier.resource),
        extra: { sub: caller.sub },
      },
    });
    return {
      statusCode: response.status,
      headers: Object.fromEntries(response.headers),
      body: await response.text(),
    };
  } finally {
    await transport.close();
    await mcp.close();
  }
}

function answer(error: ResourceError): APIGatewayProxyStructuredResultV2 {
  const refused = refusal(verifier, error);
  return { statusCode: refused.status, headers: refused.headers, body: refused.body };
}
