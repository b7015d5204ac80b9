import type { LocalApp } from '../../lambdas/local/app.js';
import { startTestServer } from './server.js';
import { startFederatedServer } from './upstream.js';

export interface InteractiveServer {
  readonly app: LocalApp;
  /** The access tokens' `sub` for someone who signs in as `user`. */
  subOf(user: string): string;
  close(): Promise<void>;
}

/**
 * A server users can sign in at, on either target: locally the development login (`sub` =
 * `dev:<user>`); on the synthesized stack, which has no development login, an upstream
 * oidc-provider on loopback (`sub` = the upstream's, i.e. `<user>`). `Browser.signIn` drives
 * both.
 */
export async function startInteractiveServer(
  env: Record<string, string> = {},
): Promise<InteractiveServer> {
  if (process.env.DCR_TEST_TARGET === 'stack') {
    const federated = await startFederatedServer(env);
    return { app: federated.app, subOf: (user) => user, close: () => federated.close() };
  }
  const app = await startTestServer(env);
  return { app, subOf: (user) => `dev:${user}`, close: () => app.close() };
}
