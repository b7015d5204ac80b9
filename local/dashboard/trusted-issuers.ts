import { conflict, invalidRequest, OAuthError } from '../../lambdas/core/errors.js';
import { displaySafe } from '../../lambdas/core/text.js';
import { type Html, html } from '../../lambdas/http/html.js';
import type { HttpResponse } from '../../lambdas/http/message.js';
import { seeOther } from '../../lambdas/http/responses.js';
import type { RouteContext } from '../../lambdas/http/router.js';
import { type Frame, row, shell, when } from './pages.js';
import { type AdminBackend, answer, call, type PageHandler } from './routes.js';

/**
 * The dashboard's Trusted issuers page: the token issuers whose JWTs the server exchanges for
 * access tokens, configured and stored, with their kind, keys and rules in order; stored ones
 * are added or replaced by pasting their JSON and removed after a confirmation. Over the admin
 * API like every page, so it checks exactly what the API checks.
 */

/** A trusted issuer as GET /admin/trusted-issuers answers it. */
export interface TrustedIssuerView {
  issuer: string;
  source: 'configuration' | 'admin';
  kind?: string;
  jwks?: { keys?: { kid?: string; kty?: string; alg?: string }[] };
  jwks_uri?: string;
  algorithms?: string[];
  rules?: { claims?: Record<string, string>; scope?: string; resources?: string[] }[];
  updated_at?: number;
  updated_by?: string;
}

/** Listing pages read for one page view (the stored issuers are the operator's few). */
const LIST_CALLS = 10;

const NOTICES: Record<string, string> = {
  'issuer-created': 'The trusted issuer was added: its assertions are accepted from now on.',
  'issuer-replaced': 'The trusted issuer was replaced: its new rules apply from now on.',
  'issuer-removed': 'The trusted issuer was removed: its assertions are refused from now on.',
};

/** How soon a warm container of a deployed server sees a change. */
const PROPAGATION =
  'On a deployed server each warm container sees a change within DCR_TRUSTED_ISSUER_CACHE_SECONDS (30 s by default); the local server at once.';

const KINDS: Record<string, string> = {
  workload: 'workload — platform identities (jwt-bearer, no client)',
  'id-jag': 'id-jag — an enterprise IdP’s ID-JAGs (Enterprise-Managed Authorization)',
};

const code = (text: string) => html`<code>${displaySafe(text)}</code>`;
const codes = (values: readonly string[]) =>
  html`${values.map((v, i) => html`${i > 0 ? ', ' : ''}${code(v)}`)}`;

function keySource(issuer: TrustedIssuerView): Html {
  if (issuer.jwks_uri !== undefined) return html`fetched from ${code(issuer.jwks_uri)}`;
  const keys = issuer.jwks?.keys ?? [];
  return html`inline, ${keys.length} key(s): ${codes(
    keys.map((k) => [k.kid ?? '(no kid)', k.kty, k.alg].filter(Boolean).join(' ')),
  )}`;
}

/** The rules as the engine reads them: in order, the first whose claims all match decides. */
function rules(issuer: TrustedIssuerView): Html {
  return html`<ol class="rules">${(issuer.rules ?? []).map(
    (rule) => html`<li><dl>
${row(
  'Claims',
  html`<ul class="plain">${Object.entries(rule.claims ?? {}).map(
    ([name, pattern]) => html`<li>${code(name)} matches ${code(pattern)}</li>`,
  )}</ul>`,
)}
${row('Scope', rule.scope === undefined ? 'none' : codes(rule.scope.split(' ')))}
${row('Resources', codes(rule.resources ?? []))}
</dl></li>`,
  )}</ol>`;
}

const removeLink = (frame: Frame, issuer: string) =>
  `${frame.base}/trusted-issuers/remove?${new URLSearchParams({ issuer })}`;
const editLink = (frame: Frame, issuer: string) =>
  `${frame.base}/trusted-issuers?${new URLSearchParams({ edit: issuer })}#issuer-form-h`;

