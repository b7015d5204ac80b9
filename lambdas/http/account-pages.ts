import type { UserIdentity } from '../core/authorization/ports.js';
import type { OAuthError } from '../core/errors.js';
import { endpointUrl, PATHS } from '../core/paths.js';
import type { ConnectedApp } from '../core/tokens/connected-apps.js';
import { html, page } from './html.js';
import type { HttpResponse } from './message.js';

/** What the connected-apps page shows. */
export interface ConnectedAppsView {
  readonly user: UserIdentity;
  readonly apps: readonly ConnectedApp[];
  /** The audience of tokens whose grant names no resource. */
  readonly defaultResource: string;
  /** Where the revoke forms post, and the CSRF token of the user's session. */
  readonly action: string;
  readonly csrf: string;
  /** A revocation just happened (the page after the form's redirect). */
  readonly revoked: boolean;
}

const TITLE = 'Connected apps';

/** `2026-12-07 03:14 UTC`, in a `<time>` element. */
const when = (seconds: number) => {
  const iso = new Date(seconds * 1000).toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
};

const codes = (values: readonly string[]) =>
  html`<ul class="plain">${values.map((v) => html`<li><code>${v}</code></li>`)}</ul>`;

/** One grant: who (by the name it chose), where its answers went, what for, and its use. */
function connectedApp(app: ConnectedApp, view: ConnectedAppsView) {
  const heading = `app-${app.grantId}`;
  const url = URL.parse(app.clientId);
  const shownId = url?.protocol === 'https:' ? url.host : app.clientId;
  return html`<li><section class="app" aria-labelledby="${heading}">
<h2 id="${heading}">${app.clientName ?? html`An application that gave no name (<code>${shownId}</code>)`}</h2>
${app.clientName !== undefined && html`<p class="muted">A name the application chose for itself; not verified.</p>`}
<dl>
<dt>Answers sent to</dt><dd><code>${app.redirectTarget}</code></dd>
<dt>Permissions (scopes)</dt><dd>${app.scopes.length > 0 ? codes(app.scopes) : 'no particular scope'}</dd>
<dt>For use at</dt><dd>${codes(app.resources.length > 0 ? app.resources : [view.defaultResource])}</dd>
<dt>Connected</dt><dd>${when(app.firstUsedAt)}</dd>
<dt>Last used</dt><dd>${when(app.lastUsedAt)}</dd>
<dt>Application id</dt><dd><code>${app.clientId}</code></dd>
</dl>
<form method="post" action="${view.action}">
<input type="hidden" name="csrf" value="${view.csrf}">
<input type="hidden" name="grant" value="${app.grantId}">
<button type="submit" class="danger" aria-describedby="${heading}">Revoke</button>
</form>
</section></li>`;
}

/**
 * The signed-in user's connected apps: each live grant with one form whose button revokes that
 * grant alone. Names are the clients' own claims, and marked so.
 */
export function connectedAppsPage(view: ConnectedAppsView): HttpResponse {
  return page({
    title: TITLE,
    body: html`<h1>${TITLE}</h1>
<p>Signed in as <code>${view.user.sub}</code>. These applications can act on your behalf, within the permissions shown, until you revoke their access.</p>
${view.revoked && html`<p class="notice" role="status">Access revoked. That application can no longer act on your behalf; it has to ask you again to reconnect.</p>`}
${
  view.apps.length === 0
    ? html`<p>No application is connected to your account.</p>`
    : html`<ul class="plain apps">${view.apps.map((app) => connectedApp(app, view))}</ul>`
}`,
  });
}

/** The account page's errors: a page of its own, never the sign-in's. */
export function connectedAppsErrorPage(error: OAuthError, issuer: string): HttpResponse {
  return page({
    title: TITLE,
    status: error.status === 401 ? 400 : error.status,
    error: error.error,
    body: html`<h1>${TITLE}</h1>
<p class="error" role="alert">${error.description}</p>
<p><a href="${endpointUrl(issuer, PATHS.account)}">Back to your connected apps</a></p>
<p class="muted">Error code: <code>${error.error}</code></p>`,
  });
}
