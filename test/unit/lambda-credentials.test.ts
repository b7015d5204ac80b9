import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultProvider } from '../../lambdas/aws/lambda-credentials.js';

// The credentials a Lambda function's bundle resolves (the SDK's default chain is replaced by
// this one at bundling): from the environment, else from the container credentials endpoint.

const VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_PROFILE',
];

/** A container credentials endpoint on loopback, as Lambda serves one where it does. */
async function credentialsEndpoint(expiresInMs: number) {
  const requests: IncomingMessage[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(request);
    response.setHeader('content-type', 'application/json');
    response.end(
      JSON.stringify({
        AccessKeyId: `container-key-${requests.length}`,
        SecretAccessKey: 'container-secret',
        Token: 'container-session',
        Expiration: new Date(Date.now() + expiresInMs).toISOString(),
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/credentials`, requests, server };
}

describe('the credentials of a deployed function', () => {
  let saved: Record<string, string | undefined>;
  let server: Server | undefined;

  beforeEach(() => {
    saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));
    for (const name of VARIABLES) delete process.env[name];
  });
  afterEach(() => {
    for (const name of VARIABLES) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    server?.close();
    vi.useRealTimers();
  });

  it('are the execution role credentials Lambda puts in the environment', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'env-key';
    process.env.AWS_SECRET_ACCESS_KEY = 'env-secret';
    process.env.AWS_SESSION_TOKEN = 'env-session';
    const credentials = await defaultProvider()();
    expect(credentials).toMatchObject({
      accessKeyId: 'env-key',
      secretAccessKey: 'env-secret',
      sessionToken: 'env-session',
    });
  });

  it('come from the container credentials endpoint, with its token, when the environment has none', async () => {
    const endpoint = await credentialsEndpoint(3_600_000);
    server = endpoint.server;
    process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = endpoint.url;
    process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN = 'lambda-authorization-token';
    const provider = defaultProvider();
    expect(await provider()).toMatchObject({
      accessKeyId: 'container-key-1',
      sessionToken: 'container-session',
    });
    expect(endpoint.requests[0]?.headers.authorization).toBe('lambda-authorization-token');
    // Kept while valid: one request for many calls.
    await provider();
    expect(endpoint.requests).toHaveLength(1);
  });

  it('are fetched again before they expire', async () => {
    const endpoint = await credentialsEndpoint(4 * 60_000); // within the 5-minute margin
    server = endpoint.server;
    process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = endpoint.url;
    const provider = defaultProvider();
    await provider();
    const fetched = endpoint.requests.length;
    const next = await provider();
    expect(endpoint.requests.length).toBe(fetched + 1);
    expect(next.accessKeyId).toBe(`container-key-${fetched + 1}`);
  });

  it('are refused plainly when Lambda gave none', async () => {
    await expect(defaultProvider()()).rejects.toThrow();
  });
});
