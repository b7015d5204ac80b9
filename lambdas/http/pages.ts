import type { OAuthError } from '../core/errors.js';
import { html, page } from './html.js';
import type { HttpResponse } from './message.js';

/** Said when a client_id is unknown: MCP clients cache client ids, and only re-adding helps. */
const STALE_CLIENT_HINT =
  'If you came here from an application, remove it (or its connection to this server) and add it again: it is using a registration that no longer exists.';

/**
 * The page for an error of a browser endpoint that cannot go back to the client (its redirect
 * URI is not trusted yet, or the browser's own state is wrong). Always a 4xx page: never a
 * redirect, so an attacker cannot turn it into an open redirector.
 */
export function errorPage(error: OAuthError): HttpResponse {
  const status = error.status === 401 ? 400 : error.status;
  return page({
    title: 'Sign-in cannot continue',
    status,
    error: error.error,
    body: html`<h1>Sign-in cannot continue</h1>
<p class="error" role="alert">${error.description}</p>
${error.error === 'invalid_client' ? html`<p>${STALE_CLIENT_HINT}</p>` : ''}
<p class="muted">Error code: <code>${error.error}</code></p>`,
  });
}
