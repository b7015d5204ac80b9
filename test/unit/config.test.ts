import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambdas/config.js';

describe('configuration', () => {
  it('starts with no variables at all: any scope, tokens for the issuer only', () => {
    const config = loadConfig({});
    expect(config.allowedScopes).toBeUndefined();
    expect(config.resources.size).toBe(0);
  });

  it.each([
    [{ DCR_RESOURCES: 'https://mcp.example.com/mcp' }],
    [{ DCR_DEFAULT_AUDIENCE: 'https://api.example.com' }],
  ])('with %o, refuses to start without an allow-list of scopes', (env) => {
    expect(() => loadConfig(env)).toThrow(/DCR_ALLOWED_SCOPES: required when DCR_RESOURCES/);
  });

  it('takes resources together with the scopes they accept', () => {
    const config = loadConfig({
      DCR_RESOURCES: 'https://mcp.example.com/mcp',
      DCR_ALLOWED_SCOPES: 'read write',
    });
    expect([...(config.allowedScopes ?? [])]).toEqual(['read', 'write']);
  });

  it('takes a cap of active clients per software_id, a whole number from 1', () => {
    expect(loadConfig({}).softwareIdMaxActiveClients).toBeUndefined();
    expect(
      loadConfig({ DCR_SOFTWARE_ID_MAX_ACTIVE_CLIENTS: '25' }).softwareIdMaxActiveClients,
    ).toBe(25);
    for (const bad of ['0', '-1', '2.5', 'many']) {
      expect(() => loadConfig({ DCR_SOFTWARE_ID_MAX_ACTIVE_CLIENTS: bad })).toThrow(
        /DCR_SOFTWARE_ID_MAX_ACTIVE_CLIENTS/,
      );
    }
  });

  it('names every problem at once', () => {
    expect(() => loadConfig({ PORT: 'x', DCR_SIGNING_ALG: 'HS256' })).toThrow(
      /(?=.*PORT: )(?=.*DCR_SIGNING_ALG: )/,
    );
  });
});

describe('discovery follows what the configuration enables', () => {
  it('advertises the code flow only when someone can sign users in', async () => {
    const { authorizationServerMetadata } = await import('../../lambdas/core/discovery.js');
    const { OAuthMetadataSchema } = await import('@modelcontextprotocol/sdk/shared/auth.js');
    const { isInteractive } = await import('../../lambdas/config.js');
    const issuer = 'https://auth.example.com';
    const meta = (env: Record<string, string>) => {
      const config = loadConfig(env);
      return authorizationServerMetadata(issuer, { ...config, interactive: isInteractive(config) });
    };
    const machineOnly = meta({ DCR_DEV_LOGIN: 'off' });
    expect(machineOnly).not.toHaveProperty('authorization_endpoint');
    expect(machineOnly.grant_types_supported).toEqual(['client_credentials']);
    expect(machineOnly.token_endpoint_auth_methods_supported).not.toContain('none');

    for (const env of <Record<string, string>[]>[
      {},
      { DCR_UPSTREAM_ISSUER: 'https://idp.example.com', DCR_UPSTREAM_CLIENT_ID: 'dcr' },
    ]) {
      const interactive = meta(env);
      expect(interactive).toMatchObject({
        authorization_endpoint: `${issuer}/authorize`,
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
        authorization_response_iss_parameter_supported: true,
        client_id_metadata_document_supported: true,
        grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
      });
      expect(interactive.token_endpoint_auth_methods_supported).toContain('none');
      // What every MCP SDK based client checks before it registers.
      expect(() => OAuthMetadataSchema.parse(interactive)).not.toThrow();
    }
  });
});
