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

  it('names every problem at once', () => {
    expect(() => loadConfig({ PORT: 'x', DCR_SIGNING_ALG: 'HS256' })).toThrow(
      /(?=.*PORT: )(?=.*DCR_SIGNING_ALG: )/,
    );
  });
});
