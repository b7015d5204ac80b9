import type { Server } from 'node:http';
import { calculateJwkThumbprint, decodeJwt, exportJWK } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMcpExample } from '../../examples/mcp-server/server.js';
import { Browser } from '../support/browser.js';
import { freePort } from '../support/free-port.js';
import { type InteractiveServer, startInteractiveServer } from '../support/interactive.js';
import {
  callMcp,
  dpopFetch,
  machineToken as machineTokenOf,
  WHOAMI_CALL,
  whoamiThroughCodeFlow,
} from '../support/mcp-sdk-provider.js';
import { jsonPost, readJson } from '../support/server.js';

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

const call = (authorization: string) => callMcp(resource, { authorization });

const machineToken = (scope: string) => machineTokenOf(server.app.issuer, scope, { resource });

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

describe('DPoP-bound tokens at the example server', () => {
  const insecure = { [oauth.allowInsecureRequests]: true } as const;
  let as: oauth.AuthorizationServer;

  beforeAll(async () => {
    const issuer = new URL(server.app.issuer);
    as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
    );
  });

  /** `whoami` called as oauth4webapi calls a resource: `Authorization: DPoP` and a proof with `ath`. */
  const whoamiWithDpop = async (token: string, DPoP: oauth.DPoPHandle) => {
    const headers = new Headers({
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    });
    const response = await oauth.protectedResourceRequest(
      token,
      'POST',
      new URL(resource),
      headers,
      WHOAMI_CALL,
      { DPoP, ...insecure },
    );
    expect(response.status).toBe(200);
    const { result } = await readJson(response);
    return JSON.parse(result.content[0].text);
  };

  it('oauth4webapi: a client_credentials token bound to its key reaches whoami with DPoP; as Bearer: 401', async () => {
    const registered = await readJson(
      await jsonPost(`${server.app.issuer}/register`, {
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_post',
        scope: 'mcp:tools',
      }),
    );
    const client: oauth.Client = { client_id: registered.client_id };
    const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    const tokens = await oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(
        as,
        client,
        oauth.ClientSecretPost(registered.client_secret),
        new URLSearchParams({ scope: 'mcp:tools', resource }),
        { DPoP, ...insecure },
      ),
    );
    expect(tokens.token_type).toBe('dpop');
    expect(await whoamiWithDpop(tokens.access_token, DPoP)).toMatchObject({
      client_id: registered.client_id,
    });
    // Stolen and replayed as a bearer token, it is refused.
    const asBearer = await call(`Bearer ${tokens.access_token}`);
    expect(asBearer.status).toBe(401);
    expect(asBearer.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('the MCP SDK client’s code flow with DPoP proofs added to its requests reaches whoami', async () => {
    // The SDK itself has no DPoP yet: a fetch adds the proofs and the DPoP scheme.
    const keys = await oauth.generateKeyPair('ES256');
    const { whoami, clientId, tokens } = await whoamiThroughCodeFlow(resource, dpopFetch(keys));
    expect(whoami).toEqual({ sub: server.subOf('alice'), client_id: clientId, scope: 'mcp:tools' });
    expect(tokens?.token_type).toBe('DPoP');
    const jkt = await calculateJwkThumbprint(await exportJWK(keys.publicKey));
    expect(decodeJwt(tokens?.access_token as string).cnf).toEqual({ jkt });
  });

  it('oauth4webapi: a public client’s code flow with DPoP, then whoami as the user', async () => {
    const redirect = 'http://127.0.0.1:8767/callback';
    const registered = await readJson(
      await jsonPost(`${server.app.issuer}/register`, {
        redirect_uris: [redirect],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'none',
        scope: 'mcp:tools',
      }),
    );
    const client: oauth.Client = { client_id: registered.client_id };
    const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint as string);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: redirect,
      scope: 'mcp:tools',
      resource,
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      dpop_jkt: await DPoP.calculateThumbprint(),
    }).toString();
    const callback = await new Browser().signIn(url, { user: 'alice', stopAt: redirect });
    const params = oauth.validateAuthResponse(as, client, callback, state);
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(
        as,
        client,
        oauth.None(),
        params,
        redirect,
        verifier,
        {
          DPoP,
          ...insecure,
        },
      ),
    );
    expect(tokens.token_type).toBe('dpop');
    expect(await whoamiWithDpop(tokens.access_token, DPoP)).toEqual({
      sub: server.subOf('alice'),
      client_id: registered.client_id,
      scope: 'mcp:tools',
    });
    // The refresh token works with the key only, and its access tokens stay bound.
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(
        as,
        client,
        oauth.None(),
        tokens.refresh_token as string,
        {
          DPoP,
          ...insecure,
        },
      ),
    );
    expect(refreshed.token_type).toBe('dpop');
    expect((await call(`Bearer ${refreshed.access_token}`)).status).toBe(401);
  });
});
