import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser.js';
import { type DocumentServer, startDocumentServer } from '../support/cimd-server.js';
import {
  type InteractiveServer,
  startInteractiveServer,
  tokenRequest,
} from '../support/interactive.js';
import { type Json, jsonPost, readJson } from '../support/server.js';

/**
 * The real MCP clients' requests, replayed as each client sends them, on both targets with the
 * default settings (only the MCP server's resource and its scope configured, as every
 * deployment has them):
 * registration body, authorization request parameters, code exchange and refresh. The sources:
 *
 * - VS Code: microsoft/vscode src/vs/base/common/oauth.ts `fetchDynamicRegistration` (four
 *   redirect URIs, `application_type: native`, `token_endpoint_auth_method: none`, the grant
 *   types it shares with `grant_types_supported`); it answers on loopback port 33418
 *   (`DEFAULT_AUTH_FLOW_PORT`) or a random one.
 * - MCP Inspector: modelcontextprotocol/inspector client/src/lib/auth.ts
 *   `InspectorOAuthClientProvider.clientMetadata` (its two callbacks on localhost:6274, `scope`
 *   an empty string when it knows none).
 * - mcp-remote: geelen/mcp-remote src/lib/node-oauth-client-provider.ts `clientMetadata` (its
 *   software_id, `http://localhost:<port>/oauth/callback`) and `getEffectiveScope`, which with no
 *   protected resource scopes takes the authorization server's `scopes_supported`.
 * - The Inspector and mcp-remote build the authorization, code and refresh requests with the MCP
 *   TypeScript SDK (@modelcontextprotocol/sdk client/auth.js `startAuthorization`, which adds
 *   `prompt=consent` when the scope holds `offline_access`, `prepareAuthorizationCodeRequest`,
 *   `refreshAuthorization`; `resource` on each); VS Code sends the same parameters.
 * - Claude (claude.ai): its registration as servers log it (anthropics/claude-code#30511:
 *   `redirect_uris: ["https://claude.ai/api/mcp/auth_callback"]`, `grant_types:
 *   ["authorization_code", "refresh_token"]`); the rest of its body is not public, so only those
 *   members are replayed, and it authenticates with the secret it is given as
 *   `client_secret_post` (anthropics/claude-ai-mcp#667).
 * - Codex: its rmcp client names itself `Codex` and registers through the MCP Rust SDK
 *   (modelcontextprotocol/rust-sdk crates/rmcp/src/transport/auth.rs `register_client`: one
 *   redirect URI, both grant types, `none`, `response_types: ["code"]`, the scopes, and
 *   `application_type: native` by default) with a loopback `/callback`. Where discovery lists
 *   Client ID Metadata Documents, as here, Codex offers its document at
 *   `https://chatgpt.com/oauth/codex/client.json` instead; that document is not public, so only
 *   its registration path is replayed.
 * - Cursor: a public client (`token_endpoint_auth_method: none`, PKCE S256: Altinity/altinity-mcp#169)
 *   with its desktop callback `cursor://anysphere.cursor-mcp/oauth/callback`, or the older
 *   `cursor://anysphere.cursor-retrieval/oauth/…`; the rest of its body is not public, so only
 *   those members are replayed (and, registering no grant types, it gets no refresh token).
 * - ChatGPT: no registration but a Client ID Metadata Document at
 *   `https://chatgpt.com/oauth/<id>/client.json`, member for member as servers log it
 *   (Altinity/altinity-mcp#118: `private_key_jwt`, RS256, `jwks_uri` on chatgpt.com, redirect
 *   `https://chatgpt.com/connector/oauth/<id>`), listing `none` and `private_key_jwt` among
 *   `token_endpoint_auth_methods_supported` (gamedevpl/www.gamedev.pl#641); it prefers
 *   `private_key_jwt` where the server offers it, as this one does (engram-app/Engram#1633), and
 *   signs an RFC 7523 assertion for each token request. Here the document and the keys are served
 *   on 127.0.0.1 (the test certificate), that origin trusted as chatgpt.com would be.
 */
const RESOURCE = 'https://mcp.example.com/mcp';

let server: InteractiveServer;
let issuer: string;
let docs: DocumentServer;

