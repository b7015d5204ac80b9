import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambdas/config.js';
import { hygieneSeen } from '../support/secret-hygiene.js';

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

  it('resolves Client ID Metadata Documents by default exactly when open registration is accepted', () => {
    expect(loadConfig({}).clientIdMetadataDocuments).toBe(true);
    const closed = { DCR_REGISTRATION_ACCESS: 'initial_access_token,software_statement' };
    expect(loadConfig(closed).clientIdMetadataDocuments).toBe(false);
    expect(loadConfig({ DCR_CLIENT_ID_METADATA_DOCUMENTS: 'off' }).clientIdMetadataDocuments).toBe(
      false,
    );
    expect(() => loadConfig({ ...closed, DCR_CLIENT_ID_METADATA_DOCUMENTS: 'on' })).toThrow(
      /DCR_CLIENT_ID_METADATA_DOCUMENTS: document clients are anonymous clients/,
    );
  });

  it('takes a refresh token reuse grace window of 0 (strict) to 3600 s, 60 by default', () => {
    expect(loadConfig({}).refreshTokenReuseGraceSeconds).toBe(60);
    for (const [value, seconds] of [
      ['0', 0],
      ['1', 1],
      ['3600', 3600],
    ] as const) {
      const config = loadConfig({ DCR_REFRESH_TOKEN_REUSE_GRACE_SECONDS: value });
      expect(config.refreshTokenReuseGraceSeconds).toBe(seconds);
    }
    for (const bad of ['-1', '3601', '1.5', 'soon']) {
      expect(() => loadConfig({ DCR_REFRESH_TOKEN_REUSE_GRACE_SECONDS: bad })).toThrow(
        /DCR_REFRESH_TOKEN_REUSE_GRACE_SECONDS/,
      );
    }
  });

  it('names every problem at once', () => {
    expect(() => loadConfig({ PORT: 'x', DCR_SIGNING_ALG: 'HS256' })).toThrow(
      /(?=.*PORT: )(?=.*DCR_SIGNING_ALG: )/,
    );
  });
});

describe('the consent page’s settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dcr-logo-'));
  const file = (name: string, content: string | Buffer) => {
    writeFileSync(join(dir, name), content);
    return join(dir, name);
  };

  it('takes the service name as display text: bounded, no control or bidi characters', () => {
    expect(loadConfig({ DCR_SERVICE_NAME: '  Example Corp ' }).serviceName).toBe('Example Corp');
    for (const bad of ['   ', 'x'.repeat(81), 'Example\u202ECorp', 'Example\nCorp']) {
      expect(() => loadConfig({ DCR_SERVICE_NAME: bad })).toThrow(/DCR_SERVICE_NAME/);
    }
  });

  it('reads the logo at start and tells its type by its content, never its name', () => {
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(16)]);
    expect(loadConfig({ DCR_SERVICE_LOGO: file('logo.svg', png) }).serviceLogo).toEqual({
      contentType: 'image/png',
      body: png,
    });
    const svg = '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>';
    expect(loadConfig({ DCR_SERVICE_LOGO: file('logo', svg) }).serviceLogo?.contentType).toBe(
      'image/svg+xml',
    );
    expect(() => loadConfig({ DCR_SERVICE_LOGO: file('page.png', '<html></html>') })).toThrow(
      /DCR_SERVICE_LOGO: must be a PNG, JPEG, WebP or SVG file of at most 64 KB/,
    );
    const huge = Buffer.concat([png, Buffer.alloc(64 * 1024)]);
    expect(() => loadConfig({ DCR_SERVICE_LOGO: file('huge.png', huge) })).toThrow(
      /DCR_SERVICE_LOGO: must be a PNG/,
    );
    expect(() => loadConfig({ DCR_SERVICE_LOGO: join(dir, 'missing.png') })).toThrow(
      /DCR_SERVICE_LOGO: cannot read the file .*missing\.png/,
    );
  });

  it('takes scope descriptions as a JSON object of scope → display text, bounded', () => {
    const config = loadConfig({ DCR_SCOPE_DESCRIPTIONS: '{"files:read":"Read your files"}' });
    expect([...(config.scopeDescriptions ?? [])]).toEqual([['files:read', 'Read your files']]);
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`s${i}`, 'x']));
    for (const bad of [
      'not json',
      '["read"]',
      '{"read":""}',
      '{"read":7}',
      `{"read":"${'x'.repeat(201)}"}`,
      '{"two words":"x"}',
      '{"read":"Read\\u202Eevil"}',
      JSON.stringify(many),
    ]) {
      expect(() => loadConfig({ DCR_SCOPE_DESCRIPTIONS: bad }), bad).toThrow(
        /DCR_SCOPE_DESCRIPTIONS/,
      );
    }
  });
});

