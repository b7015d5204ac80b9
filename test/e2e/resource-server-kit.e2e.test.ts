import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMcpExample } from '../../examples/mcp-server/server.js';
import { freePort } from '../support/free-port.js';
import {
  type InteractiveServer,
  startInteractiveServer,
  tokenRequest,
} from '../support/interactive.js';
import { whoamiThroughCodeFlow } from '../support/mcp-sdk-provider.js';
import { type Json, jsonPost, readJson } from '../support/server.js';

/**
 * The example MCP server, protected by the resource-server kit, with this authorization server:
 * machine tokens as Bearer, and the MCP TypeScript SDK client's whole code flow to a tool call.
 */

let server: InteractiveServer;
let mcp: Server;
let resource: string;

beforeAll(async () => {
  const port = await freePort();
  resource = `http://127.0.0.1:${port}/mcp`;
  server = await startInteractiveServer({
    DCR_RESOURCES: resource,
    DCR_ALLOWED_SCOPES: 'mcp:tools mcp:admin',
  });
  mcp = await startMcpExample({ port, issuer: server.app.issuer, resource, scopes: ['mcp:tools'] });
});
afterAll(async () => {
  await new Promise<void>((resolve) => {
    mcp?.close(() => resolve());
    mcp?.closeAllConnections();
  });
  await server?.close();
});

const CALL = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'whoami', arguments: {} },
});

const call = (authorization: string) =>
  fetch(resource, {
    method: 'POST',
    headers: {
      authorization,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: CALL,
  });

async function machineToken(scope: string): Promise<{ client: Json; token: string }> {
  const registration = await jsonPost(`${server.app.issuer}/register`, {
    grant_types: ['client_credentials'],
    scope,
  });
  expect(registration.status).toBe(201);
  const client = await readJson(registration);
  const response = await tokenRequest(
    server.app.issuer,
    { grant_type: 'client_credentials', scope, resource },
    {
      authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
    },
  );
  expect(response.status).toBe(200);
  return { client, token: (await readJson(response)).access_token };
}

describe('the kit with tokens from this authorization server', () => {
  it('a client_credentials token as Bearer reaches whoami', async () => {
    const { client, token } = await machineToken('mcp:tools');
    const response = await call(`Bearer ${token}`);
    expect(response.status).toBe(200);
    const { result } = await readJson(response);
    expect(JSON.parse(result.content[0].text)).toEqual({
      sub: client.client_id,
      client_id: client.client_id,
      scope: 'mcp:tools',
    });
  });

  it('a token without the tools scope: 403 insufficient_scope asking for it', async () => {
    const { token } = await machineToken('mcp:admin');
    const response = await call(`Bearer ${token}`);
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toMatch(
      /^Bearer resource_metadata="[^"]+", scope="mcp:tools", error="insufficient_scope"/,
    );
  });

  it('an unbound token presented with the DPoP scheme: 401', async () => {
    const { token } = await machineToken('mcp:tools');
    expect((await call(`DPoP ${token}`)).status).toBe(401);
  });

  it('the MCP SDK client meets the 401, signs the user in and calls whoami as that user', async () => {
    const { whoami, clientId } = await whoamiThroughCodeFlow(resource);
    expect(whoami).toEqual({ sub: server.subOf('alice'), client_id: clientId, scope: 'mcp:tools' });
  });
});
