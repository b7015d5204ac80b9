import type { FederatedSubject } from '../../lambdas/core/federation/federated-tokens.js';
import { displaySafe } from '../../lambdas/core/text.js';
import { html } from '../../lambdas/http/html.js';
import type { HttpResponse } from '../../lambdas/http/message.js';
import { type Frame, shell, when } from './pages.js';

/**
 * The federated subjects page: who got tokens for trusted issuers' assertions (workloads by
 * their platform identity, users by their enterprise IdP's ID-JAG), beside the registered
 * clients. Subjects and claims come from outside: shown escaped, control and bidi characters as
 * visible escapes.
 */

const count = new Intl.NumberFormat('en-US');

const resources = (aud: string | readonly string[]) =>
  [aud].flat().map((r, i) => html`${i > 0 ? ', ' : ''}<code>${displaySafe(r)}</code>`);

/** Scope tokens, each kept whole. */
const scopes = (scope: string | undefined) =>
  scope === undefined
    ? '—'
    : scope
        .split(' ')
        .map((s, i) => html`${i > 0 ? ' ' : ''}<code class="id">${displaySafe(s)}</code>`);

/** The subject as its issuer names it (the Issuer column says which issuer). */
const local = (subject: FederatedSubject) =>
  subject.sub.startsWith(`${subject.issuer}#`)
    ? subject.sub.slice(subject.issuer.length + 1)
    : subject.sub;

function subjectRow(subject: FederatedSubject, now: number) {
  const client =
    subject.last_client_id === subject.sub
      ? ''
      : html`<br><span class="muted">via client</span> <code>${displaySafe(subject.last_client_id)}</code>`;
  return html`<tr>
<td data-label="Subject"><code>${displaySafe(local(subject))}</code>${client}</td>
<td data-label="Issuer"><code>${displaySafe(subject.issuer)}</code><br><span class="muted">${subject.issuer_kind === 'id-jag' ? 'ID-JAG' : 'workload'}, rule ${subject.rule}</span></td>
<td data-label="First seen">${when(subject.first_seen, now)}</td>
<td data-label="Last seen">${when(subject.last_seen, now)}</td>
<td data-label="Tokens" class="nowrap">${count.format(subject.tokens)}</td>
<td data-label="Last scope">${scopes(subject.last_scope)}</td>
<td data-label="Last resource">${resources(subject.last_aud)}</td>
</tr>`;
}

export function federatedSubjectsPage(
  frame: Frame,
  subjects: readonly FederatedSubject[],
  nextPage: string | undefined,
  now: number,
): HttpResponse {
  return shell(frame, {
    title: 'Federated subjects',
    section: 'federated',
    body: html`<h1>Federated subjects</h1>
<p>Workloads and users that got access tokens for a trusted issuer’s assertion (workload identity, ID-JAG) rather than as registered clients. Its tokens’ <code>sub</code> is <code>&lt;issuer&gt;#&lt;subject&gt;</code>. A subject not seen for 30 days is forgotten.</p>
${
  subjects.length === 0
    ? html`<p>No federated subject has received a token${nextPage ? ' on this page' : ''}.</p>`
    : html`<p class="muted" id="subjects-count">${subjects.length}${nextPage ? ' on this page' : ''}</p>
<table class="rows">
<thead><tr><th scope="col">Subject</th><th scope="col">Issuer</th><th scope="col">First seen</th><th scope="col">Last seen</th><th scope="col">Tokens</th><th scope="col">Last scope</th><th scope="col">Last resource</th></tr></thead>
<tbody>${subjects.map((s) => subjectRow(s, now))}</tbody>
</table>`
}
<nav aria-label="Pages" class="actions">${nextPage && html`<a href="${nextPage}" rel="next">Next page</a>`}</nav>`,
  });
}