function issuerSection(frame: Frame, issuer: TrustedIssuerView, index: number, now: number) {
  const stored = issuer.source === 'admin';
  return html`<section class="app" aria-labelledby="issuer-${index}">
<h2 id="issuer-${index}">${code(issuer.issuer)} <span class="badge">${stored ? 'stored' : 'configuration'}</span></h2>
<dl>
${row('Kind', KINDS[issuer.kind ?? ''] ?? issuer.kind)}
${row('Keys', keySource(issuer))}
${row('Algorithms', issuer.algorithms === undefined ? 'any asymmetric one (the default)' : codes(issuer.algorithms))}
${stored ? row('Updated', html`${when(issuer.updated_at, now)}${issuer.updated_by === undefined ? '' : html` by ${code(issuer.updated_by)}`}`) : row('Changed by', 'the configuration (DCR_TRUSTED_ISSUERS, dcr:trustedIssuers) only')}
</dl>
<h3>Rules, in order (the first whose claims all match decides)</h3>
${rules(issuer)}
${stored && html`<div class="actions"><a href="${editLink(frame, issuer.issuer)}" aria-label="Edit ${displaySafe(issuer.issuer)}">Edit…</a> <a href="${removeLink(frame, issuer.issuer)}" aria-label="Remove ${displaySafe(issuer.issuer)}">Remove…</a></div>`}
</section>`;
}

/** What the add-or-replace form shows: empty, an issuer to edit, or what was sent and why not. */
interface FormState {
  readonly issuer?: string;
  readonly definition?: string;
  readonly problem?: string;
}

const EXAMPLE = `{
  "kind": "workload",
  "jwks_uri": "https://token.actions.githubusercontent.com/.well-known/jwks",
  "rules": [
    {
      "claims": { "sub": "repo:acme/app:ref:refs/heads/main" },
      "scope": "tools:read",
      "resources": ["https://mcp.example.com/mcp"]
    }
  ]
}`;

export function trustedIssuersPage(
  frame: Frame,
  issuers: readonly TrustedIssuerView[],
  now: number,
  options: { notice?: string; form?: FormState; status?: number },
): HttpResponse {
  const form = options.form ?? {};
  const configured = issuers.filter((i) => i.source === 'configuration').length;
  return shell(frame, {
    title: 'Trusted issuers',
    section: 'trusted-issuers',
    ...(options.status !== undefined && { status: options.status }),
    ...(options.notice !== undefined && { notice: options.notice }),
    body: html`<h1>Trusted issuers</h1>
<p>The token issuers whose JWTs this server exchanges for access tokens (jwt-bearer): workload platforms and enterprise IdPs. Configured ones change only in the configuration; stored ones are managed here. ${PROPAGATION}</p>
<p class="muted" id="issuer-count">${configured} configured, ${issuers.length - configured} stored</p>
${issuers.length === 0 ? html`<p>No issuer is trusted: the jwt-bearer grant is refused.</p>` : issuers.map((issuer, index) => issuerSection(frame, issuer, index, now))}
<h2 id="issuer-form-h">Add or replace a trusted issuer</h2>
${form.problem !== undefined && html`<p class="error" role="alert" id="issuer-problem">${form.problem}</p>`}
<form method="post" action="${frame.base}/trusted-issuers" aria-labelledby="issuer-form-h">
<input type="hidden" name="csrf" value="${frame.csrf}">
<label for="issuer-iss">Issuer (its <code>iss</code>, an https URL)</label>
<input type="text" id="issuer-iss" name="issuer" required maxlength="256" autocapitalize="none" spellcheck="false" inputmode="url" value="${form.issuer ?? ''}"${form.problem !== undefined ? html` aria-describedby="issuer-problem"` : ''}>
<label for="issuer-definition">Definition: JSON, as one value of DCR_TRUSTED_ISSUERS</label>
<textarea id="issuer-definition" name="definition" required spellcheck="false" autocapitalize="none" aria-describedby="issuer-example-h${form.problem !== undefined ? ' issuer-problem' : ''}">${form.definition ?? ''}</textarea>
<details><summary id="issuer-example-h">An example</summary><pre class="json">${EXAMPLE}</pre></details>
<p class="muted">Saving an issuer that is already stored replaces it whole.</p>
<div class="actions"><button type="submit">Save issuer</button></div>
</form>`,
  });
}

export function confirmRemovePage(frame: Frame, issuer: TrustedIssuerView): HttpResponse {
  return shell(frame, {
    title: 'Remove trusted issuer?',
    section: 'trusted-issuers',
    body: html`<h1>Remove this trusted issuer?</h1>
<dl>
${row('Issuer', code(issuer.issuer))}
${row('Kind', KINDS[issuer.kind ?? ''] ?? issuer.kind)}
${row('Rules', String(issuer.rules?.length ?? 0))}
</dl>
<p class="warning" role="note">Its assertions are refused from then on (and, for a workload issuer, introspection reports its workloads’ tokens inactive). ${PROPAGATION}</p>
<form method="post" action="${frame.base}/trusted-issuers/remove">
<input type="hidden" name="csrf" value="${frame.csrf}">
<input type="hidden" name="issuer" value="${issuer.issuer}">
<div class="actions"><button type="submit" class="danger">Yes, remove this issuer</button> <a href="${frame.base}/trusted-issuers">Cancel</a></div>
</form>`,
  });
}

