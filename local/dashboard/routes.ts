import { randomBytes } from 'node:crypto';
import type { CookieKeySource } from '../../lambdas/core/authorization/ports.js';
import type { Clock } from '../../lambdas/core/clock.js';
import { decodeCursor, encodeCursor } from '../../lambdas/core/cursor.js';
import {
  forbidden,
  invalidRequest,
  notFound,
  OAuthError,
  relayedError,
  signInRefused,
  temporarilyUnavailable,
} from '../../lambdas/core/errors.js';
import type { FederatedSubject } from '../../lambdas/core/federation/federated-tokens.js';
import { endpointUrl, PATHS } from '../../lambdas/core/paths.js';
import { hashSecret, secretMatches } from '../../lambdas/core/secrets.js';
import { refuseForeignForm } from '../../lambdas/http/browser-state.js';
import type { HttpRequest, HttpResponse } from '../../lambdas/http/message.js';
import { prefersJson, readCookies, readForm } from '../../lambdas/http/request.js';
import { seeOther } from '../../lambdas/http/responses.js';
import type { Route, RouteContext, Router } from '../../lambdas/http/router.js';
import { CookieSealer } from '../../lambdas/http/sealed-cookies.js';
import { logger } from '../../lambdas/log.js';
import { federatedSubjectsPage } from './federated-subjects.js';
import {
  type BlockedView,
  blockedPage,
  CLIENT_SORTS,
  type ClientDetailView,
  type ClientListing,
  type ClientQuery,
  type ClientSort,
  type ClientView,
  clientPage,
  clientsPage,
  confirmBlockPage,
  confirmDeletePage,
  dashboardErrorPage,
  disabledPage,
  type Frame,
  overviewPage,
  REGISTRATION_METHODS,
  rotatedPage,
  type StatsView,
  signInPage,
  type TopSoftwareView,
} from './pages.js';
import { trustedIssuerPages } from './trusted-issuers.js';

/**
 * The operator's dashboard: pages over the admin API, never around it. Every read and change
 * goes through one port, AdminBackend, which is the admin API itself: in process on the local
 * server (its admin routes, with the admin token), and over HTTPS with SigV4 in
 * `dcr-admin dashboard` (the deployed, IAM-authorized admin API). So the pages cost exactly what
 * the admin API costs, and nothing new is exposed in AWS.
 */
export interface AdminBackend {
  /** An admin API call: `path` below `/admin` (with its query); the JSON answer and status. */
  // biome-ignore lint/suspicious/noExplicitAny: JSON from the admin API, shaped by each call.
  request(method: string, path: string, body?: unknown): Promise<{ status: number; body?: any }>;
}

/** The local server's admin routes, called in process with the admin token. */
export function inProcessAdmin(
  router: () => Router,
  issuer: () => string,
  token: string,
): AdminBackend {
  return {
    async request(method, path, body) {
      const url = new URL(endpointUrl(issuer(), `/admin${path}`));
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const request: HttpRequest = {
        method,
        path: url.pathname,
        query: url.search.slice(1),
        headers: {
          accept: 'application/json',
          authorization: `Bearer ${token}`,
          ...(payload !== undefined && { 'content-type': 'application/json' }),
        },
        ...(payload !== undefined && { body: Buffer.from(payload) }),
      };
      const response = await router()(request, issuer());
      return {
        status: response.status,
        ...(response.body !== undefined && { body: JSON.parse(response.body) }),
      };
    },
  };
}

export interface DashboardOptions {
  readonly backend: AdminBackend;
  readonly cookieKey: CookieKeySource;
  readonly clock: Clock;
  /** How long a dashboard session lasts (the server's session lifetime). */
  readonly sessionLifetimeSeconds: number;
  /** The secret the sign-in asks for (the admin token); absent = the dashboard is closed. */
  readonly signInToken: string | undefined;
  /** What the closed dashboard says to open it. */
  readonly closedHint: string;
  /** `dcr-admin dashboard`: the printed URL's `?token=` signs in (then is dropped from the URL). */
  readonly urlSignIn?: boolean;
  /** `dcr-admin dashboard`: the only Host accepted (a DNS-rebinding page names another). */
  readonly host?: () => string;
}

