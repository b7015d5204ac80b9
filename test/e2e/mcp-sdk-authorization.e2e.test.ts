import {
  type OAuthClientProvider,
  UnauthorizedError,
} from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalApp } from '../../local/app.js';
import { Browser } from '../support/browser.js';
import { type DocumentServer, startDocumentServer } from '../support/cimd-server.js';
import { type InteractiveServer, startInteractiveServer } from '../support/interactive.js';
import { startMcpServer, type TestMcpServer } from '../support/mcp-server.js';

/**
 * An MCP client built on the MCP TypeScript SDK, from its first 401 to a tool call: protected
 * resource metadata → our metadata → dynamic registration → authorization (the development
 * login locally, an upstream OpenID Provider on the synthesized stack, then consent, driven by a
 * scripted browser) → code exchange → the MCP server accepts the token and sees the user.
 */
const REDIRECT = 'http://localhost:47123/callback';

/** The SDK's view of the application: where it keeps its registration, tokens and verifier. */
class TestProvider implements OAuthClientProvider {
  code?: string;
  callback?: URL;
  private info?: OAuthClientInformationMixed;
  private saved?: OAuthTokens;
  private verifier = '';
  readonly redirectUrl = REDIRECT;
  constructor(
    private readonly browser: Browser,
    /** A Client ID Metadata Document URL: the SDK then uses it as client_id, unregistered. */
    readonly clientMetadataUrl?: string,
  ) {}
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'Test MCP client',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
  /** "Opens the browser": the person signs in and allows; the SDK then gets the code. */
  async redirectToAuthorization(url: URL) {
    this.callback = await this.browser.signIn(url, { user: 'alice', stopAt: REDIRECT });
    this.code = this.callback.searchParams.get('code') ?? undefined;
  }
}

let server: InteractiveServer;
let app: LocalApp;
let mcp: TestMcpServer;
let docs: DocumentServer;

beforeAll(async () => {
  mcp = await startMcpServer(['mcp:tools']);
  docs = await startDocumentServer();
  server = await startInteractiveServer({
    DCR_RESOURCES: mcp.resource,
    DCR_ALLOWED_SCOPES: 'mcp:tools',
    DCR_TRUSTED_FETCH_ORIGINS: docs.origin,
  });
  app = server.app;
  mcp.setIssuer(app.issuer);
});
afterAll(async () => {
  await server?.close();
  await mcp?.close();
  await docs?.close();
});

/** Connects with the provider's tokens and calls the MCP server's `whoami` tool. */
async function whoami(provider: TestProvider): Promise<unknown> {
  const client = new Client({ name: 't', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(mcp.resource), { authProvider: provider }),
  );
  const result = await client.callTool({ name: 'whoami', arguments: {} });
  const [content] = result.content as { type: string; text: string }[];
  await client.close();
  return JSON.parse(content?.text ?? '{}');
}

describe('the MCP TypeScript SDK client, end to end', () => {
  it('meets a 401, discovers, registers, signs the user in and calls a tool as that user', async () => {
    const provider = new TestProvider(new Browser());
    const transport = new StreamableHTTPClientTransport(new URL(mcp.resource), {
      authProvider: provider,
    });
    await expect(new Client({ name: 't', version: '1' }).connect(transport)).rejects.toThrow(
      UnauthorizedError,
    );
    // SDK 1.32 does not check iss itself; the server sent it exactly (RFC 9207).
    expect(provider.callback?.searchParams.get('iss')).toBe(app.issuer);
    expect(provider.code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await transport.finishAuth(provider.code as string);
    expect(provider.tokens()?.refresh_token).toEqual(expect.any(String));

    expect(await whoami(provider)).toEqual({
      sub: server.subOf('alice'),
      client_id: provider.clientInformation()?.client_id,
    });
  });

  it('identifies itself by a Client ID Metadata Document instead of registering', async () => {
    const { clientId: documentUrl } = docs.publishClient([REDIRECT], {
      client_name: 'Test MCP client (metadata document)',
      token_endpoint_auth_method: 'none',
    });
    const provider = new TestProvider(new Browser(), documentUrl);
    const transport = new StreamableHTTPClientTransport(new URL(mcp.resource), {
      authProvider: provider,
    });
    await expect(new Client({ name: 't', version: '1' }).connect(transport)).rejects.toThrow(
      UnauthorizedError,
    );
    expect(provider.clientInformation()?.client_id).toBe(documentUrl);
    await transport.finishAuth(provider.code as string);

    expect(await whoami(provider)).toEqual({
      sub: server.subOf('alice'),
      client_id: documentUrl,
    });
  });
});
