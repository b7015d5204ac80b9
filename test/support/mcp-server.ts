import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import * as oauth from 'oauth4webapi';

const insecure = { [oauth.allowInsecureRequests]: true } as const;

export interface TestMcpServer {
  /** The protected resource (RFC 9728 `resource`): the MCP endpoint's URL. */
  readonly resource: string;
  /** Names the authorization server once it is up (its resources name this server first). */
  setIssuer(issuer: string): void;
  close(): Promise<void>;
}

const headersOf = (req: IncomingMessage) =>
  Object.fromEntries(
    Object.entries(req.headers).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );

/**
 * A small MCP server as a resource server: RFC 9728 protected resource metadata naming our
 * issuer, access tokens validated offline (RFC 9068, oauth4webapi) with the resource as
 * audience, and one tool, `whoami`, answering the token's subject and client.
 */
export async function startMcpServer(scopes: readonly string[]): Promise<TestMcpServer> {
  let issuer: URL | undefined;
  let as: oauth.AuthorizationServer | undefined;
  let origin = '';
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', origin);
    const resource = `${origin}/mcp`;
    if (url.pathname.startsWith('/.well-known/oauth-protected-resource')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          resource,
          authorization_servers: [issuer?.href.replace(/\/$/, '')],
          scopes_supported: scopes,
          bearer_methods_supported: ['header'],
        }),
      );
      return;
    }
    let claims: oauth.JWTAccessTokenClaims;
    try {
      if (issuer === undefined) throw new Error('no issuer yet');
      as ??= await oauth.processDiscoveryResponse(
        issuer,
        await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
      );
      claims = await oauth.validateJwtAccessToken(
        as,
        new Request(url, { headers: headersOf(req) }),
        resource,
        insecure,
      );
    } catch {
      res.writeHead(401, {
        'www-authenticate': `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp", scope="${scopes.join(' ')}"`,
      });
      res.end();
      return;
    }
    const mcp = new McpServer({ name: 'test-mcp', version: '1.0.0' });
    mcp.registerTool('whoami', { description: 'the token subject and client' }, async () => ({
      content: [
        { type: 'text', text: JSON.stringify({ sub: claims.sub, client_id: claims.client_id }) },
      ],
    }));
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => {
      void transport.close();
      void mcp.close();
    });
    await mcp.connect(transport);
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    resource: `${origin}/mcp`,
    setIssuer: (value) => {
      issuer = new URL(value);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