const COOKIE = 'dcr_dashboard';
/** Matches of a filtered listing gathered per page, and the admin API calls that may take. */
const PAGE_ROWS = 25;
const FILTERED_SCAN = 200;
const FILTERED_CALLS = 5;
/** A sorted listing reads the matches first: at most this many, in calls of SORTED_SCAN items. */
const SORTED_MATCHES = 2000;
const SORTED_SCAN = 500;
const SORTED_CALLS = 10;
const EXPIRING_LIMIT = 20;
const MAX_GRACE = 30 * 24 * 3600;
/** Blocking with deletion: the bounded admin API steps one confirmation may take. */
const BLOCK_STEPS = 20;

const NOTICES: Record<string, string> = {
  deleted: 'The client was deleted.',
  blocked: 'The software_id is blocked: it can no longer register.',
  'blocked-deleted':
    'The software_id is blocked: it can no longer register, and its clients were deleted.',
  'blocked-partly':
    'The software_id is blocked, but not all its clients are deleted yet: block it again with deletion to go on.',
  unblocked: 'The software_id is unblocked: it can register again.',
};

/** An admin API answer (status and JSON body), or the error it carries as this server's one error type. */
export async function answer(backend: AdminBackend, method: string, path: string, body?: unknown) {
  let response: Awaited<ReturnType<AdminBackend['request']>>;
  try {
    response = await backend.request(method, path, body);
  } catch (error) {
    if (error instanceof OAuthError) throw error;
    logger.warn('admin API unreachable', { error: (error as Error).message });
    throw temporarilyUnavailable('the admin API could not be reached; try again');
  }
  if (response.status >= 400) {
    const answer = (response.body ?? {}) as Record<string, unknown>;
    const description =
      typeof answer.error_description === 'string'
        ? answer.error_description
        : typeof answer.message === 'string'
          ? `the admin API answered: ${answer.message}`
          : `the admin API answered ${response.status}`;
    const error = typeof answer.error === 'string' ? answer.error : 'admin_api_error';
    throw relayedError(response.status, error, description);
  }
  return response;
}

/** The JSON body of an admin API answer, or the error it carries as this server's one error type. */
export const call = async (backend: AdminBackend, method: string, path: string, body?: unknown) =>
  (await answer(backend, method, path, body)).body;

/** A UTC day from a date field (`YYYY-MM-DD`), or nothing; anything else is a 400. */
function day(value: string | null, name: string): string | undefined {
  if (value === null || value === '') return undefined;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw invalidRequest(`${name} must be a date (YYYY-MM-DD)`);
  }
  return value;
}

function clientQuery(params: URLSearchParams): ClientQuery {
  const search = params.get('search')?.trim();
  const method = params.get('method') ?? '';
  if (method !== '' && !(REGISTRATION_METHODS as readonly string[]).includes(method)) {
    throw invalidRequest('method is not a registration method');
  }
  if (search !== undefined && search.length > 1000) throw invalidRequest('search is too long');
  const sort = params.get('sort') ?? '';
  if (sort !== '' && !Object.hasOwn(CLIENT_SORTS, sort))
    throw invalidRequest('sort is not a known order');
  const dates = {
    created_after: day(params.get('created_after'), 'created_after'),
    created_before: day(params.get('created_before'), 'created_before'),
    used_after: day(params.get('used_after'), 'used_after'),
    used_before: day(params.get('used_before'), 'used_before'),
  };
  return {
    ...(search && { search }),
    ...(method !== '' && { method }),
    ...(sort !== '' && { sort: sort as ClientSort }),
    ...Object.fromEntries(Object.entries(dates).filter(([, v]) => v !== undefined)),
  };
}

/** The admin API's listing parameters for the page's query. */
function adminFilter(query: ClientQuery): URLSearchParams {
  const params = new URLSearchParams();
  const set = (name: string, value: string | undefined) => {
    if (value !== undefined) params.set(name, value);
  };
  set('search', query.search);
  set('registration_method', query.method);
  set('created_after', query.created_after);
  set('created_before', query.created_before);
  set('last_used_after', query.used_after);
  set('last_used_before', query.used_before);
  return params;
}

