import type { ConsentView } from '../core/authorization/authorization-flow.js';
import type { OAuthError } from '../core/errors.js';
import type { TransactionForm } from './browser-state.js';
import { type Html, html, page } from './html.js';
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

const WARNINGS = {
  loopback:
    'The answer goes to a program on this computer. Allow only if you started this application yourself, just now.',
  'private-use':
    'The answer goes to an app on this device that handles this address scheme. Any app can claim a scheme: allow only if you started this application yourself, just now.',
} as const;

/** Who the client is, as far as anyone knows: the name is the client's own claim. */
function clientIdentity(view: ConsentView): Html {
  const url = URL.parse(view.clientId);
  const shown = url?.protocol === 'https:' ? url.host : view.clientId;
  return view.clientName === undefined
    ? html`An application that gave no name (<code>${shown}</code>)`
    : html`An application that calls itself <strong>${view.clientName}</strong>
<span class="muted">(a name it chose; not verified)</span>`;
}

/**
 * The consent page: who asks (by its self-asserted name), where the answer goes, what for, and
 * for which resources. Two buttons in one form; Allow first, so Tab reaches it first.
 */
export function consentPage(
  view: ConsentView,
  action: string,
  form: TransactionForm,
): HttpResponse {
  const warning = view.redirectKind === 'web' ? undefined : WARNINGS[view.redirectKind];
  return page({
    title: 'Allow access?',
    body: html`<h1>Allow access?</h1>
<p>${clientIdentity(view)} wants to act on your behalf.</p>
<dl>
<dt>Signed in as</dt><dd><code>${view.user}</code></dd>
<dt>Answer sent to</dt><dd><code>${view.redirectTarget}</code></dd>
<dt>Permissions (scopes)</dt><dd>${
      view.scopes.length > 0
        ? html`<ul>${view.scopes.map((s) => html`<li><code>${s}</code></li>`)}</ul>`
        : 'no particular scope'
    }</dd>
<dt>For use at</dt><dd><ul>${view.resources.map((r) => html`<li><code>${r}</code></li>`)}</ul></dd>
<dt>Application id</dt><dd><code>${view.clientId}</code></dd>
</dl>
${warning && html`<p class="warning" role="note">${warning}</p>`}
<form method="post" action="${action}">
<input type="hidden" name="tx" value="${form.transactionId}">
<input type="hidden" name="csrf" value="${form.csrf}">
<div class="actions">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</div>
</form>`,
  });
}

/** What the home page (`GET /`) shows, and its JSON twin carries. */
export interface HomeView {
  readonly issuer: string;
  readonly metadata: string;
  readonly registration: string;
  readonly jwks: string;
  /** Where users sign in, when someone can. */
  readonly authorization?: string;
  /** The scopes clients may register; absent: any. */
  readonly scopes?: readonly string[];
  /** The APIs tokens can be for (RFC 8707); none: the issuer itself. */
  readonly resources: readonly string[];
  /** The operator's dashboard, where this server has one. */
  readonly dashboard?: string;
  /** The operator's page for developers (RFC 8414 `service_documentation`). */
  readonly documentation?: string;
}

export const HOME_DESCRIPTION =
  'An OAuth 2.0 authorization server where applications, such as MCP clients, register themselves (Dynamic Client Registration, RFC 7591) and get access tokens.';

/** The standards a developer reads to integrate, when the operator names no documentation. */
const STANDARDS = [
  ['https://www.rfc-editor.org/rfc/rfc7591', 'RFC 7591: Dynamic Client Registration'],
  ['https://www.rfc-editor.org/rfc/rfc8414', 'RFC 8414: Authorization Server Metadata'],
  ['https://www.rfc-editor.org/rfc/rfc6749', 'RFC 6749: OAuth 2.0'],
] as const;

/**
 * The home page: what this is (a server for programs, with nothing to sign in to here), where
 * its metadata and endpoints are, and where to go next, as a welcome page of an identity
 * server's console does.
 */
export function homePage(view: HomeView): HttpResponse {
  const link = (url: string) => html`<a href="${url}">${url}</a>`;
  return page({
    title: 'serverless-dcr',
    body: html`<h1>serverless-dcr</h1>
<p>${HOME_DESCRIPTION}</p>
<p class="muted">Nothing to sign in to on this page: applications find everything they need in the server metadata.</p>
<dl>
<dt>Issuer</dt><dd><code>${view.issuer}</code></dd>
<dt>Server metadata</dt><dd>${link(view.metadata)}</dd>
<dt>Registration endpoint</dt><dd><code>${view.registration}</code></dd>
${view.authorization && html`<dt>Authorization endpoint</dt><dd><code>${view.authorization}</code></dd>`}
<dt>Public keys (JWKS)</dt><dd>${link(view.jwks)}</dd>
<dt>Scopes offered</dt><dd>${
      view.scopes === undefined
        ? 'any scope a client asks for'
        : html`<ul class="plain">${view.scopes.map((s) => html`<li><code>${s}</code></li>`)}</ul>`
    }</dd>
<dt>Tokens are for</dt><dd>${
      view.resources.length === 0
        ? 'this issuer'
        : html`<ul class="plain">${view.resources.map((r) => html`<li><code>${r}</code></li>`)}</ul>`
    }</dd>
</dl>
<h2>Next</h2>
<ul>
${view.dashboard && html`<li><a href="${view.dashboard}">Dashboard</a> <span class="muted">(for the operator: sign in with the admin token)</span></li>`}
${
  view.documentation
    ? html`<li><a href="${view.documentation}">Documentation</a> <span class="muted">(how to integrate with this server)</span></li>`
    : STANDARDS.map(([url, name]) => html`<li><a href="${url}">${name}</a></li>`)
}
</ul>`,
  });
}
