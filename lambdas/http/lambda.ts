import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { invalidRequest } from '../core/errors.js';
import { errorResponse } from './responses.js';
import type { Router } from './router.js';

export type LambdaHandler = (
  event: APIGatewayProxyEventV2,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** API Gateway HTTP API (payload v2) event → Web Request. */
function toRequest(event: APIGatewayProxyEventV2): Request {
  const { http, domainName } = event.requestContext;
  const query = event.rawQueryString ? `?${event.rawQueryString}` : '';
  const hasBody = http.method !== 'GET' && http.method !== 'HEAD' && event.body !== undefined;
  const headers = new Headers();
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers.set(name, value);
  }
  return new Request(`https://${domainName}${event.rawPath}${query}`, {
    method: http.method,
    headers,
    ...(hasBody && {
      body: Buffer.from(event.body as string, event.isBase64Encoded ? 'base64' : 'utf8'),
    }),
  });
}

async function toResult(response: Response): Promise<APIGatewayProxyStructuredResultV2> {
  const body = await response.text();
  return {
    statusCode: response.status,
    headers: Object.fromEntries(response.headers),
    ...(body !== '' && { body }),
  };
}

/**
 * Thin Lambda entry: event → Request → router → Response → result. The issuer is configured,
 * or else API Gateway's own domain for this request — never the client-supplied Host header.
 */
export function toLambdaHandler(router: Router, configuredIssuer?: string): LambdaHandler {
  return async (event) => {
    let request: Request;
    try {
      request = toRequest(event);
    } catch {
      return toResult(errorResponse(invalidRequest('malformed HTTP request')));
    }
    const issuer = configuredIssuer ?? `https://${event.requestContext.domainName}`;
    return toResult(await router(request, issuer));
  };
}
