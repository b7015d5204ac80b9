import type { OAuthError } from '../../lambdas/core/errors.js';
import type { ClientDetail, ClientSummary } from '../../lambdas/core/operator/admin.js';
import { displaySafe } from '../../lambdas/core/text.js';
import { type Html, html, page } from '../../lambdas/http/html.js';
import type { HttpResponse } from '../../lambdas/http/message.js';

/**
 * The operator dashboard's pages: server-rendered with the same templates and stylesheet as the
 * sign-in pages (every interpolation escaped, no script, no external asset), charts drawn here
 * as inline SVG with an accessible name and a table of the same numbers. Client-supplied text
 * (names, software ids) is shown with control and bidi characters as visible escapes.
 */

/** What the admin API says of a client, as JSON: never a secret or a hash. */
export type ClientView = ClientSummary;
/** What the admin API says of one client it is asked for: every non-secret metadata member. */
export type ClientDetailView = ClientDetail;

export interface DayView {
  day: string;
  registered: number;
  deleted_by_client: number;
  deleted_by_operator: number;
  expired: number;
  secret_rotated: number;
  updated: number;
}

export interface StatsView {
  active_clients: number;
  active_clients_by_registration_method: Record<string, number>;
  per_day: DayView[];
  counting_since?: number;
  recounted_at?: number;
}

/** The paths of the dashboard's pages under an issuer, and the sign-out form's token. */
export interface Frame {
  /** `<issuer>/dashboard`. */
  readonly base: string;
  /** The session's CSRF token, for every form that changes something. */
  readonly csrf: string;
}

/** Registration methods (the ways of the registration policy; trust tiers are set per way). */
export const REGISTRATION_METHODS = [
  'open',
  'initial_access_token',
  'software_statement',
  'mtls',
] as const;

const shown = (text: string | undefined) => (text === undefined ? undefined : displaySafe(text));

const iso = (seconds: number) =>
  new Date(seconds * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/:\d\d\.\d+Z$/, ' UTC');

/** "in 3 h", "5 d ago": the distance from now in the largest whole unit. */
export function relative(seconds: number, now: number): string {
  const delta = seconds - now;
  const abs = Math.abs(delta);
  const [value, unit] =
    abs < 60
      ? [abs, 's']
      : abs < 3600
        ? [Math.floor(abs / 60), 'min']
        : abs < 86_400
          ? [Math.floor(abs / 3600), 'h']
          : [Math.floor(abs / 86_400), 'd'];
  if (abs < 1) return 'now';
  return delta > 0 ? `in ${value} ${unit}` : `${value} ${unit} ago`;
}

/** An instant, absolute (in `datetime` and text) and relative to now. */
export const when = (seconds: number | undefined, now: number, never = '—'): Html | string =>
  seconds === undefined || seconds === 0
    ? never
    : html`<time datetime="${new Date(seconds * 1000).toISOString()}">${iso(seconds)}</time> <span class="muted">(${relative(seconds, now)})</span>`;

const signOut = (frame: Frame) =>
  html`<form method="post" action="${frame.base}/sign-out"><input type="hidden" name="csrf" value="${frame.csrf}"><button type="submit" class="secondary">Sign out</button></form>`;

type Section = 'overview' | 'clients' | 'federated' | 'blocked' | 'trusted-issuers';

/** Every signed-in page: the navigation (with the current page marked) and the sign-out form. */
export function shell(
  frame: Frame,
  options: { title: string; section?: Section; body: Html; status?: number; notice?: string },
): HttpResponse {
  const link = (section: Section, href: string, label: string) =>
    options.section === section
      ? html`<a href="${href}" aria-current="page">${label}</a>`
      : html`<a href="${href}">${label}</a>`;
  return page({
    title: `${options.title} · serverless-dcr dashboard`,
    wide: true,
    ...(options.status !== undefined && { status: options.status }),
    body: html`<nav class="top" aria-label="Dashboard">
<strong>serverless-dcr</strong>
${link('overview', frame.base, 'Overview')}
${link('clients', `${frame.base}/clients`, 'Clients')}
${link('federated', `${frame.base}/federated-subjects`, 'Federated subjects')}
${link('blocked', `${frame.base}/blocked`, 'Blocked software')}
${link('trusted-issuers', `${frame.base}/trusted-issuers`, 'Trusted issuers')}
${signOut(frame)}
</nav>
${options.notice && html`<p class="notice" role="status">${options.notice}</p>`}
${options.body}`,
  });
}

// --- charts -----------------------------------------------------------------------------------

interface Series {
  readonly name: string;
  readonly values: readonly number[];
}

/** The smallest of 1, 2, 5 × 10^n at or above the value (at least 1): the chart's top. */
function niceMax(value: number): number {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].map((m) => m * power).find((m) => m >= value) as number) ?? value;
}

let chartIds = 0;

/** Percent of the chart's width, for SVG attributes (the text stays in CSS pixels at any width). */
const pct = (n: number) => `${n.toFixed(2)}%`;