/** The form's software_id; the admin API checks the rest of its shape. */
function requiredSoftwareId(form: URLSearchParams): string {
  const softwareId = form.get('software_id') ?? '';
  if (softwareId === '') throw invalidRequest('software_id is required');
  return softwareId;
}

/** A client's admin path; `.` and `..` would be dot segments of the URL, and name no client. */
function clientPath(id: string): string {
  if (id === '.' || id === '..') throw notFound('no such client');
  return `/clients/${encodeURIComponent(id)}`;
}

/** Where a page in registry order starts: the admin API cursor, matches of it already shown. */
interface ListPosition {
  readonly c?: string;
  readonly s: number;
  readonly n: number;
}

function listPosition(cursor: string | null): ListPosition {
  if (cursor === null || cursor === '') return { s: 0, n: 0 };
  const { c, s, n } = decodeCursor<Record<string, unknown>>(cursor);
  const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  if ((c !== undefined && typeof c !== 'string') || !count(s) || !count(n)) {
    throw invalidRequest('cursor is malformed');
  }
  return { ...(c !== undefined && { c: c as string }), s: s as number, n: n as number };
}

type ClientPage = { clients: ClientView[]; next_cursor?: string };

/** One admin API listing call: matches of the filter from `cursor`, `limit` items read. */
function listing(backend: AdminBackend, filter: URLSearchParams, limit: number, cursor?: string) {
  const params = new URLSearchParams(filter);
  params.set('limit', String(limit));
  if (cursor !== undefined) params.set('cursor', cursor);
  return call(backend, 'GET', `/clients?${params}`) as Promise<ClientPage>;
}

/**
 * Registry order (the scan's): exactly PAGE_ROWS rows a page, however many matches each admin
 * API call finds, because the page's cursor says how many of a call's matches were shown already.
 * The total is the statistics' count of active clients when nothing is filtered.
 */
async function registryOrder(
  backend: AdminBackend,
  query: ClientQuery,
  cursor: string | null,
): Promise<ClientListing> {
  const filter = adminFilter(query);
  const filtered = [...filter.keys()].length > 0;
  const position = listPosition(cursor);
  const clients: ClientView[] = [];
  // An exact client_id is one GetItem: shown first, whatever the scan finds.
  if (query.search !== undefined && cursor === null) {
    const exact = await backend.request('GET', clientPath(query.search)).catch(() => undefined);
    if (exact?.status === 200) clients.push(exact.body as ClientView);
  }
  let at: string | undefined = position.c;
  let skip = position.s;
  let resume: { c?: string; s: number } | undefined;
  for (let calls = 0; calls < FILTERED_CALLS; calls++) {
    const page = await listing(backend, filter, filtered ? FILTERED_SCAN : PAGE_ROWS, at);
    let used = skip;
    for (const client of page.clients.slice(skip)) {
      if (clients.length === PAGE_ROWS) break;
      used++;
      if (!clients.some((c) => c.client_id === client.client_id)) clients.push(client);
    }
    if (used < page.clients.length) {
      resume = { ...(at !== undefined && { c: at }), s: used };
      break;
    }
    skip = 0;
    at = page.next_cursor;
    resume = at === undefined ? undefined : { c: at, s: 0 };
    if (at === undefined || clients.length === PAGE_ROWS) break;
  }
  const next = resume && { ...resume, n: position.n + clients.length };
  const total = filtered
    ? undefined
    : ((await call(backend, 'GET', '/stats?days=1')) as StatsView).active_clients;
  return {
    clients,
    first: position.n + 1,
    ...(total !== undefined && { total }),
    ...(next !== undefined && { next: { cursor: encodeCursor(next) } }),
  };
}

/**
 * A chosen order: the matches are read first (at most SORTED_MATCHES, a bounded number of
 * admin API calls), sorted, then shown PAGE_ROWS a page; the total is theirs.
 */