beforeAll(async () => {
  docs = await startDocumentServer();
  server = await startInteractiveServer({
    DCR_RESOURCES: RESOURCE,
    DCR_ALLOWED_SCOPES: 'mcp',
    DCR_TRUSTED_FETCH_ORIGINS: docs.origin,
  });
  issuer = server.app.issuer;
});
afterAll(async () => {
  await server.close();
  await docs.close();
});

type Authentication = { params: Record<string, string>; headers: Record<string, string> };

interface Replay {
  /** The registration body, member for member. */
  readonly registration?: Json;
  /** Or the client's metadata document, published at its `client_id`. */
  readonly document?: Json;
  /** How it authenticates each token request; default: as its registration response says. */
  readonly authenticate?: () => Promise<Authentication>;
  /** The redirect URI the client names at /authorize (a loopback one may use any port). */
  readonly redirectUri: string;
  /** The scope the client asks for, as it computes it from discovery. */
  readonly scope?: (metadata: Json) => string | undefined;
}

/** Client authentication at the token endpoint, as the registration response dictates. */
function authentication(registered: Json): Authentication {
  const method = registered.token_endpoint_auth_method;
  if (method === 'none') return { params: { client_id: registered.client_id }, headers: {} };
  if (method === 'client_secret_post') {
    return {
      params: { client_id: registered.client_id, client_secret: registered.client_secret },
      headers: {},
    };
  }
  const basic = Buffer.from(`${registered.client_id}:${registered.client_secret}`);
  return { params: {}, headers: { authorization: `Basic ${basic.toString('base64')}` } };
}

