import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  createVerifier,
  type McpAuthInfo,
  nodeGuard,
  nodeMetadataHandler,
  type VerifierOptions,
} from '../../resource-server/index.js';

export interface McpExampleOptions {
  port: number;
  issuer: string;
  /** The canonical URL of the MCP endpoint, e.g. `http://127.0.0.1:3001/mcp`. */
  resource: string;
  /** The scopes the tools need. */
  scopes: readonly string[];
  dpop?: VerifierOptions['dpop'];
}

/** The MCP server: one tool, `whoami`, answering who the access token speaks for. */
export function mcpServer(): McpServer {
  const mcp = new McpServer({ name: 'serverless-dcr-example', version: '1.0.0' });
  mcp.registerTool(
    'whoami',
    { description: "The access token's subject, client and scope" },
    async ({ authInfo }) => {
      const auth = authInfo as McpAuthInfo | undefined;
      const answer = {
        sub: auth?.extra.sub,
        client_id: auth?.clientId,
        scope: auth?.scopes.join(' '),
      };
      return { content: [{ type: 'text' as const, text: JSON.stringify(answer) }] };
    },
  );
  return mcp;
}

/** The example MCP server on node:http, protected by the resource-server kit. */
export async function startMcpExample(options: McpExampleOptions): Promise<Server> {
  const verifier = createVerifier({
    issuer: options.issuer,
    resource: options.resource,
    ...(options.dpop && { dpop: options.dpop }),
  });
  const metadata = nodeMetadataHandler(verifier, { scopes: options.scopes });
  const guard = nodeGuard(verifier, { scopes: options.scopes });
  const path = new URL(options.resource).pathname;
  const server = createServer(async (req, res) => {
    if (metadata(req, res)) return;
    if (new URL(req.url ?? '/', 'http://x').pathname !== path) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'not_found', error_description: 'no such path' }));
      return;
    }
    const allowed = await guard(req, res);
    if (!allowed) return;
    let body: unknown;
    try {
      body = allowed.body.length ? JSON.parse(allowed.body.toString('utf8')) : undefined;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          jsonrpc: '2.0',
          error: { code: -32700, message: 'Parse error' },
          id: null,
        }),
      );
      return;
    }
    // Stateless: one server and transport per request.
    const mcp = mcpServer();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => {
      void transport.close();
      void mcp.close();
    });
    await mcp.connect(transport);
    await transport.handleRequest(req, res, body);
  });
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  return server;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const env = process.env;
  const port = Number(env.PORT ?? 3001);
  const server = await startMcpExample({
    port,
    issuer: env.ISSUER ?? 'http://127.0.0.1:3000',
    resource: env.RESOURCE ?? `http://127.0.0.1:${port}/mcp`,
    scopes: (env.SCOPES ?? '').split(' ').filter(Boolean),
  });
  const { port: bound } = server.address() as AddressInfo;
  console.log(`MCP server on http://127.0.0.1:${bound}/mcp`);
}
