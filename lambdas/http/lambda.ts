import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { clientCertificate } from './client-certificate.js';
import type { HttpRequest, HttpResponse } from './message.js';
import type { Router } from './router.js';

export type LambdaHandler = (
  event: APIGatewayProxyEventV2,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** The router's answer, with what the logs want to know beside the result: client, actor. */
export type LambdaOutcome = {
  result: APIGatewayProxyStructuredResultV2;
  clientId?: string;
  actor?: string;
  /** The OAuth error code of an error response (JSON, a page or an error redirect). */
  error?: string;
};

/** API Gateway HTTP API (payload v2) event → HttpRequest. Its header names are lower case. */
const iamPrincipal = (event: APIGatewayProxyEventV2) =>
  (event.requestContext as { authorizer?: { iam?: { userArn?: string } } }).authorizer?.iam
    ?.userArn;

/** API Gateway's mutual TLS (custom domain with a truststore) passes the verified certificate. */
const verifiedCertificate = (event: APIGatewayProxyEventV2) => {
  const pem = (
    event.requestContext as { authentication?: { clientCert?: { clientCertPem?: string } | null } }
  ).authentication?.clientCert?.clientCertPem;
  return pem === undefined ? undefined : clientCertificate(pem);
};

const toRequest = (event: APIGatewayProxyEventV2): HttpRequest => {
  const principal = iamPrincipal(event);
  const certificate = verifiedCertificate(event);
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    query: event.rawQueryString ?? '',
    // Payload v2 moves Cookie headers into `cookies`: put them back where the router reads them.
    headers:
      event.cookies && event.cookies.length > 0
        ? { ...event.headers, cookie: event.cookies.join('; ') }
        : (event.headers ?? {}),
    sourceIp: event.requestContext.http.sourceIp,
    ...(principal !== undefined && { principal }),
    ...(certificate && { clientCertificate: certificate }),
    ...(event.body !== undefined && {
      body: Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8'),
    }),
  };
};

const toResult = (response: HttpResponse): APIGatewayProxyStructuredResultV2 => ({
  statusCode: response.status,
  headers: response.headers,
  ...(response.body !== undefined && { body: response.body }),
  ...(response.base64 && { isBase64Encoded: true }),
  ...(response.cookies !== undefined && { cookies: [...response.cookies] }),
});

/**
 * API Gateway in front of the router: event → request → router → response → result (and the
 * client it concerned, for the log line). The issuer is configured, or else API Gateway's own
 * domain for this request — never the client-supplied Host header.
 */
export function serveApiGatewayEvents(
  router: Router,
  configuredIssuer?: string,
): (event: APIGatewayProxyEventV2) => Promise<LambdaOutcome> {
  return async (event) => {
    const issuer = configuredIssuer ?? `https://${event.requestContext.domainName}`;
    const response = await router(toRequest(event), issuer);
    return {
      result: toResult(response),
      ...(response.clientId !== undefined && { clientId: response.clientId }),
      ...(response.actor !== undefined && { actor: response.actor }),
      ...(response.error !== undefined && { error: response.error }),
    };
  };
}
