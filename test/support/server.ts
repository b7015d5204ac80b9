import { loadConfig } from '../../lambdas/config.js';
import { type LocalApp, type LocalAppOptions, startLocalApp } from '../../lambdas/local/app.js';

/** The local server on a free loopback port, with an in-memory embedded store by default. */
export function startTestServer(
  env: Record<string, string> = {},
  options: LocalAppOptions = { store: 'embedded' },
): Promise<LocalApp> {
  return startLocalApp(loadConfig({ PORT: '0', ...env }), options);
}

export const jsonPost = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON response bodies.
export type Json = Record<string, any>;

export const readJson = (response: Response): Promise<Json> => response.json() as Promise<Json>;