/** Registration, authorization, code exchange and a refresh, each answered as the client needs. */
async function replay({ registration, document, authenticate, redirectUri, scope }: Replay) {
  const metadata = await readJson(await fetch(`${issuer}/.well-known/oauth-authorization-server`));
  let registered = document as Json;
  if (registration) {
    const response = await jsonPost(metadata.registration_endpoint, registration);
    registered = await readJson(response);
    expect(response.status, JSON.stringify(registered)).toBe(201);
  }
  const authenticated = authenticate ?? (async () => authentication(registered));

  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const requested = scope?.(metadata);
  const url = new URL(metadata.authorization_endpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', registered.client_id);
  url.searchParams.set('code_challenge', await client.calculatePKCECodeChallenge(verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('state', state);
  if (requested) url.searchParams.set('scope', requested);
  if (requested?.includes('offline_access')) url.searchParams.append('prompt', 'consent');
  url.searchParams.set('resource', RESOURCE);
  const callback = await new Browser().signIn(url, { stopAt: redirectUri });
  expect(callback.searchParams.get('state')).toBe(state);
  expect(callback.searchParams.get('iss')).toBe(issuer);

  const { params, headers } = await authenticated();
  const exchanged = await tokenRequest(
    issuer,
    {
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code') as string,
      code_verifier: verifier,
      redirect_uri: redirectUri,
      resource: RESOURCE,
      ...params,
    },
    headers,
  );
  const tokens = await readJson(exchanged);
  expect(exchanged.status, JSON.stringify(tokens)).toBe(200);
  // Refresh tokens go to the clients registered for them (docs/tokens.md).
  if (!registered.grant_types.includes('refresh_token')) {
    expect(tokens).not.toHaveProperty('refresh_token');
    return { registered, tokens };
  }
  expect(tokens.refresh_token).toEqual(expect.any(String));
  const again = await authenticated();
  const refreshed = await tokenRequest(
    issuer,
    {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      resource: RESOURCE,
      ...again.params,
    },
    again.headers,
  );
  expect(refreshed.status).toBe(200);
  return { registered, tokens, refreshed: await readJson(refreshed) };
}

const vsCode = {
  client_name: 'Visual Studio Code',
  client_uri: 'https://code.visualstudio.com',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  redirect_uris: [
    'https://insiders.vscode.dev/redirect',
    'https://vscode.dev/redirect',
    'http://127.0.0.1/',
    'http://127.0.0.1:33418/',
  ],
  token_endpoint_auth_method: 'none',
  application_type: 'native',
};

describe('real MCP clients, replayed', () => {
  it('VS Code on its default loopback port 33418', async () => {
    const { registered, refreshed } = await replay({
      registration: vsCode,
      redirectUri: 'http://127.0.0.1:33418/',
    });
    expect(registered.application_type).toBe('native');
    expect(refreshed?.access_token).toEqual(expect.any(String));
  });

  it('VS Code on a random loopback port', async () => {
    await replay({ registration: vsCode, redirectUri: 'http://127.0.0.1:51873/' });
  });

  it('VS Code for the Web (https://vscode.dev/redirect)', async () => {
    await replay({ registration: vsCode, redirectUri: 'https://vscode.dev/redirect' });
  });

  it('the MCP Inspector (http://localhost:6274/oauth/callback)', async () => {
    const { registered } = await replay({
      registration: {
        redirect_uris: [
          'http://localhost:6274/oauth/callback',
          'http://localhost:6274/oauth/callback/debug',
        ],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        client_name: 'MCP Inspector',
        client_uri: 'https://github.com/modelcontextprotocol/inspector',
        scope: '',
      },
      redirectUri: 'http://localhost:6274/oauth/callback',
    });
    expect(registered.client_name).toBe('MCP Inspector');
  });

  it('mcp-remote, asking for the scopes discovery lists (offline_access, so prompt=consent)', async () => {
    const { tokens } = await replay({
      registration: {
        redirect_uris: ['http://localhost:3334/oauth/callback'],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        client_name: 'MCP CLI Client',
        client_uri: 'https://github.com/modelcontextprotocol/mcp-cli',
        software_id: '2e6dc280-f3c3-4e01-99a7-8181dbd1d23d',
        software_version: '0.1.37',
        scope: 'mcp offline_access',
      },
      redirectUri: 'http://localhost:3334/oauth/callback',
      scope: (metadata) => (metadata.scopes_supported as string[]).join(' '),
    });
    expect(tokens.scope).toBe('mcp');
  });

  it('Claude (https://claude.ai/api/mcp/auth_callback)', async () => {
    await replay({
      registration: {
        redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
        grant_types: ['authorization_code', 'refresh_token'],
      },
      redirectUri: 'https://claude.ai/api/mcp/auth_callback',
    });
  });

  it('Codex, registering through the MCP Rust SDK', async () => {
    await replay({
      registration: {
        client_name: 'Codex',
        redirect_uris: ['http://127.0.0.1:41729/callback'],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'none',
        response_types: ['code'],
        scope: 'mcp',
        application_type: 'native',
      },
      redirectUri: 'http://127.0.0.1:41729/callback',
      scope: () => 'mcp',
    });
  });

  it.each([
    'cursor://anysphere.cursor-mcp/oauth/callback',
    'cursor://anysphere.cursor-retrieval/oauth/user-mcp/callback',
  ])('Cursor (%s)', async (redirectUri) => {
    const { registered } = await replay({
      registration: { redirect_uris: [redirectUri], token_endpoint_auth_method: 'none' },
      redirectUri,
    });
    expect(registered.application_type).toBe('native');
  });

  it('ChatGPT, by its metadata document, authenticating with private_key_jwt', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const kid = 'cimd-20260428030119';
    const clientId = docs.url('/oauth/kDmjx77UnKOM/client.json');
    docs.serve('/oauth/jwks.json', {
      keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }],
    });
    const document = {
      client_id: clientId,
      client_uri: 'https://chatgpt.com/',
      redirect_uris: ['https://chatgpt.com/connector/oauth/kDmjx77UnKOM'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      client_name: 'ChatGPT',
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
      token_endpoint_auth_signing_alg: 'RS256',
      jwks_uri: docs.url('/oauth/jwks.json'),
    };
    docs.serve('/oauth/kDmjx77UnKOM/client.json', document);
    await replay({
      document,
      redirectUri: 'https://chatgpt.com/connector/oauth/kDmjx77UnKOM',
      scope: () => 'mcp',
      authenticate: async () => ({
        params: {
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: await new SignJWT({})
            .setProtectedHeader({ alg: 'RS256', kid })
            .setIssuer(clientId)
            .setSubject(clientId)
            .setAudience(issuer)
            .setIssuedAt()
            .setExpirationTime('60s')
            .setJti(client.randomState())
            .sign(privateKey),
        },
        headers: {},
      }),
    });
  });
});