describe('multi-region: DCR_REGION', () => {
  it('is the home region of what the server makes; unset, nothing is pinned', () => {
    expect(loadConfig({ DCR_REGION: 'eu-west-1' }).region).toBe('eu-west-1');
    expect(loadConfig({}).region).toBeUndefined();
    expect(() => loadConfig({ DCR_REGION: 'EU West 1' })).toThrow(/DCR_REGION: must be a region/);
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

describe('mutual TLS endpoint aliases (RFC 8705 §5)', () => {
  const mtlsEnv = { DCR_TLS_CLIENT_AUTH: 'on', DCR_MTLS_ORIGIN: 'https://mtls.example.com' };

  it('takes the alias origin only as an https origin, beside mutual TLS, on another host', () => {
    expect(loadConfig(mtlsEnv).mtlsOrigin).toBe('https://mtls.example.com');
    expect(loadConfig({ DCR_TLS_CLIENT_AUTH: 'on' }).mtlsOrigin).toBeUndefined();
    for (const bad of [
      'http://mtls.example.com',
      'https://mtls.example.com/token',
      'https://mtls.example.com?x=1',
      'mtls.example.com',
    ]) {
      expect(() => loadConfig({ ...mtlsEnv, DCR_MTLS_ORIGIN: bad })).toThrow(/DCR_MTLS_ORIGIN: /);
    }
    // Aliases on a server that sees no certificates would send clients to a dead end.
    expect(() => loadConfig({ DCR_MTLS_ORIGIN: 'https://mtls.example.com' })).toThrow(
      /DCR_MTLS_ORIGIN: needs mutual TLS/,
    );
    expect(() =>
      loadConfig({ ...mtlsEnv, DCR_TLS_CLIENT_AUTH: 'off', DCR_TLS_CLIENT_CA: 'ca.pem' }),
    ).toThrow(/DCR_MTLS_ORIGIN: needs mutual TLS/);
    expect(() => loadConfig({ ...mtlsEnv, DCR_ISSUER: 'https://mtls.example.com/tenant' })).toThrow(
      /DCR_MTLS_ORIGIN: must be another host/,
    );
  });

  const metadata = async (issuer: string, env: Record<string, string>) => {
    const { authorizationServerMetadata } = await import('../../lambdas/core/discovery.js');
    // Interactive (the development login): the metadata an MCP client reads.
    const config = loadConfig(env);
    return authorizationServerMetadata(issuer, { ...config, interactive: true });
  };

  it('publishes the endpoints that take a certificate at the alias origin, the rest stays', async () => {
    const issuer = 'https://auth.example.com';
    const meta = await metadata(issuer, mtlsEnv);
    expect(meta.mtls_endpoint_aliases).toEqual({
      token_endpoint: 'https://mtls.example.com/token',
      registration_endpoint: 'https://mtls.example.com/register',
      introspection_endpoint: 'https://mtls.example.com/introspect',
      revocation_endpoint: 'https://mtls.example.com/revoke',
    });
    // The conventional endpoints are the issuer's, for every client without a certificate.
    expect(meta).toMatchObject({
      issuer,
      token_endpoint: `${issuer}/token`,
      registration_endpoint: `${issuer}/register`,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
    });
    // Browsers stay on the issuer's host; MCP clients still read the metadata.
    expect(meta.authorization_endpoint).toBe(`${issuer}/authorize`);
    const { OAuthMetadataSchema } = await import('@modelcontextprotocol/sdk/shared/auth.js');
    expect(() => OAuthMetadataSchema.parse(meta)).not.toThrow();
  });

  it('keeps the issuer’s path in each alias (the same API is mapped on both hosts)', async () => {
    const meta = await metadata('https://auth.example.com/tenant-a', mtlsEnv);
    expect(meta.mtls_endpoint_aliases?.token_endpoint).toBe(
      'https://mtls.example.com/tenant-a/token',
    );
    expect(meta.mtls_endpoint_aliases?.registration_endpoint).toBe(
      'https://mtls.example.com/tenant-a/register',
    );
  });

  it('publishes no aliases without an alias origin (mutual TLS on the issuer’s own host)', async () => {
    const meta = await metadata('https://auth.example.com', { DCR_TLS_CLIENT_AUTH: 'on' });
    expect(meta.tls_client_certificate_bound_access_tokens).toBe(true);
    expect(meta).not.toHaveProperty('mtls_endpoint_aliases');
    expect(await metadata('https://auth.example.com', {})).not.toHaveProperty(
      'mtls_endpoint_aliases',
    );
  });
});

describe('configuration messages: the setting, its rule and the value that breaks it', () => {
  const problem = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('expected a configuration error');
  };

  it.each([
    [{ PORT: 'abc' }, 'PORT: must be a whole number from 0 to 65535 (got "abc")'],
    [
      { DCR_ACCESS_TOKEN_LIFETIME_SECONDS: '5' },
      'DCR_ACCESS_TOKEN_LIFETIME_SECONDS: must be a whole number of seconds from 60 to 86400 (got "5")',
    ],
    [
      { DCR_CLIENT_MAX_LIFETIME_SECONDS: '1.5' },
      'DCR_CLIENT_MAX_LIFETIME_SECONDS: must be a whole number of seconds, 0 or more (got "1.5")',
    ],
    [
      { DCR_RESOURCES: 'https://mcp.example.com/mcp relative/path', DCR_ALLOWED_SCOPES: 'read' },
      'DCR_RESOURCES: must be an absolute URI without fragment (got "relative/path")',
    ],
    [{ DCR_SIGNING_ALG: 'HS256' }, 'DCR_SIGNING_ALG: must be one of RS256, ES256 (got "HS256")'],
    [{ DCR_DEV_LOGIN: 'yes' }, 'DCR_DEV_LOGIN: must be one of on, off (got "yes")'],
    [{ DCR_ISSUER: 'ftp://id.example.com' }, 'DCR_ISSUER: must be an http or https URL'],
    [
      { DCR_REGISTRATION_TIERS: '{"open":{"scopes":["a b"]}}' },
      'DCR_REGISTRATION_TIERS.open.scopes.0: must be a scope: printable ASCII without spaces, quotes or backslashes (got "a b")',
    ],
  ])('%o → %s', (env, message) => {
    const text = problem(env);
    expect(text).toContain(message);
    // Never zod's own words, nor a list item's index.
    expect(text).not.toMatch(/expected|received|Invalid|NaN|DCR_RESOURCES\.0/);
  });

  it('never quotes a secret’s value', () => {
    const text = problem({ DCR_ADMIN_TOKEN: 'short-but-secret' });
    expect(text).toContain('DCR_ADMIN_TOKEN: must be at least 32 characters');
    expect(text).not.toContain('short-but-secret');
  });

  it('the missing scopes show a value to copy', () => {
    expect(problem({ DCR_RESOURCES: 'https://mcp.example.com/mcp' })).toContain(
      'e.g. DCR_ALLOWED_SCOPES="mcp:tools read"',
    );
  });
});

describe('DCR_ variables that name no setting', () => {
  it.each([
    ['DCR_ALLOWED_SCOPE', 'did you mean DCR_ALLOWED_SCOPES?'],
    ['DCR_RESOURCE', 'did you mean DCR_RESOURCES?'],
    ['DCR_ADMINTOKEN', 'did you mean DCR_ADMIN_TOKEN?'],
    ['DCR_ACCESS_TOKEN_LIFETIME', 'did you mean DCR_ACCESS_TOKEN_LIFETIME_SECONDS?'],
    ['DCR_SOMETHING_ELSE', 'docs/configuration.md lists them'],
  ])('%s: warned about (%s), once, without failing the start', (variable, hint) => {
    const warnings: string[] = [];
    const config = loadConfig({ [variable]: 'x', DCR_ISSUER: 'https://id.example.com' }, (w) =>
      warnings.push(w),
    );
    expect(config.issuer).toBe('https://id.example.com');
    expect(warnings).toEqual([`${variable} is not a setting (ignored); ${hint}`]);
  });

  it('says nothing of the settings, of other variables, nor of dcr-admin’s DCR_ADMIN_URL', () => {
    const warnings: string[] = [];
    loadConfig(
      { DCR_ALLOWED_SCOPES: 'read', PATH: '/bin', DCR_ADMIN_URL: 'http://127.0.0.1:3000' },
      (w) => warnings.push(w),
    );
    expect(warnings).toEqual([]);
  });

  it('in Lambda, logs each as a warning when the configuration is loaded (the cold start)', async () => {
    loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'register', DCR_ALLOWED_SCOPE: 'read' });
    const { captured } = await hygieneSeen();
    const lines = captured.filter((line) => line.includes('DCR_ALLOWED_SCOPE is not a setting'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      level: 'WARN',
      message: 'configuration',
      warning: 'DCR_ALLOWED_SCOPE is not a setting (ignored); did you mean DCR_ALLOWED_SCOPES?',
    });
  });
});