async function sortedOrder(
  backend: AdminBackend,
  query: ClientQuery,
  pageParam: string | null,
): Promise<ClientListing> {
  const page = pageParam === null || pageParam === '' ? 1 : Number(pageParam);
  if (!Number.isSafeInteger(page) || page < 1 || page > SORTED_MATCHES / PAGE_ROWS) {
    throw invalidRequest('page is not a page number');
  }
  const filter = adminFilter(query);
  const matches: ClientView[] = [];
  let cursor: string | undefined;
  for (let calls = 0; calls < SORTED_CALLS && matches.length < SORTED_MATCHES; calls++) {
    const read = await listing(backend, filter, SORTED_SCAN, cursor);
    matches.push(...read.clients);
    cursor = read.next_cursor;
    if (cursor === undefined) break;
  }
  const sorted = CLIENT_SORTS[query.sort as ClientSort].order(matches).slice(0, SORTED_MATCHES);
  const from = (page - 1) * PAGE_ROWS;
  return {
    clients: sorted.slice(from, from + PAGE_ROWS),
    first: from + 1,
    total: sorted.length,
    ...(cursor !== undefined && { partial: true }),
    ...(page > 1 && { previous: { page: page - 1 } }),
    ...(from + PAGE_ROWS < sorted.length && { next: { page: page + 1 } }),
  };
}

