import { randomUUID } from 'node:crypto';
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
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { type CryptoKey, exportJWK, SignJWT } from 'jose';
import { accessTokenHash } from '../../lambdas/core/tokens/dpop-proof.js';
import { Browser } from './browser.js';
import { tokenRequest } from './interactive.js';
import { type Json, jsonPost, readJson } from './server.js';

/**
 * An MCP SDK client's OAuth state for tests of protected MCP servers: a public client that
 * registers dynamically, and a person (`alice`) who signs in and consents in a scripted browser.
 */
const REDIRECT = 'http://localhost:47124/callback';

export class SdkProvider implements OAuthClientProvider {
  code?: string;
  private info?: OAuthClientInformationMixed;
  private saved?: OAuthTokens;
  private verifier = '';
  readonly redirectUrl = REDIRECT;
  readonly clientMetadata: OAuthClientMetadata = {
    client_name: 'Kit test MCP client',
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
  clientInformation = () => this.info;
  saveClientInformation = (info: OAuthClientInformationMixed) => {
    this.info = info;
  };
  tokens = () => this.saved;
  saveTokens = (tokens: OAuthTokens) => {
    this.saved = tokens;
  };
  saveCodeVerifier = (verifier: string) => {
    this.verifier = verifier;
  };
  codeVerifier = () => this.verifier;
  async redirectToAuthorization(url: URL) {
    const callback = await new Browser().signIn(url, { user: 'alice', stopAt: REDIRECT });
    this.code = callback.searchParams.get('code') ?? undefined;
  }
}

/**
 * The MCP SDK client's whole way in to a protected MCP server: its first connection meets the
 * 401 (`UnauthorizedError` after the SDK discovered, registered and had the user sign in), it
 * redeems the code, connects again and calls the `whoami` tool. Its answer and the client's id.
 */
export async function whoamiThroughCodeFlow(resource: string, fetch?: FetchLike) {
  const provider = new SdkProvider();
  const options = { authProvider: provider, ...(fetch && { fetch }) };
  const first = new StreamableHTTPClientTransport(new URL(resource), options);
  const refused = await new Client({ name: 't', version: '1' }).connect(first).catch((e) => e);
  if (!(refused instanceof UnauthorizedError)) throw new Error(`expected a 401, got ${refused}`);
  await first.finishAuth(provider.code as string);
  const client = new Client({ name: 't', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(resource), options));
  const result = await client.callTool({ name: 'whoami', arguments: {} });
  await client.close();
  const [content] = result.content as { text: string }[];
  return {
    whoami: JSON.parse(content?.text ?? '{}') as unknown,
    clientId: provider.clientInformation()?.client_id,
    tokens: provider.tokens(),
  };
}

/**
 * DPoP for a client that has none (the MCP SDK 1.32): a `fetch` that adds a proof by `keys` to
 * token requests, and sends the SDK's bearer token to the resource with the DPoP scheme and a
 * proof carrying the token's hash (RFC 9449 §7.1).
 */
export function dpopFetch(keys: { publicKey: CryptoKey; privateKey: CryptoKey }): FetchLike {
  return async (url, init) => {
    const target = new URL(url);
    const method = (init?.method ?? 'GET').toUpperCase();
    const headers = new Headers(init?.headers);
    const bearer = /^Bearer (.+)$/.exec(headers.get('authorization') ?? '')?.[1];
    const isTokenRequest = method === 'POST' && target.pathname.endsWith('/token');
    if (isTokenRequest || bearer !== undefined) {
      headers.set(
        'dpop',
        await dpopProof(keys, {
          htm: method,
          htu: `${target.origin}${target.pathname}`,
          ...(bearer !== undefined && { ath: accessTokenHash(bearer) }),
        }),
      );
      if (bearer !== undefined) headers.set('authorization', `DPoP ${bearer}`);
    }
    return globalThis.fetch(url, { ...init, headers });
  };
}

export type DpopKeys = { publicKey: CryptoKey; privateKey: CryptoKey };

/** A DPoP proof (RFC 9449 §4.2) by `keys` (ES256): a fresh `jti`, `iat` now, and `claims`. */
export async function dpopProof(keys: DpopKeys, claims: Record<string, unknown>) {
  return new SignJWT({ jti: randomUUID(), iat: Math.floor(Date.now() / 1000), ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(keys.publicKey) })
    .sign(keys.privateKey);
}

/** The JSON-RPC call of the example servers' `whoami` tool. */
export const WHOAMI_CALL = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'whoami', arguments: {} },
});

/** POSTs a JSON-RPC body (`whoami` by default) to an MCP endpoint, as an MCP client does. */
export const callMcp = (resource: string, headers: Record<string, string>, body = WHOAMI_CALL) =>
  fetch(resource, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body,
  });

/**
 * A machine client's token: a client registered for client_credentials and `scope`, and its
 * token for `resource` (none: the issuer's default audience), bound to `keys` when given.
 */
export async function machineToken(
  issuer: string,
  scope: string,
  { resource, keys }: { resource?: string; keys?: DpopKeys } = {},
): Promise<{ client: Json; token: string; tokenType: string }> {
  const registration = await jsonPost(`${issuer}/register`, {
    grant_types: ['client_credentials'],
    scope,
  });
  if (registration.status !== 201) throw new Error(`registration: ${registration.status}`);
  const client = await readJson(registration);
  const response = await tokenRequest(
    issuer,
    { grant_type: 'client_credentials', scope, ...(resource && { resource }) },
    {
      authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
      ...(keys && { dpop: await dpopProof(keys, { htm: 'POST', htu: `${issuer}/token` }) }),
    },
  );
  if (response.status !== 200) throw new Error(`token request: ${response.status}`);
  const issued = await readJson(response);
  return { client, token: issued.access_token, tokenType: issued.token_type };
}
