import type { APIGatewayProxyEventV2 } from 'aws-lambda';

export const API_DOMAIN = 'abc123.execute-api.eu-west-1.amazonaws.com';

/** An API Gateway HTTP API payload v2 event, as the $default stage delivers it. */
export function apiEvent(
  method: string,
  path: string,
  options: {
    body?: unknown;
    headers?: Record<string, string>;
    base64?: boolean;
    /** The IAM principal API Gateway authenticated (IAM-authorized routes). */
    principal?: string;
    /** The raw query string, without `?`. */
    query?: string;
  } = {},
): APIGatewayProxyEventV2 {
  const raw =
    options.body === undefined
      ? undefined
      : typeof options.body === 'string'
        ? options.body
        : JSON.stringify(options.body);
  const headers = {
    ...(options.body !== undefined && { 'content-type': 'application/json' }),
    ...options.headers,
  };
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: options.query ?? '',
    headers,
    requestContext: {
      accountId: '000000000000',
      apiId: 'abc123',
      domainName: API_DOMAIN,
      domainPrefix: 'abc123',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'test' },
      requestId: 'req-1',
      routeKey: '$default',
      ...(options.principal !== undefined && {
        authorizer: { iam: { userArn: options.principal } },
      }),
      stage: '$default',
      time: '27/Nov/2026:10:00:00 +0000',
      timeEpoch: 1_800_000_000_000,
    },
    isBase64Encoded: options.base64 ?? false,
    ...(raw !== undefined && {
      body: options.base64 ? Buffer.from(raw).toString('base64') : raw,
    }),
  };
}
