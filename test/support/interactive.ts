import * as client from 'openid-client';
import type { LocalApp } from '../../lambdas/local/app.js';
import { startTestServer } from './server.js';
import { startFederatedServer } from './upstream.js';

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
