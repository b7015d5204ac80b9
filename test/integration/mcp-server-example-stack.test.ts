import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpServerStack } from '../../examples/mcp-server/cdk/stack.js';
import { freePort } from '../support/free-port.js';
import { type InteractiveServer, startInteractiveServer } from '../support/interactive.js';
import { whoamiThroughCodeFlow } from '../support/mcp-sdk-provider.js';
import { stackFunctions, type Template } from '../support/synthesized-stack.js';

/**
 * The example MCP server's CDK app as synthesized, its bundles loaded from cdk.out, behind an
 * API Gateway HTTP API stand-in that does what the template says: routes, the Lambda request
 * authorizer (identity source, simple responses, 401 without the header, 403 on a denial) and
 * the caller passed to the integration. The MCP SDK client completes the code flow through it.
 */
type Handler = (event: unknown) => Promise<Record<string, unknown>>;

let server: InteractiveServer;
let gateway: Server;
let outdir: string;
let resource: string;

/** What a route's Fn::Join/Fn::GetAtt names: the function among `handlers` it mentions. */
const functionIn = (value: unknown, handlers: Map<string, Handler>) =>
  [...handlers].find(([id]) => JSON.stringify(value).includes(`"${id}"`))?.[1];

function startGateway(port: number, template: Template, handlers: Map<string, Handler>) {
  const byType = (type: string) =>
    Object.entries(template.Resources).filter(([, r]) => r.Type === type);
  const integrations = new Map(byType('AWS::ApiGatewayV2::Integration'));
  const authorizers = new Map(byType('AWS::ApiGatewayV2::Authorizer'));
  const routes = byType('AWS::ApiGatewayV2::Route').map(([, r]) => {
    const integrationId = JSON.stringify(r.Properties.Target).match(/"Ref":"([^"]+)"/)?.[1] ?? '';
    const authorizer = authorizers.get(r.Properties.AuthorizerId?.Ref);
    return {
      key: r.Properties.RouteKey as string,
      integration: functionIn(integrations.get(integrationId)?.Properties.IntegrationUri, handlers),
      authorizer: authorizer && functionIn(authorizer.Properties.AuthorizerUri, handlers),
    };
  });
  const json = (res: import('node:http').ServerResponse, status: number, message: string) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ message }));
  };
  return new Promise<Server>((resolve) => {
    const http = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const url = new URL(req.url ?? '/', 'http://x');
      const method = req.method ?? 'GET';
      const route = routes.find((r) => r.key === `${method} ${url.pathname}`);
      if (!route?.integration) return json(res, 404, 'Not Found');
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]),
      ) as Record<string, string>;
      const http = {
        method,
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: '',
      };
      let context: unknown;
      if (route.authorizer) {
        // The identity source: without it API Gateway answers 401 and never calls the authorizer.
        if (!headers.authorization) return json(res, 401, 'Unauthorized');
        const decision = await route.authorizer({
          version: '2.0',
          type: 'REQUEST',
          routeKey: route.key,
          rawPath: url.pathname,
          rawQueryString: url.search.slice(1),
          identitySource: [headers.authorization],
          headers,
          requestContext: { http, domainName: `127.0.0.1:${port}` },
        });
        if (decision.isAuthorized !== true) return json(res, 403, 'Forbidden');
        context = { lambda: decision.context };
      }
      const body = Buffer.concat(chunks);
      const result = await route.integration({
        version: '2.0',
        routeKey: route.key,
        rawPath: url.pathname,
        rawQueryString: url.search.slice(1),
        headers,
        requestContext: { http, ...(context !== undefined && { authorizer: context }) },
        isBase64Encoded: true,
        ...(body.length && { body: body.toString('base64') }),
      });
      res.writeHead(Number(result.statusCode), result.headers as Record<string, string>);
      res.end(result.body as string);
    });
    http.listen(port, '127.0.0.1', () => resolve(http));
  });
}

beforeAll(async () => {
  const port = await freePort();
  resource = `http://127.0.0.1:${port}/mcp`;
  server = await startInteractiveServer({
    DCR_RESOURCES: resource,
    DCR_ALLOWED_SCOPES: 'mcp:tools',
  });
  outdir = mkdtempSync(join(tmpdir(), 'mcp-example-cdk-'));
  const app = new App({ outdir });
  new McpServerStack(app, 'McpServerExample', {
    issuer: server.app.issuer,
    scopes: ['mcp:tools'],
    resource,
  });
  app.synth({ validateOnSynthesis: false });
  const template = JSON.parse(
    readFileSync(join(outdir, 'McpServerExample.template.json'), 'utf8'),
  ) as Template;
  const handlers = new Map<string, Handler>();
  for (const fn of stackFunctions(outdir, template)) {
    // Both functions read the same RS_* settings when their bundles load, as on Lambda.
    Object.assign(process.env, fn.environment);
    const bundle = (await import(pathToFileURL(fn.bundle).href)) as { handler: Handler };
    handlers.set(fn.logicalId, bundle.handler);
  }
  gateway = await startGateway(port, template, handlers);
}, 180_000);
afterAll(async () => {
  await new Promise<void>((resolve) => {
    gateway?.close(() => resolve());
    gateway?.closeAllConnections();
  });
  await server?.close();
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

describe('the example MCP server as deployed on Lambda behind the authorizer', () => {
  it('serves its metadata publicly; /mcp without a token is 401, with a bad one 403', async () => {
    const metadata = await fetch(
      resource.replace('/mcp', '/.well-known/oauth-protected-resource/mcp'),
    );
    expect(await metadata.json()).toMatchObject({
      resource,
      authorization_servers: [server.app.issuer],
      scopes_supported: ['mcp:tools'],
    });
    expect((await fetch(resource, { method: 'POST', body: '{}' })).status).toBe(401);
    const forged = await fetch(resource, {
      method: 'POST',
      headers: { authorization: 'Bearer not.a.token' },
      body: '{}',
    });
    expect(forged.status).toBe(403);
  });

  it('the MCP SDK client signs the user in and calls whoami through API Gateway', async () => {
    const { whoami, clientId } = await whoamiThroughCodeFlow(resource);
    expect(whoami).toEqual({ sub: server.subOf('alice'), client_id: clientId, scope: 'mcp:tools' });
  });
});