/** The dashboard's routes (local server and `dcr-admin dashboard`; never a Lambda's). */
export function dashboardRoutes(options: DashboardOptions): Route[] {
  const { backend, clock, signInToken } = options;
  const sealer = new CookieSealer(options.cookieKey);
  const tokenHash = signInToken === undefined ? undefined : hashSecret(signInToken);
  // A session is bound to the token it was opened with: a new admin token ends every session.
  const tokenBinding = tokenHash?.slice(0, 22);
  const base = (issuer: string) => endpointUrl(issuer, PATHS.dashboard);

  const cookieAttributes = (issuer: string) => {
    const url = new URL(issuer);
    const path = `${url.pathname.replace(/\/$/, '')}${PATHS.dashboard}`;
    return `; Path=${path}; HttpOnly; SameSite=Strict${url.protocol === 'https:' ? '; Secure' : ''}`;
  };

  /**
   * The sessions open now, by id, and when each ends. The dashboard lives in one process (the
   * local server, or dcr-admin's), so the server remembers them: signing out ends a session
   * there, and a copy of its cookie stops working; a restart ends them all.
   */
  const live = new Map<string, number>();
  /** dcr-admin's printed link signs in once: a copy of it (history, a screen share) opens nothing. */
  let linkUsed = false;

  async function newSession(issuer: string): Promise<string> {
    const now = clock.now();
    for (const [sid, end] of live) if (end <= now) live.delete(sid);
    const exp = now + options.sessionLifetimeSeconds;
    const sid = randomBytes(16).toString('base64url');
    live.set(sid, exp);
    const value = await sealer.seal(COOKIE, { v: 1, sid, k: tokenBinding }, exp);
    return `${COOKIE}=${value}; Max-Age=${options.sessionLifetimeSeconds}${cookieAttributes(issuer)}`;
  }

  /** A sign-in by dcr-admin's token (its link), which opens one session only. */
  async function linkSignIn(request: HttpRequest, issuer: string) {
    if (linkUsed) {
      return refusedSignIn(
        request,
        issuer,
        'That sign-in link has already been used. Start dcr-admin dashboard again for a new one.',
      );
    }
    linkUsed = true;
    return seeOther(base(issuer), [await newSession(issuer)]);
  }

  async function session(request: HttpRequest): Promise<string | undefined> {
    const value = readCookies(request).get(COOKIE);
    if (value === undefined) return undefined;
    const payload = await sealer.open(COOKIE, value, clock.now());
    if (payload?.v !== 1 || payload.k !== tokenBinding || typeof payload.sid !== 'string') {
      return undefined;
    }
    return live.has(payload.sid) ? payload.sid : undefined;
  }

  const csrfPurpose = (sid: string) => `dashboard:${sid}`;

  function checkHost(request: HttpRequest) {
    if (options.host !== undefined && request.headers.host !== options.host()) {
      throw forbidden('This dashboard answers only at its own address.');
    }
  }

  const signInPath = (issuer: string) => endpointUrl(issuer, PATHS.dashboardSignIn);
  /** The sign-in page again, saying why; a caller that prefers JSON gets the RFC error body. */
  const refusedSignIn = (request: HttpRequest, issuer: string, problem: string) => {
    if (prefersJson(request)) throw signInRefused(problem);
    return signInPage(signInPath(issuer), problem);
  };

  /**
   * Every dashboard route: the Host check (dcr-admin), the closed page without a token, and the
   * dashboard's own error page.
   */
  const open = (
    method: 'GET' | 'POST',
    path: string,
    handle: (context: RouteContext, tokenHash: string) => Promise<HttpResponse>,
  ): Route => ({
    method,
    path,
    page: true,
    errorPage: (error, issuer) => dashboardErrorPage(error, base(issuer)),
    async handle(context) {
      checkHost(context.request);
      if (tokenHash === undefined) return disabledPage(options.closedHint);
      if (method === 'POST') {
        refuseForeignForm(context.request, context.issuer, { originRequired: true });
      }
      return handle(context, tokenHash);
    },
  });

  /** A signed-in page: signed-out browsers go to the sign-in (GET) or are refused (POST). */
  const signedIn = (method: 'GET' | 'POST', path: string, handle: PageHandler): Route =>
    open(method, path, async (context) => {
      const { request, issuer } = context;
      const sid = await session(request);
      if (sid === undefined) {
        if (method === 'GET') return seeOther(signInPath(issuer));
        throw forbidden('You are signed out of the dashboard; sign in again.');
      }
      let form = new URLSearchParams(request.query);
      if (method === 'POST') {
        form = readForm(request);
        if (!(await sealer.csrfMatches(csrfPurpose(sid), form.get('csrf')))) {
          throw forbidden(
            'This form is not one the dashboard showed you (its CSRF token is missing or wrong).',
          );
        }
      }
      const frame = { base: base(issuer), csrf: await sealer.csrfToken(csrfPurpose(sid)) };
      return handle(context, frame, form);
    });

  /** The sign-in page; with dcr-admin's link (`?token=`), the sign-in itself. */
  async function showSignIn({ request, issuer }: RouteContext, hash: string) {
    const token = new URLSearchParams(request.query).get('token');
    if (options.urlSignIn && token !== null) {
      if (!secretMatches(token, hash)) {
        return refusedSignIn(request, issuer, 'That sign-in link is not valid.');
      }
      return linkSignIn(request, issuer);
    }
    if ((await session(request)) !== undefined) return seeOther(base(issuer));
    return signInPage(signInPath(issuer));
  }

  /** The sign-in form: the admin token opens a session. */
  async function signIn({ request, issuer }: RouteContext, hash: string) {
    const presented = readForm(request).get('admin_token') ?? '';
    if (!secretMatches(presented, hash)) {
      return refusedSignIn(request, issuer, 'That is not the admin token.');
    }
    // dcr-admin's token is the link's: typed into the form, it is spent all the same.
    if (options.urlSignIn) return linkSignIn(request, issuer);
    return seeOther(base(issuer), [await newSession(issuer)]);
  }

  /** Ends the session here, so a copy of its cookie opens nothing either. */
  async function signOut({ request, issuer }: RouteContext) {
    const sid = await session(request);
    if (sid !== undefined) live.delete(sid);
    return seeOther(signInPath(issuer), [`${COOKIE}=; Max-Age=0${cookieAttributes(issuer)}`]);
  }

  const pages = registryPages(backend, () => clock.now());
  const issuers = trustedIssuerPages(backend, () => clock.now());
  return [
    open('GET', PATHS.dashboardSignIn, showSignIn),
    open('POST', PATHS.dashboardSignIn, signIn),
    signedIn('POST', PATHS.dashboardSignOut, signOut),
    signedIn('GET', PATHS.dashboard, pages.overview),
    signedIn('GET', PATHS.dashboardClients, pages.clientList),
    signedIn('GET', PATHS.dashboardClient, pages.clientDetail),
    signedIn('GET', PATHS.dashboardDelete, pages.confirmDelete),
    signedIn('POST', PATHS.dashboardDelete, pages.deleteClient),
    signedIn('POST', PATHS.dashboardRotate, pages.rotateSecret),
    signedIn('GET', PATHS.dashboardBlock, pages.confirmBlock),
    signedIn('POST', PATHS.dashboardBlock, pages.blockSoftware),
    signedIn('GET', PATHS.dashboardBlocked, pages.blockedList),
    signedIn('GET', PATHS.dashboardFederatedSubjects, pages.federatedSubjects),
    signedIn('POST', PATHS.dashboardUnblock, pages.unblockSoftware),
    signedIn('GET', PATHS.dashboardTrustedIssuers, issuers.list),
    signedIn('POST', PATHS.dashboardTrustedIssuers, issuers.put),
    signedIn('GET', PATHS.dashboardRemoveTrustedIssuer, issuers.confirmRemove),
    signedIn('POST', PATHS.dashboardRemoveTrustedIssuer, issuers.remove),
  ];
}

