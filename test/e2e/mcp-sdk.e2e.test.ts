import { registerClient } from '@modelcontextprotocol/sdk/client/auth.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalApp } from '../../local/app.js';
import { startTestServer } from '../support/server.js';

let app: LocalApp;
beforeAll(async () => {
  app = await startTestServer();
});
afterAll(() => app.close());

describe('the MCP TypeScript SDK as a client', () => {
  it('registers an MCP client the way Claude, VS Code and Cursor do, and accepts the answer', async () => {
    const info = await registerClient(app.issuer, {
      clientMetadata: {
        client_name: 'MCP Inspector',
        redirect_uris: ['http://127.0.0.1:6274/oauth/callback'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
        scope: 'mcp:tools',
      },
    });
    // The SDK validated the response against its own schema before returning it.
    expect(info.client_id).toEqual(expect.any(String));
    expect(info.client_secret).toBeUndefined();
    expect(info.redirect_uris).toEqual(['http://127.0.0.1:6274/oauth/callback']);
    expect(info.token_endpoint_auth_method).toBe('none');
  });

  it('surfaces the server’s RFC 7591 error for a bad redirect URI', async () => {
    await expect(
      registerClient(app.issuer, {
        clientMetadata: { client_name: 'bad', redirect_uris: ['http://evil.example/cb'] },
      }),
    ).rejects.toThrow(/redirect/i);
  });
});
