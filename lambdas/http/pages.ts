import type { ConsentView, ScopeLine } from '../core/authorization/authorization-flow.js';
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

const UNITS = [
  [86_400 * 365, 'year'],
  [86_400 * 30, 'month'],
  [86_400, 'day'],
  [3600, 'hour'],
  [60, 'minute'],
] as const;

/** "3 minutes ago", with the exact instant (UTC) in the markup. */
export function ago(then: number, now: number): Html {
  const elapsed = Math.max(0, now - then);
  const [size, unit] = UNITS.find(([size]) => elapsed >= size) ?? [0, ''];
  const words =
    size === 0
      ? 'just now'
      : `${Math.floor(elapsed / size)} ${unit}${Math.floor(elapsed / size) === 1 ? '' : 's'} ago`;
  const instant = new Date(then * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  return html`<time datetime="${instant}" title="${instant.replace('T', ' ').replace('Z', ' UTC')}">${words}</time>`;
}

/** How the client came to be here: what makes its name worth more, or less, than its word. */
function provenance(view: ConsentView): Html {
  const p = view.provenance;
  if (p.kind === 'document') {
    return html`Identified by its metadata document at <strong>${p.host}</strong>: whoever runs that site describes it.`;
  }
  const registered = html`Registered ${ago(p.registeredAt, view.now)}`;
  if (p.kind === 'open') {
    return html`${registered} by itself: <strong>anyone could have registered it</strong>, under any name.`;
  }
  switch (p.by) {
    case 'statement':
      return p.issuer === undefined
        ? html`${registered}, vouched for by a software publisher ${view.serviceName} trusts.`
        : html`${registered}, vouched for by <strong>${p.issuer}</strong> (a software publisher ${view.serviceName} trusts).`;
    case 'initial_access_token':
      return html`${registered}, vouched for by the operator of ${view.serviceName} (with an access token they issued).`;
    case 'certificate':
      return html`${registered}, vouched for by a client certificate ${view.serviceName} trusts.`;
  }
}

/** A scope in the user's words when the operator gave some, with its name for reference. */
const scopeItem = ({ scope, description }: ScopeLine): Html =>
  description === undefined
    ? html`<li><code>${scope}</code></li>`
    : html`<li><strong>${description}</strong> <code class="muted">${scope}</code></li>`;

function permissions(view: ConsentView): Html {
  const { scopes, alreadyAllowed } = view;
  const asked =
    scopes.length > 0
      ? html`<ul class="scopes">${scopes.map(scopeItem)}</ul>`
      : html`<p>${alreadyAllowed.length > 0 ? 'Nothing new: only what you already allowed.' : 'No particular permission.'}</p>`;
  return html`<h2>${alreadyAllowed.length > 0 ? 'New permissions it asks for' : 'It asks for'}</h2>
${asked}
${
  alreadyAllowed.length > 0 &&
  html`<p class="muted">Already allowed: ${alreadyAllowed.map(
    (line, i) =>
      html`${i > 0 ? ', ' : ''}${line.description === undefined ? '' : html`${line.description} `}<code>${line.scope}</code>`,
  )}</p>`
}`;
}

/**
 * The consent page, read top-down as GitHub's and Google's are: whose page this is (the
 * operator's name and logo, never the client's), who asks (by its self-asserted name, and how
 * it came to be registered), where the answer goes (the strongest line), what it asks for (in
 * the operator's words; scopes already allowed listed apart, small), then the decision. The
 * application id is tucked away below. Two buttons in one form; Allow first, so Tab reaches it
 * first.
 */
export function consentPage(
  view: ConsentView,
  action: string,
  form: TransactionForm,
): HttpResponse {
  const warning = view.redirectKind === 'web' ? undefined : WARNINGS[view.redirectKind];
  return page({
    title: `Allow access? · ${view.serviceName}`,
    body: html`<p class="brand">${
      view.serviceLogo && html`<img src="${view.serviceLogo}" alt="" width="32" height="32">`
    }<span>${view.serviceName}</span></p>
<h1>Allow access?</h1>
<p>${clientIdentity(view)} wants to act on your behalf.</p>
<p class="muted">${provenance(view)}</p>
<p class="destination"><span>Answer sent to</span> <strong>${view.redirectTarget}</strong></p>
${warning && html`<p class="warning" role="note">${warning}</p>`}
${permissions(view)}
<dl>
<dt>Signed in as</dt><dd><code>${view.user}</code></dd>
<dt>For use at</dt><dd><ul class="plain">${view.resources.map((r) => html`<li><code>${r}</code></li>`)}</ul></dd>
</dl>
<form method="post" action="${action}">
<input type="hidden" name="tx" value="${form.transactionId}">
<input type="hidden" name="csrf" value="${form.csrf}">
<div class="actions">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</div>
</form>
<details><summary>Application details</summary>
<dl><dt>Application id</dt><dd><code>${view.clientId}</code></dd></dl>
</details>`,
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