const issuerPath = (issuer: string) => `/trusted-issuers/${encodeURIComponent(issuer)}`;

/** The form's issuer; the admin API checks its shape. */
function requiredIssuer(form: URLSearchParams): string {
  const issuer = form.get('issuer')?.trim() ?? '';
  if (issuer === '') throw invalidRequest('issuer is required');
  return issuer;
}

/** The Trusted issuers pages, each over the admin API calls it shows or makes. */
export function trustedIssuerPages(backend: AdminBackend, now: () => number) {
  async function all(): Promise<TrustedIssuerView[]> {
    const issuers: TrustedIssuerView[] = [];
    let cursor: string | undefined;
    for (let calls = 0; calls < LIST_CALLS; calls++) {
      const query = cursor === undefined ? '' : `?${new URLSearchParams({ cursor })}`;
      const page = (await call(backend, 'GET', `/trusted-issuers${query}`)) as {
        trusted_issuers: TrustedIssuerView[];
        next_cursor?: string;
      };
      issuers.push(...page.trusted_issuers);
      cursor = page.next_cursor;
      if (cursor === undefined) break;
    }
    return issuers;
  }

  /** The list; `?edit=<iss>` fills the form with a stored issuer's definition. */
  const list: PageHandler = async (_: RouteContext, frame, params) => {
    const issuers = await all();
    const editing = issuers.find((i) => i.source === 'admin' && i.issuer === params.get('edit'));
    const form: FormState =
      editing === undefined
        ? {}
        : {
            issuer: editing.issuer,
            definition: JSON.stringify(
              Object.fromEntries(
                Object.entries(editing).filter(
                  ([member]) => !['issuer', 'source', 'updated_at', 'updated_by'].includes(member),
                ),
              ),
              null,
              2,
            ),
          };
    const notice = NOTICES[params.get('done') ?? ''];
    return trustedIssuersPage(frame, issuers, now(), { form, ...(notice && { notice }) });
  };

  /** Adds or replaces a stored issuer; a refusal is shown on the page, the text kept. */
  const put: PageHandler = async (_: RouteContext, frame, form) => {
    const issuer = form.get('issuer')?.trim() ?? '';
    const definition = form.get('definition') ?? '';
    const refused = async (problem: string, status: number) =>
      trustedIssuersPage(frame, await all(), now(), {
        form: { issuer, definition, problem },
        status,
      });
    if (issuer === '') return refused('issuer is required', 400);
    let parsed: unknown;
    try {
      parsed = JSON.parse(definition);
    } catch {
      return refused('the definition is not well-formed JSON', 400);
    }
    let status: number;
    try {
      ({ status } = await answer(backend, 'PUT', issuerPath(issuer), parsed));
    } catch (error) {
      // The admin API's refusal, shown beside the text it refused.
      if (error instanceof OAuthError && error.status < 500) {
        return refused(error.description, error.status);
      }
      throw error;
    }
    const done = status === 201 ? 'issuer-created' : 'issuer-replaced';
    return seeOther(`${frame.base}/trusted-issuers?done=${done}`);
  };

  const confirmRemove: PageHandler = async (_: RouteContext, frame, params) => {
    const issuer = (await call(
      backend,
      'GET',
      issuerPath(requiredIssuer(params)),
    )) as TrustedIssuerView;
    if (issuer.source !== 'admin') {
      throw conflict(
        `${issuer.issuer} is a configured trusted issuer: it is removed by changing the configuration (DCR_TRUSTED_ISSUERS, dcr:trustedIssuers)`,
      );
    }
    return confirmRemovePage(frame, issuer);
  };

  const remove: PageHandler = async (_: RouteContext, frame, form) => {
    await call(backend, 'DELETE', issuerPath(requiredIssuer(form)));
    return seeOther(`${frame.base}/trusted-issuers?done=issuer-removed`);
  };

  return { list, put, confirmRemove, remove } satisfies Record<string, PageHandler>;
}