/** "2026-11-08" → "8 Nov": an axis label short enough for a phone. */
const shortDay = (day: string) =>
  new Date(`${day}T00:00:00Z`).toLocaleDateString('en-GB', {
    day: 'numeric',
    month: 'short',
    timeZone: 'UTC',
  });

/**
 * Columns per day (one per series, side by side) across the whole width: positions in percent,
 * so the labels keep their size at 390 px and at 1280 px; a y axis with its unit, the first,
 * middle and last days on the x axis, and the totals and busiest day written out in the caption.
 * A `role="img"` with a title and description, and the numbers as a table for anyone who cannot
 * see the chart.
 */
export function dayChart(
  label: string,
  unit: string,
  days: readonly string[],
  series: readonly Series[],
): Html {
  const id = `chart${++chartIds}`;
  const height = 180;
  const plotTop = 22;
  const plotBottom = height - 24;
  const plotH = plotBottom - plotTop;
  const left = 9;
  const right = 99;
  const highest = Math.max(0, ...series.flatMap((s) => s.values));
  const top = niceMax(highest);
  const slot = (right - left) / Math.max(days.length, 1);
  const barW = (slot * 0.8) / series.length;
  const y = (v: number) => plotBottom - (v / top) * plotH;
  const bars = series.flatMap((s, si) =>
    s.values.map((v, di) => {
      if (v === 0) return html``;
      const h = Math.max(1, (v / top) * plotH);
      const x = left + di * slot + slot * 0.1 + si * barW;
      return html`<rect class="s${si}" x="${pct(x)}" y="${(plotBottom - h).toFixed(1)}" width="${pct(barW)}" height="${h.toFixed(1)}"><title>${days[di] ?? ''}: ${v} ${s.name}</title></rect>`;
    }),
  );
  const ticks = top >= 2 ? [0, top / 2, top] : [0, top];
  const middle = Math.floor((days.length - 1) / 2);
  const axisDays = [...new Set([0, middle, days.length - 1])].filter((i) => days[i] !== undefined);
  const total = (s: Series) => s.values.reduce((a, b) => a + b, 0);
  const totals = series.map((s) => `${total(s)} ${s.name}`).join(', ');
  const busiest = days.reduce(
    (best, day, i) => {
      const sum = series.reduce((a, s) => a + (s.values[i] ?? 0), 0);
      return sum > best.sum ? { day, sum } : best;
    },
    { day: '', sum: 0 },
  );
  const first = days[0] ?? '';
  const last = days[days.length - 1] ?? '';
  return html`<figure>
<figcaption class="chart-summary"><strong>${totals}</strong> in ${days.length} days${busiest.sum > 0 ? html`; busiest day ${busiest.day} (${busiest.sum})` : ''}</figcaption>
<svg class="chart columns" width="100%" height="${height}" role="img" aria-labelledby="${id}-t ${id}-d" focusable="false">
<title id="${id}-t">${label}</title>
<desc id="${id}-d">${days.length} days from ${first} to ${last}: ${totals}; highest day ${highest}.</desc>
${ticks.map((t) => html`<line x1="${pct(left)}" y1="${y(t).toFixed(1)}" x2="${pct(right)}" y2="${y(t).toFixed(1)}" class="${t === 0 ? 'axis' : 'grid'}"/><text x="${pct(left - 1)}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${t}</text>`)}
<text x="${pct(left)}" y="11" class="unit">${unit}</text>
${axisDays.map((i) => html`<text x="${pct(left + (i + 0.5) * slot)}" y="${height - 6}" text-anchor="${i === 0 ? 'start' : i === days.length - 1 ? 'end' : 'middle'}">${shortDay(days[i] as string)}</text>`)}
${bars}
</svg>
${series.length > 1 ? html`<p class="legend">${series.map((s, i) => html`<span><span class="key s${i}"></span>${s.name} (${total(s)})</span>`)}</p>` : ''}
</figure>
<details><summary>${label}: table</summary>
<div class="scroll"><table>
<caption class="muted">${label}</caption>
<thead><tr><th scope="col">Day (UTC)</th>${series.map((s) => html`<th scope="col" class="n">${s.name}</th>`)}</tr></thead>
<tbody>${days.map(
    (day, i) =>
      html`<tr><th scope="row">${day}</th>${series.map((s) => html`<td class="n">${s.values[i] ?? 0}</td>`)}</tr>`,
  )}</tbody>
</table></div>
</details>`;
}

/**
 * Horizontal bars, one per named count, across the whole width: the name, the bar, and its
 * value at the bar's end, the text in CSS pixels at any width.
 */
export function barChart(
  label: string,
  entries: readonly (readonly [string, number])[],
  column: string,
): Html {
  const id = `chart${++chartIds}`;
  const row = 28;
  const height = Math.max(1, entries.length) * row + 4;
  const top = Math.max(1, ...entries.map(([, n]) => n));
  const barLeft = 42;
  const barMax = 46;
  const summary =
    entries.length === 0 ? 'none' : entries.map(([name, n]) => `${name} ${n}`).join(', ');
  return html`<figure>
<svg class="chart bars" width="100%" height="${height}" role="img" aria-labelledby="${id}-t ${id}-d" focusable="false">
<title id="${id}-t">${label}</title>
<desc id="${id}-d">${summary}</desc>
${entries.map(([name, n], i) => {
  const w = n > 0 ? Math.max(0.5, (n / top) * barMax) : 0;
  const short = name.length > 18 ? `${name.slice(0, 17)}…` : name;
  return html`<text x="0" y="${i * row + 19}">${short}<title>${name}</title></text><rect class="s0" x="${pct(barLeft)}" y="${i * row + 6}" width="${pct(w)}" height="18"><title>${name}: ${n}</title></rect><text x="${pct(barLeft + w + 1)}" y="${i * row + 19}" class="value">${n}</text>`;
})}
</svg>
</figure>
<details><summary>${label}: table</summary>
<table><thead><tr><th scope="col">${column}</th><th scope="col" class="n">Active clients</th></tr></thead>
<tbody>${entries.map(([name, n]) => html`<tr><th scope="row">${name}</th><td class="n">${n}</td></tr>`)}</tbody></table>
</details>`;
}

/** The clients expiring soon, compact at any width: name, software_id, when. */
function expiringRows(frame: Frame, clients: readonly ClientView[], now: number): Html {
  if (clients.length === 0) return html`<p>None.</p>`;
  return html`<table>
<thead><tr><th scope="col">Name</th><th scope="col">software_id</th><th scope="col">Expires</th></tr></thead>
<tbody>${clients.map(
    (c) => html`<tr>
<td>${clientLink(frame, c)}</td>
<td>${c.software_id === undefined ? '—' : html`<code class="id" title="${displaySafe(c.software_id)}">${displaySafe(c.software_id)}</code>`}</td>
<td class="nowrap">${c.active_until === undefined ? 'never' : html`<time datetime="${new Date(c.active_until * 1000).toISOString()}" title="${iso(c.active_until)}">${relative(c.active_until, now)}</time>`}</td>
</tr>`,
  )}</tbody>
</table>`;
}

// --- pages ------------------------------------------------------------------------------------

const clientLink = (frame: Frame, client: ClientView) =>
  html`<a href="${frame.base}/clients/${encodeURIComponent(client.client_id)}">${shown(client.client_name) ?? html`<span class="muted">(no name)</span>`}</a>`;

/** The clients table: stacked rows at phone width (each cell labelled), a table elsewhere. */
function clientRows(frame: Frame, clients: readonly ClientView[], now: number): Html {
  if (clients.length === 0) return html`<p>No clients.</p>`;
  return html`<table class="rows">
<thead><tr><th scope="col">Name</th><th scope="col">client_id</th><th scope="col">software_id</th><th scope="col">Method</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Expires</th></tr></thead>
<tbody>${clients.map(
    (c) => html`<tr>
<td data-label="Name">${clientLink(frame, c)}</td>
<td data-label="client_id"><code class="id" title="${c.client_id}">${c.client_id}</code></td>
<td data-label="software_id">${c.software_id === undefined ? '—' : html`<code class="id" title="${displaySafe(c.software_id)}">${displaySafe(c.software_id)}</code>`}</td>
<td data-label="Method" class="nowrap">${c.registration_method ?? 'open'}</td>
<td data-label="Created">${when(c.client_id_issued_at, now)}</td>
<td data-label="Last used">${when(c.last_used_at, now, 'never')}</td>
<td data-label="Expires">${when(c.active_until, now, 'never')}</td>
</tr>`,
  )}</tbody>
</table>`;
}

/** The software_ids with the most active clients (GET /admin/stats/software). */
export interface TopSoftwareView {
  software_ids: { software_id: string; active_clients: number }[];
}

export function overviewPage(
  frame: Frame,
  stats: StatsView,
  topSoftware: TopSoftwareView,
  expiring: readonly ClientView[],
  expiringLimit: number,
  now: number,
): HttpResponse {
  const days = stats.per_day.map((d) => d.day);
  const byMethod = Object.entries(stats.active_clients_by_registration_method).sort(
    (a, b) => b[1] - a[1],
  );
  const sum = (pick: (d: DayView) => number) => stats.per_day.reduce((a, d) => a + pick(d), 0);
  return shell(frame, {
    title: 'Overview',
    section: 'overview',
    body: html`<h1>Overview</h1>
<div class="grid">
<section aria-labelledby="active-h">
<h2 id="active-h">Active clients</h2>
<p><span class="big" id="active-total">${stats.active_clients}</span> active clients</p>
${barChart('Active clients by registration method (trust tier)', byMethod, 'Registration method')}
</section>
<section aria-labelledby="last30-h">
<h2 id="last30-h">Last ${days.length} days</h2>
<dl class="figures">
<dt>Registrations</dt><dd id="registered-total">${sum((d) => d.registered)}</dd>
<dt>Deletions (by clients / by the operator)</dt><dd id="deleted-total">${sum((d) => d.deleted_by_client + d.deleted_by_operator)} (${sum((d) => d.deleted_by_client)} / ${sum((d) => d.deleted_by_operator)})</dd>
<dt>Expiries</dt><dd id="expired-total">${sum((d) => d.expired)}</dd>
<dt>Secret rotations</dt><dd>${sum((d) => d.secret_rotated)}</dd>
</dl>
</section>
</div>
<section aria-labelledby="reg-h">
<h2 id="reg-h">Registrations per day</h2>
${dayChart('Registrations per day', 'registrations per day', days, [{ name: 'registrations', values: stats.per_day.map((d) => d.registered) }])}
</section>
<section aria-labelledby="gone-h">
<h2 id="gone-h">Deletions and expiries per day</h2>
${dayChart('Deletions and expiries per day', 'clients per day', days, [
  {
    name: 'deletions',
    values: stats.per_day.map((d) => d.deleted_by_client + d.deleted_by_operator),
  },
  { name: 'expiries', values: stats.per_day.map((d) => d.expired) },
])}
</section>
<section aria-labelledby="sw-h">
<h2 id="sw-h">Top software_ids</h2>
${
  topSoftware.software_ids.length === 0
    ? html`<p>No active client has a software_id.</p>`
    : barChart(
        'Active clients by software_id (top 10)',
        topSoftware.software_ids.map(
          (s) => [displaySafe(s.software_id), s.active_clients] as const,
        ),
        'software_id',
      )
}
</section>
<section aria-labelledby="exp-h">
<h2 id="exp-h">Expiring in the next 24 hours</h2>
<p class="muted">${expiring.length >= expiringLimit ? `The first ${expiringLimit}, soonest first. ` : ''}<a href="${frame.base}/clients?sort=expires-asc">Every client by expiry</a></p>
${expiringRows(frame, expiring, now)}
</section>
<p class="muted">Counts come from the change events (one counter update per event), from ${stats.counting_since === undefined ? 'the first change on' : when(stats.counting_since, now)}${stats.recounted_at !== undefined ? html`; active clients recounted ${when(stats.recounted_at, now)}` : ''}. UTC days.</p>`,
  });
}

/** A client order the clients page offers; ties go by client_id, so pages never overlap. */
function orderBy<T extends number | string>(
  key: (c: ClientView) => T | undefined,
  direction: 1 | -1,
): (clients: readonly ClientView[]) => ClientView[] {
  return (clients) =>
    [...clients].sort((a, b) => {
      const x = key(a);
      const y = key(b);
      // Absent values (never used, never expires, no name) go last either way.
      if (x === undefined || y === undefined) {
        if (x !== y) return x === undefined ? 1 : -1;
      } else if (x !== y) {
        const compared =
          typeof x === 'string' ? x.localeCompare(y as string) : (x as number) - (y as number);
        return direction * compared;
      }
      // Ties (clients registered in the same second) follow the direction too, so that the
      // two directions of one key are exact reverses.
      return direction * (a.client_id < b.client_id ? -1 : 1);
    });
}

export const CLIENT_SORTS = {
  'created-desc': { label: 'Newest first', order: orderBy((c) => c.client_id_issued_at, -1) },
  'created-asc': { label: 'Oldest first', order: orderBy((c) => c.client_id_issued_at, 1) },
  'used-desc': { label: 'Most recently used', order: orderBy((c) => c.last_used_at, -1) },
  'expires-asc': { label: 'Expiring soonest', order: orderBy((c) => c.active_until, 1) },
  'name-asc': {
    label: 'Name (A–Z)',
    order: orderBy((c) => c.client_name?.toLowerCase(), 1),
  },
} as const;
export type ClientSort = keyof typeof CLIENT_SORTS;

/** One page of the clients listing, where it starts, and where the next and previous are. */
export interface ClientListing {
  readonly clients: readonly ClientView[];
  /** The first row's number (1-based) in the whole listing. */
  readonly first: number;
  /** Every match (sorted) or every active client (unfiltered, registry order); unknown otherwise. */
  readonly total?: number;
  /** The sorted matches are the first ones read, not all of them. */
  readonly partial?: boolean;
  readonly next?: { cursor: string } | { page: number };
  readonly previous?: { page: number };
}

/** The clients page's search and filters, as the query string carries them. */
export interface ClientQuery {
  readonly search?: string;
  readonly method?: string;
  readonly sort?: ClientSort;
  readonly created_after?: string;
  readonly created_before?: string;
  readonly used_after?: string;
  readonly used_before?: string;
}

/** A UTC day field: text in the one format the server reads, not the browser's locale's. */
const dateField = (name: keyof ClientQuery, label: string, query: ClientQuery) =>
  html`<div><label for="${name}">${label} <span class="muted">(UTC)</span></label><input type="text" id="${name}" name="${name}" value="${query[name] ?? ''}" placeholder="YYYY-MM-DD" pattern="\\d{4}-\\d{2}-\\d{2}" inputmode="numeric" maxlength="10" autocomplete="off" aria-describedby="date-hint"></div>`;

const count = new Intl.NumberFormat('en-US');

/** "Showing 26–50 of 312 clients", with what the total counts. */
function showing(listing: ClientListing, filtered: boolean): Html {
  const { clients, first, total } = listing;
  if (clients.length === 0) return html``;
  const range = `${count.format(first)}–${count.format(first + clients.length - 1)}`;
  const of =
    total === undefined
      ? ' matching clients'
      : ` of ${count.format(total)}${listing.partial ? '+' : ''} ${filtered ? 'matching' : 'active'} clients`;
  return html`<p id="clients-count"><strong>Showing ${range}</strong>${of}</p>${
    listing.partial
      ? html`<p class="muted">Sorted among the first ${count.format(total ?? 0)} matches read: narrow the search or filters to sort them all.</p>`
      : ''
  }`;
}

export function clientsPage(
  frame: Frame,
  query: ClientQuery,
  listing: ClientListing,
  now: number,
  notice?: string,
): HttpResponse {
  const { sort, ...filters } = query;
  const filtered = Object.keys(filters).length > 0;
  const link = (position: { cursor: string } | { page: number }) => {
    const params = new URLSearchParams(
      Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined),
    );
    for (const [name, value] of Object.entries(position)) params.set(name, String(value));
    return `${frame.base}/clients?${params}`;
  };
  return shell(frame, {
    title: 'Clients',
    section: 'clients',
    ...(notice !== undefined && { notice }),
    body: html`<h1>Clients</h1>
<form method="get" action="${frame.base}/clients" role="search">
<div class="filters">
<div><label for="search">Search</label><input type="search" id="search" name="search" value="${query.search ?? ''}" aria-describedby="search-hint" autocapitalize="none" spellcheck="false"></div>
<div><label for="method">Registration method</label><select id="method" name="method">
<option value="">any</option>
${REGISTRATION_METHODS.map((m) => (m === query.method ? html`<option value="${m}" selected>${m}</option>` : html`<option value="${m}">${m}</option>`))}
</select></div>
${dateField('created_after', 'Created on or after', query)}
${dateField('created_before', 'Created before', query)}
${dateField('used_after', 'Last used on or after', query)}
${dateField('used_before', 'Last used before', query)}
<div><label for="sort">Sort</label><select id="sort" name="sort">
<option value="">Registry order</option>
${Object.entries(CLIENT_SORTS).map(([value, { label }]) => (value === sort ? html`<option value="${value}" selected>${label}</option>` : html`<option value="${value}">${label}</option>`))}
</select></div>
</div>
<p class="muted" id="search-hint">Search: a client_name prefix, a client_id or a software_id.</p>
<p class="muted" id="date-hint">Dates are UTC days, written YYYY-MM-DD (for example 2026-11-01).</p>
<div class="actions"><button type="submit">Apply</button> <a href="${frame.base}/clients">Clear</a></div>
</form>
<h2>Results</h2>
${showing(listing, filtered)}
${clientRows(frame, listing.clients, now)}
<nav aria-label="Pages" class="actions">
${listing.previous && html`<a href="${link(listing.previous)}" rel="prev">Previous page</a>`}
${listing.next && html`<a href="${link(listing.next)}" rel="next">Next page</a>`}
</nav>`,
  });
}

export const row = (term: string, value: Html | string | undefined) =>
  value === undefined ? '' : html`<dt>${term}</dt><dd>${value}</dd>`;

/** A list of client-supplied values, each as code (escaped, never a link). */
const codes = (values: readonly string[] | undefined) =>
  values === undefined || values.length === 0
    ? undefined
    : html`<ul class="plain">${values.map((v) => html`<li><code>${displaySafe(v)}</code></li>`)}</ul>`;

/** The client's keys: a key set (described, key by key) or where it publishes one. */
function keys(client: ClientDetailView): Html | undefined {
  if (client.jwks_uri !== undefined) return html`published at <code>${client.jwks_uri}</code>`;
  const described = client.jwks_keys;
  if (described === undefined) return undefined;
  return html`${described.length} registered (<code>jwks</code>): ${described.map(
    (k, i) =>
      html`${i > 0 ? ', ' : ''}<code>${k.kid ?? '(no kid)'}</code> <span class="muted">${[k.kty, k.crv, k.alg].filter(Boolean).join(' ')}</span>`,
  )}`;
}

/**
 * Where the client's authorization codes go, first on its page: the hosts its redirect URIs
 * name (what an operator checks a client by), then the URIs themselves.
 */
function redirects(client: ClientDetailView): Html {
  const hosts = client.redirect_hosts ?? [];
  return html`<section aria-labelledby="codes-h" class="codes">
<h2 id="codes-h">Where its codes go</h2>
${
  hosts.length === 0
    ? html`<p>No redirect URIs: this client gets no authorization codes${client.grant_types.includes('client_credentials') ? ' (it asks for tokens with its own credentials)' : ''}.</p>`
    : html`<ul class="hosts" aria-label="Redirect hosts">${hosts.map((h) => html`<li><code>${displaySafe(h)}</code></li>`)}</ul>
<dl>${row('redirect_uris', codes(client.redirect_uris))}</dl>
<p class="muted">Loopback hosts match any port; a host ending in <code>:</code> is a native app's URI scheme.</p>`
}
</section>`;
}

/**
 * Client health (docs/operations.md "Client health"): refresh token reuse, and registrations
 * repeating this client's exact metadata; a warning says what to look at when one is a sign.
 */
function health(client: ClientDetailView, now: number): Html {
  const h = client.health;
  const repeats = h.same_metadata_registrations ?? 1;
  const signs = [
    h.refresh_families_revoked_by_reuse > 0 &&
      'Refresh token families were ended by a reuse: a stolen token, or a client that lost its new refresh token. Its users must sign in again.',
    repeats > 1 &&
      'This exact metadata keeps being registered: a client registering on every connect (a re-registration loop), or many installs of one application.',
  ].filter((sign): sign is string => typeof sign === 'string');
  return html`<section aria-labelledby="health-h">
<h2 id="health-h">Health</h2>
<dl>
${row('Refresh tokens never used', String(h.refresh_tokens_never_used))}
${row('Refresh reuse absorbed', String(h.refresh_reuse_absorbed))}
${row('Families revoked by reuse', String(h.refresh_families_revoked_by_reuse))}
${row(
  'Same metadata registered',
  h.metadata_fingerprint === undefined
    ? undefined
    : repeats > 1
      ? html`${repeats} times since ${when(h.same_metadata_since, now)}`
      : 'once (no identical registration within a day)',
)}
${row('Metadata fingerprint', h.metadata_fingerprint && html`<code>${h.metadata_fingerprint}</code>`)}
</dl>
${signs.map((sign) => html`<p class="warning">${sign}</p>`)}
<p class="muted">Reuse absorbed: the same refresh token sent again within the grace window (concurrent refreshes), answered with its successor. What each figure means and what to do: <code>docs/operations.md</code>, “Client health”.</p>
</section>`;
}

export function clientPage(
  frame: Frame,
  client: ClientDetailView,
  now: number,
  notice?: string,
): HttpResponse {
  const path = `${frame.base}/clients/${encodeURIComponent(client.client_id)}`;
  const hasSecret = client.client_secret_expires_at !== undefined;
  const change = client.last_change;
  return shell(frame, {
    title: client.client_name === undefined ? client.client_id : displaySafe(client.client_name),
    section: 'clients',
    ...(notice !== undefined && { notice }),
    body: html`<h1>${shown(client.client_name) ?? 'A client without a name'}</h1>
${redirects(client)}
<div class="grid">
<section aria-labelledby="meta-h">
<h2 id="meta-h">Registration</h2>
<dl>
${row('client_id', html`<code>${client.client_id}</code>`)}
${row('client_name', shown(client.client_name))}
${row('software_id', shown(client.software_id))}
${row('software_version', shown(client.software_version))}
${row('Registration method', client.registration_method ?? 'open')}
${row('Initial access token', client.initial_access_token_id && html`<code>${client.initial_access_token_id}</code>`)}
${row('grant_types', client.grant_types.join(' '))}
${row('response_types', client.response_types?.join(' '))}
${row('application_type', client.application_type)}
${row('scope', client.scope)}
${row('contacts', codes(client.contacts))}
${row('client_uri', client.client_uri && html`<code>${client.client_uri}</code>`)}
${row('logo_uri', client.logo_uri && html`<code>${client.logo_uri}</code>`)}
${row('policy_uri', client.policy_uri && html`<code>${client.policy_uri}</code>`)}
${row('tos_uri', client.tos_uri && html`<code>${client.tos_uri}</code>`)}
</dl>
</section>
<section aria-labelledby="auth-h">
<h2 id="auth-h">Authentication</h2>
<dl>
${row('token_endpoint_auth_method', client.token_endpoint_auth_method)}
${row('token_endpoint_auth_signing_alg', client.token_endpoint_auth_signing_alg)}
${row('Keys', keys(client))}
${row(
  'Certificate (RFC 8705)',
  [
    client.tls_client_auth_subject_dn,
    client.tls_client_auth_san_dns,
    client.tls_client_auth_san_uri,
    client.tls_client_auth_san_ip,
    client.tls_client_auth_san_email,
  ].find((v) => v !== undefined),
)}
${row('Certificate-bound tokens', client.tls_client_certificate_bound_access_tokens === undefined ? undefined : String(client.tls_client_certificate_bound_access_tokens))}
${row('DPoP-bound tokens', client.dpop_bound_access_tokens === undefined ? undefined : String(client.dpop_bound_access_tokens))}
${row('Secret expires', hasSecret ? when(client.client_secret_expires_at, now, 'never') : client.token_endpoint_auth_method === 'none' ? 'no secret (public client)' : 'no secret')}
</dl>
</section>
<section aria-labelledby="life-h">
<h2 id="life-h">Lifecycle</h2>
<dl>
${row('Created', when(client.client_id_issued_at, now))}
${row('Last used', when(client.last_used_at, now, 'never'))}
${row('Expires', when(client.active_until, now, 'never'))}
${row('expires_at (requested, capped)', client.expires_at === undefined ? undefined : when(client.expires_at, now))}
${row('Last change', change && html`${when(change.at, now)}${change.actor ? html` by <code>${change.actor}</code>` : ''}${change.source_ip ? html` from <code>${change.source_ip}</code>` : ''}`)}
</dl>
<p class="muted">The full audit trail (every registration, update, rotation, deletion and expiry) is in the audit events: EventBridge in AWS, <code>DCR_AUDIT_LOG</code> locally.</p>
</section>
${health(client, now)}
</div>
<h2>Actions</h2>
<div class="grid">
<section aria-labelledby="rotate-h">
<h3 id="rotate-h">Rotate secret</h3>
${
  hasSecret
    ? html`<form method="post" action="${path}/rotate-secret">
<input type="hidden" name="csrf" value="${frame.csrf}">
<label for="grace">Grace period (seconds)</label>
<input type="number" id="grace" name="grace_period_seconds" value="3600" min="0" max="2592000" step="1" required aria-describedby="grace-hint">
<p class="muted" id="grace-hint">The old secret keeps working this long (0: not at all). The new secret is shown once.</p>
<div class="actions"><button type="submit">Rotate secret</button></div>
</form>`
    : html`<p>This client authenticates without a secret.</p>`
}
</section>
<section aria-labelledby="delete-h">
<h3 id="delete-h">Delete</h3>
<p>The client and its registration access token stop working at once.</p>
<form method="get" action="${path}/delete"><div class="actions"><button type="submit" class="danger">Delete</button></div></form>
</section>
${
  client.software_id !== undefined &&
  html`<section aria-labelledby="block-h">
<h3 id="block-h">Block software_id</h3>
<p>Stop new registrations by software_id <code>${displaySafe(client.software_id)}</code>. The next page says how many clients it has and asks before anything changes; the Blocked software page undoes it.</p>
<form method="get" action="${frame.base}/block-software">
<input type="hidden" name="software_id" value="${client.software_id}">
<input type="hidden" name="client_id" value="${client.client_id}">
<div class="actions"><button type="submit" class="danger">Block software_id…</button></div>
</form>
</section>`
}
</div>`,
  });
}

export function confirmDeletePage(frame: Frame, client: ClientView, now: number): HttpResponse {
  const path = `${frame.base}/clients/${encodeURIComponent(client.client_id)}`;
  return shell(frame, {
    title: 'Delete client?',
    section: 'clients',
    body: html`<h1>Delete this client?</h1>
<dl>
${row('client_name', shown(client.client_name) ?? '(no name)')}
${row('client_id', html`<code>${client.client_id}</code>`)}
${row('software_id', shown(client.software_id))}
${row('Created', when(client.client_id_issued_at, now))}
</dl>
<p class="warning" role="note">Its tokens, secret and registration access token stop working at once. This cannot be undone.</p>
<form method="post" action="${path}/delete">
<input type="hidden" name="csrf" value="${frame.csrf}">
<div class="actions"><button type="submit" class="danger">Yes, delete this client</button> <a href="${path}">Cancel</a></div>
</form>`,
  });
}

/** What the block confirmation knows of the software_id's clients (a dry run's count). */
export interface BlockImpact {
  readonly softwareId: string;
  /** The client the operator came from, to go back to on Cancel. */
  readonly clientId?: string;
  readonly activeClients: number;
  /** The count stopped at the dry run's bound: there are at least this many. */
  readonly more: boolean;
}

/** Before a block: what will happen, the choice to delete the clients too, Confirm or Cancel. */
export function confirmBlockPage(frame: Frame, impact: BlockImpact): HttpResponse {
  const count = `${impact.activeClients}${impact.more ? ' or more' : ''}`;
  const cancel =
    impact.clientId === undefined
      ? `${frame.base}/blocked`
      : `${frame.base}/clients/${encodeURIComponent(impact.clientId)}`;
  return shell(frame, {
    title: 'Block software_id?',
    section: 'blocked',
    body: html`<h1>Block this software_id?</h1>
<dl>${row('software_id', html`<code>${displaySafe(impact.softwareId)}</code>`)}${row('Active clients', html`<span id="impact-count">${count}</span>`)}</dl>
<p>No new client with this software_id can register, by software statement or by body, until it is unblocked on the Blocked software page.</p>
<form method="post" action="${frame.base}/block-software">
<input type="hidden" name="csrf" value="${frame.csrf}">
<input type="hidden" name="software_id" value="${impact.softwareId}">
${impact.clientId !== undefined && html`<input type="hidden" name="client_id" value="${impact.clientId}">`}
<fieldset>
<legend>Its ${count} active client(s)</legend>
<label class="choice"><input type="radio" name="delete_clients" value="false" checked> Keep them: they go on working until they expire</label>
<label class="choice"><input type="radio" name="delete_clients" value="true"> Delete them too: their tokens and secrets stop working at once, which cannot be undone</label>
</fieldset>
<div class="actions"><button type="submit" class="danger">Block software_id</button> <a href="${cancel}">Cancel</a></div>
</form>`,
  });
}

/** A blocked software_id as GET /admin/blocked-software-ids answers it. */
export interface BlockedView {
  software_id: string;
  blocked_at: number;
  blocked_by?: string;
  source_ip?: string;
}

/** The blocked software_ids, each with its Unblock button; a field to block another. */
export function blockedPage(
  frame: Frame,
  blocked: readonly BlockedView[],
  nextPage: string | undefined,
  now: number,
  notice?: string,
): HttpResponse {
  return shell(frame, {
    title: 'Blocked software',
    section: 'blocked',
    ...(notice !== undefined && { notice }),
    body: html`<h1>Blocked software</h1>
<p>These software_ids cannot register new clients. Unblocking lets them register again; clients deleted when they were blocked do not come back.</p>
${
  blocked.length === 0
    ? html`<p>No software_id is blocked.</p>`
    : html`<p class="muted" id="blocked-count">${blocked.length}${nextPage ? ' on this page' : ''} blocked</p>
<table class="rows">
<thead><tr><th scope="col">software_id</th><th scope="col">Blocked</th><th scope="col">By</th><th scope="col">From</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
<tbody>${blocked.map(
        (b) => html`<tr>
<td data-label="software_id"><code>${displaySafe(b.software_id)}</code></td>
<td data-label="Blocked">${when(b.blocked_at, now)}</td>
<td data-label="By">${b.blocked_by === undefined ? '—' : html`<code>${b.blocked_by}</code>`}</td>
<td data-label="From">${b.source_ip === undefined ? '—' : html`<code>${b.source_ip}</code>`}</td>
<td><form method="post" action="${frame.base}/unblock-software">
<input type="hidden" name="csrf" value="${frame.csrf}">
<input type="hidden" name="software_id" value="${b.software_id}">
<button type="submit" class="secondary" aria-label="Unblock ${displaySafe(b.software_id)}">Unblock</button>
</form></td>
</tr>`,
      )}</tbody>
</table>`
}
<nav aria-label="Pages" class="actions">${nextPage && html`<a href="${nextPage}" rel="next">Next page</a>`}</nav>
<h2 id="block-new-h">Block a software_id</h2>
<form method="get" action="${frame.base}/block-software" aria-labelledby="block-new-h">
<label for="block-id">software_id</label>
<input type="text" id="block-id" name="software_id" required maxlength="255" autocapitalize="none" spellcheck="false">
<div class="actions"><button type="submit" class="danger">Block…</button></div>
</form>`,
  });
}

/** The one page that shows a secret: the result of a rotation, once (never cached). */
export function rotatedPage(
  frame: Frame,
  result: {
    client_id: string;
    client_secret: string;
    client_secret_expires_at: number;
    previous_secret_valid_until?: number;
  },
  now: number,
): HttpResponse {
  const path = `${frame.base}/clients/${encodeURIComponent(result.client_id)}`;
  return shell(frame, {
    title: 'New client secret',
    section: 'clients',
    body: html`<h1>New client secret</h1>
<p class="warning" role="note">Copy it now: it is shown this once and cannot be read again.</p>
<label for="new-secret">client_secret of <code>${result.client_id}</code></label>
<output id="new-secret" class="secret">${result.client_secret}</output>
<dl>
${row('Secret expires', when(result.client_secret_expires_at, now, 'never'))}
${row('Old secret works until', result.previous_secret_valid_until === undefined ? 'no longer (no grace period)' : when(result.previous_secret_valid_until, now))}
</dl>
<p><a href="${path}">Back to the client</a></p>`,
  });
}

/** The sign-in page: one labelled field and a button; an error says what went wrong. */
export function signInPage(action: string, problem?: string): HttpResponse {
  return page({
    title: 'Sign in · serverless-dcr dashboard',
    status: problem ? 401 : 200,
    ...(problem && { error: 'access_denied' }),
    body: html`<h1>Registry dashboard</h1>
<form method="post" action="${action}">
<label for="admin-token">Admin token</label>
<input type="password" id="admin-token" name="admin_token" autocomplete="current-password" required${problem ? html` aria-invalid="true" aria-describedby="problem"` : ''}>
${problem && html`<p class="error" id="problem" role="alert">${problem}</p>`}
<div class="actions"><button type="submit">Sign in</button></div>
</form>`,
  });
}

/** Without an admin token the dashboard is closed, and says how to open it. */
export function disabledPage(hint: string): HttpResponse {
  return page({
    title: 'Dashboard closed · serverless-dcr',
    status: 404,
    error: 'not_found',
    body: html`<h1>The dashboard is closed</h1>
<p>${hint}</p>`,
  });
}

/** The dashboard's error page (the router shows it for any refused dashboard request). */
export function dashboardErrorPage(error: OAuthError, base: string): HttpResponse {
  return page({
    title: 'Dashboard error · serverless-dcr',
    status: error.status === 303 ? 400 : error.status,
    error: error.error,
    body: html`<h1>This did not work</h1>
<p class="error" role="alert">${error.description}</p>
<p class="muted">Error code: <code>${error.error}</code></p>
<p><a href="${base}">Back to the dashboard</a></p>`,
  });
}