/**
 * A signed-in page's work: the request, the page's frame (base URL, CSRF token) and its
 * parameters (the query of a GET, the checked form of a POST).
 */
export type PageHandler = (
  context: RouteContext,
  frame: Frame,
  form: URLSearchParams,
) => Promise<HttpResponse>;

const notice = (form: URLSearchParams) => NOTICES[form.get('done') ?? ''];

/** The registry's pages, each over the admin API calls it shows or makes. */
function registryPages(backend: AdminBackend, now: () => number) {
  /** The overview: statistics, the top software_ids, the clients expiring within a day. */
  async function overview(_: RouteContext, frame: Frame) {
    const [stats, software, expiring] = await Promise.all([
      call(backend, 'GET', '/stats?days=30'),
      call(backend, 'GET', '/stats/software?limit=10'),
      call(backend, 'GET', `/expiring-clients?within=86400&limit=${EXPIRING_LIMIT}`),
    ]);
    return overviewPage(
      frame,
      stats as StatsView,
      software as TopSoftwareView,
      (expiring as { clients: ClientView[] }).clients,
      EXPIRING_LIMIT,
      now(),
    );
  }

  /** The clients: filtered, in registry order or a chosen one. */
  async function clientList(_: RouteContext, frame: Frame, params: URLSearchParams) {
    const query = clientQuery(params);
    const listing =
      query.sort === undefined
        ? await registryOrder(backend, query, params.get('cursor'))
        : await sortedOrder(backend, query, params.get('page'));
    return clientsPage(frame, query, listing, now(), notice(params));
  }

  async function clientDetail({ params }: RouteContext, frame: Frame, query: URLSearchParams) {
    const client = await call(backend, 'GET', clientPath(params.clientId as string));
    return clientPage(frame, client as ClientDetailView, now(), notice(query));
  }

  async function confirmDelete({ params }: RouteContext, frame: Frame) {
    const client = await call(backend, 'GET', clientPath(params.clientId as string));
    return confirmDeletePage(frame, client as ClientView, now());
  }

  async function deleteClient({ params }: RouteContext, frame: Frame) {
    await call(backend, 'DELETE', clientPath(params.clientId as string));
    return seeOther(`${frame.base}/clients?done=deleted`);
  }

  /** A new secret, shown once; the old one keeps working for the grace period. */
  async function rotateSecret({ params }: RouteContext, frame: Frame, form: URLSearchParams) {
    const grace = form.get('grace_period_seconds') ?? '0';
    const seconds = /^\d{1,8}$/.test(grace) ? Number(grace) : Number.NaN;
    if (!(seconds >= 0 && seconds <= MAX_GRACE)) {
      throw invalidRequest(`the grace period must be whole seconds from 0 to ${MAX_GRACE}`);
    }
    const rotated = await call(
      backend,
      'POST',
      `${clientPath(params.clientId as string)}/rotate-secret`,
      { grace_period_seconds: seconds },
    );
    return rotatedPage(frame, rotated, now());
  }

  async function confirmBlock(_: RouteContext, frame: Frame, params: URLSearchParams) {
    const softwareId = requiredSoftwareId(params);
    const clientId = params.get('client_id') || undefined;
    // A dry run counts the clients the block would leave or delete (one bounded step).
    const counted = (await call(backend, 'POST', '/bulk-delete', {
      software_id: softwareId,
      dry_run: true,
    })) as { matched: number; next_cursor?: string };
    return confirmBlockPage(frame, {
      softwareId,
      ...(clientId !== undefined && { clientId }),
      activeClients: counted.matched,
      more: counted.next_cursor !== undefined,
    });
  }

  /** Blocks a software_id, and deletes its clients in bounded steps when asked to. */
  async function blockSoftware(_: RouteContext, frame: Frame, form: URLSearchParams) {
    const softwareId = requiredSoftwareId(form);
    const deleteClients = form.get('delete_clients') === 'true';
    let cursor: string | undefined;
    let steps = 0;
    do {
      const answer = (await call(backend, 'POST', '/blocked-software-ids', {
        software_id: softwareId,
        delete_clients: deleteClients,
        ...(cursor !== undefined && { cursor }),
      })) as { clients?: { next_cursor?: string } };
      cursor = answer.clients?.next_cursor;
    } while (cursor !== undefined && ++steps < BLOCK_STEPS);
    const done = !deleteClients
      ? 'blocked'
      : cursor === undefined
        ? 'blocked-deleted'
        : 'blocked-partly';
    const clientId = form.get('client_id');
    // Without deletion, back to the client the operator came from; else to the Blocked list.
    return seeOther(
      clientId && !deleteClients
        ? `${frame.base}${clientPath(clientId)}?done=${done}`
        : `${frame.base}/blocked?done=${done}`,
    );
  }

  async function blockedList(_: RouteContext, frame: Frame, params: URLSearchParams) {
    const query = new URLSearchParams({ limit: String(PAGE_ROWS) });
    const cursor = params.get('cursor');
    if (cursor) query.set('cursor', cursor);
    const page = (await call(backend, 'GET', `/blocked-software-ids?${query}`)) as {
      blocked_software_ids: BlockedView[];
      next_cursor?: string;
    };
    const next =
      page.next_cursor === undefined
        ? undefined
        : `${frame.base}/blocked?${new URLSearchParams({ cursor: page.next_cursor })}`;
    return blockedPage(frame, page.blocked_software_ids, next, now(), notice(params));
  }

  /** Who got tokens for trusted issuers' assertions, a page at a time. */
  async function federatedSubjects(_: RouteContext, frame: Frame, params: URLSearchParams) {
    const query = new URLSearchParams({ limit: String(PAGE_ROWS) });
    const cursor = params.get('cursor');
    if (cursor) query.set('cursor', cursor);
    const page = (await call(backend, 'GET', `/federated-subjects?${query}`)) as {
      subjects: FederatedSubject[];
      next_cursor?: string;
    };
    const next =
      page.next_cursor === undefined
        ? undefined
        : `${frame.base}/federated-subjects?${new URLSearchParams({ cursor: page.next_cursor })}`;
    return federatedSubjectsPage(frame, page.subjects, next, now());
  }

  async function unblockSoftware(_: RouteContext, frame: Frame, form: URLSearchParams) {
    const softwareId = requiredSoftwareId(form);
    await call(backend, 'DELETE', `/blocked-software-ids/${encodeURIComponent(softwareId)}`);
    return seeOther(`${frame.base}/blocked?done=unblocked`);
  }

  return {
    overview,
    clientList,
    clientDetail,
    confirmDelete,
    deleteClient,
    rotateSecret,
    confirmBlock,
    blockSoftware,
    blockedList,
    federatedSubjects,
    unblockSoftware,
  } satisfies Record<string, PageHandler>;
}
