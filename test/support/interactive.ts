import * as client from 'openid-client';
import type { LocalApp } from '../../local/app.js';
import { Browser } from './browser.js';
import { startTestServer } from './server.js';

/** The synthesized stack (project `stack`), rather than the local server. */
export const STACK = process.env.DCR_TEST_TARGET === 'stack';

export interface InteractiveServer {
  readonly app: LocalApp;
  /** The access tokens' `sub` for someone who signs in as `user`. */
  subOf(user: string): string;
  /**
   * Where `/authorize` sends a browser that has no session (the start of a URL): the development
   * login page locally, the upstream's authorization endpoint on the stack.
   */
  readonly signsInAt: string;
  close(): Promise<void>;
}

/**
 * A server users can sign in at, on either target: locally the development login (`sub` =
 * `dev:<user>`); on the synthesized stack, which has no development login, an upstream
 * oidc-provider on loopback (`sub` = the upstream's, i.e. `<user>`). `Browser.signIn` drives
 * both. `env` applies to both targets, `localEnv` to the local server only (the development
 * login's settings, which Lambda refuses).
 */
export async function startInteractiveServer(
  env: Record<string, string> = {},
  localEnv: Record<string, string> = {},
): Promise<InteractiveServer> {
  if (STACK) {
    // Loaded here: the local project's files never load oidc-provider for nothing.
    const { startFederatedServer } = await import('./upstream.js');
    const federated = await startFederatedServer(env);
    return {
      app: federated.app,
      subOf: (user) => user,
      signsInAt: `${federated.upstream.issuer}/auth?`,
      close: () => federated.close(),
    };
  }
  const app = await startTestServer({ ...env, ...localEnv });
  return {
    app,
    subOf: (user) => `dev:${user}`,
    signsInAt: `${app.issuer}/login?tx=`,
    close: () => app.close(),
  };
}

/**
 * An authorization request as an application builds it with openid-client: a fresh state and
 * PKCE S256 verifier, and the given parameters (redirect_uri, scope, resource, …).
 */
export async function authorizationRequest(
  config: client.Configuration,
  parameters: Record<string, string>,
) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...parameters,
  });
  return { url, verifier, state };
}

/** A `POST /token` form, as a client sends it (raw: tests look at every status). */
export const tokenRequest = (
  issuer: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
) =>
  fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params),
  });

/**
 * A public client's user grants over raw HTTP: `signIn` (a user signs in and consents in a
 * scripted browser; the code and its PKCE verifier), `redeem` (the code exchange) and
 * `refresh`. Discovery through openid-client, as an application does it.
 */
export async function publicClientGrants(
  issuer: string,
  clientId: string,
  redirectUri: string,
  user = 'alice',
) {
  const config = await client.discovery(new URL(issuer), clientId, undefined, client.None(), {
    ...(issuer.startsWith('http:') && { execute: [client.allowInsecureRequests] }),
  });
  return {
    signIn: async (parameters: Record<string, string> = {}) => {
      const { url, verifier } = await authorizationRequest(config, {
        redirect_uri: redirectUri,
        ...parameters,
      });
      const callback = await new Browser().signIn(url, { user, stopAt: redirectUri });
      return { code: callback.searchParams.get('code') as string, verifier };
    },
    /** `headers`: e.g. a DPoP proof. */
    redeem: (
      { code, verifier }: { code: string; verifier: string },
      headers: Record<string, string> = {},
    ) =>
      tokenRequest(
        issuer,
        {
          grant_type: 'authorization_code',
          client_id: clientId,
          code,
          redirect_uri: redirectUri,
          code_verifier: verifier,
        },
        headers,
      ),
    refresh: (refreshToken: string, headers: Record<string, string> = {}) =>
      tokenRequest(
        issuer,
        { grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken },
        headers,
      ),
  };
}
