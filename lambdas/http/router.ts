import { methodNotAllowed, notFound, OAuthError } from '../core/errors.js';
import { PATHS } from '../core/paths.js';
import { LONE_SURROGATE } from '../core/text.js';
import { logger } from '../log.js';
import type { HttpRequest, HttpResponse } from './message.js';
import { errorPage } from './pages.js';
import { prefersJson } from './request.js';
import { authorizationResponse, errorResponse, json, NO_STORE } from './responses.js';

export interface RouteContext {
  readonly request: HttpRequest;
  /** The issuer this request is served under: from configuration, never from the Host header. */
  readonly issuer: string;
  readonly params: Readonly<Record<string, string>>;
}

export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** A path relative to the issuer, from PATHS; `:name` segments are parameters. */
  readonly path: string;
  /** Browser clients may call it cross-origin (no credentials mode). */
  readonly cors?: boolean;
  /**
   * A page a person's browser visits: its errors are HTML pages (or JSON when the request
   * prefers JSON), and an error carrying a trusted redirect goes back to the client.
   */
  readonly page?: boolean;
  /** A page route's own error page (default: the sign-in's). */
  readonly errorPage?: (error: OAuthError, issuer: string) => HttpResponse;
  handle(context: RouteContext): Promise<HttpResponse> | HttpResponse;
}

export type Router = (request: HttpRequest, issuer: string) => Promise<HttpResponse>;

/** RFC 8414 §3.1: with an issuer path, metadata lives at the well-known path + issuer path. */
const WELL_KNOWN = [PATHS.authorizationServerMetadata, PATHS.openidConfiguration];

interface CompiledPath {
  readonly path: string;
  readonly segments: readonly string[];
  readonly routes: Route[];
  /** Its routes' methods, and whether any may be called cross-origin: the same per request. */
  methods: string[];
  cors: boolean;
}

const splitPath = (path: string) => path.split('/').slice(1);

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

function matchSegments(pattern: readonly string[], actual: readonly string[]) {
  if (pattern.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const segment = pattern[i] as string;
    const value = actual[i] as string;
    if (segment.startsWith(':')) {
      if (value === '') return undefined;
      let decoded: string;
      try {
        decoded = decodeURIComponent(value);
      } catch {
        return undefined;
      }
      // Raw in the path (no escape decodes to one): not text, so it names nothing.
      if (LONE_SURROGATE.test(decoded)) return undefined;
      params[segment.slice(1)] = decoded;
    } else if (segment !== value) {
      return undefined;
    }
  }
  return params;
}

/** The path relative to the issuer, or undefined when the request is outside it. */
function relativePath(pathname: string, issuerPath: string): string | undefined {
  if (issuerPath === '') return pathname;
  if (pathname === issuerPath) return PATHS.home;
  for (const wellKnown of WELL_KNOWN) {
    if (pathname === `${wellKnown}${issuerPath}`) return wellKnown;
  }
  if (pathname.startsWith(`${issuerPath}/`)) return pathname.slice(issuerPath.length);
  return undefined;
}

const issuerPaths = new Map<string, string>();
function issuerPathOf(issuer: string): string {
  let path = issuerPaths.get(issuer);
  if (path === undefined) {
    path = new URL(issuer).pathname.replace(/\/$/, '');
    issuerPaths.set(issuer, path);
  }
  return path;
}

const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'www-authenticate, retry-after, etag, dpop-nonce',
};

const preflight = (methods: string[]): HttpResponse => ({
  status: 204,
  headers: {
    ...CORS_HEADERS,
    'access-control-allow-methods': [...methods, 'OPTIONS'].join(', '),
    'access-control-allow-headers': 'authorization, content-type, dpop, if-match',
    'access-control-max-age': '86400',
  },
});

/**
 * On every response: `nosniff`, so no body is ever sniffed into something a browser runs; and,
 * for an https issuer, HSTS. Chosen by the issuer, not the connection: TLS ends before the
 * router (API Gateway, a local proxy), and browsers ignore HSTS received over http anyway (RFC
 * 6797 §8.1). Two years (OWASP's HSTS cheat sheet; preload lists ask for at least one). The
 * issuer is a host of its own (the API's domain or `dcr:domainName`), so `includeSubDomains`
 * reaches only names under it. No `preload`: that commits the whole registrable domain, which
 * is the operator's call.
 */
const NOSNIFF = { 'x-content-type-options': 'nosniff' } as const;
const HTTPS_ONLY = {
  ...NOSNIFF,
  'strict-transport-security': 'max-age=63072000; includeSubDomains',
} as const;
const securityHeaders = (issuer: string) => (issuer.startsWith('https:') ? HTTPS_ONLY : NOSNIFF);

/**
 * The one router: matches a Web Request against the routes, runs the handler, and maps every
 * failure to an RFC-shaped response. Only this function catches errors, and every response it
 * gives carries the security headers.
 */
export function createRouter(routes: readonly Route[]): Router {
  const paths: CompiledPath[] = [];
  for (const route of routes) {
    let compiled = paths.find((p) => p.path === route.path);
    if (!compiled) {
      const segments = splitPath(route.path);
      compiled = { path: route.path, segments, routes: [], methods: [], cors: false };
      paths.push(compiled);
    }
    compiled.routes.push(route);
    compiled.methods.push(route.method);
    compiled.cors ||= route.cors === true;
  }
  // A path without parameters is found by its name, unless a path with parameters listed
  // before it would match it first.
  const exact = new Map<string, CompiledPath>();
  for (const [i, compiled] of paths.entries()) {
    if (compiled.segments.some((segment) => segment.startsWith(':'))) continue;
    const shadowed = paths
      .slice(0, i)
      .some((earlier) => matchSegments(earlier.segments, compiled.segments) !== undefined);
    if (!shadowed) exact.set(compiled.path, compiled);
  }
  const find = (relative: string) => {
    const found = exact.get(relative);
    if (found !== undefined) return { candidate: found, params: NO_PARAMS };
    const actual = splitPath(relative);
    for (const candidate of paths) {
      const params = matchSegments(candidate.segments, actual);
      if (params !== undefined) return { candidate, params };
    }
    return undefined;
  };

  const dispatch: Router = async (request, issuer) => {
    let cors = false;
    let isPage = false;
    let pageOfErrors: NonNullable<Route['errorPage']> = errorPage;
    try {
      const relative = relativePath(request.path, issuerPathOf(issuer));
      const found = relative === undefined ? undefined : find(relative);
      if (found === undefined) throw notFound('no such endpoint');
      const { candidate, params } = found;
      const { methods } = candidate;
      cors = candidate.cors;
      if (request.method === 'OPTIONS' && cors) return finish(preflight(methods), false, issuer);
      let route: Route | undefined;
      for (const r of candidate.routes) {
        if (r.method === request.method) {
          route = r;
          break;
        }
      }
      isPage = route?.page === true;
      pageOfErrors = route?.errorPage ?? errorPage;
      if (route === undefined) {
        throw methodNotAllowed(request.method, [...methods, ...(cors ? ['OPTIONS'] : [])]);
      }
      return finish(await route.handle({ request, issuer, params }), cors, issuer);
    } catch (error) {
      if (error instanceof OAuthError) {
        // One line per dependency failure that reaches a client (a throttle, a timeout, an
        // outage): which service and which error, never a message, a body or a credential.
        if (error.fault) {
          logger.warn('dependency unavailable', {
            ...error.fault,
            method: request.method,
            path: request.path,
          });
        }
        if (error.redirect) {
          const params = { error: error.error, error_description: error.description };
          return finish(
            authorizationResponse(error.redirect, params, issuer, { error: error.error }),
            false,
            issuer,
          );
        }
        if (isPage && !prefersJson(request))
          return finish(pageOfErrors(error, issuer), false, issuer);
        return finish(errorResponse(error), cors, issuer);
      }
      logger.error('unhandled error', { error: error as Error });
      return finish(
        {
          ...json(500, { error: 'server_error', error_description: 'internal error' }, NO_STORE),
          error: 'server_error',
        },
        cors,
        issuer,
      );
    }
  };
  return dispatch;
}

/**
 * Every answer leaves through here: the CORS headers where the path allows them, the security
 * headers always (at each return rather than in a wrapper: one async frame fewer per request).
 */
function finish(response: HttpResponse, cors: boolean, issuer: string): HttpResponse {
  if (cors) Object.assign(response.headers, CORS_HEADERS);
  Object.assign(response.headers, securityHeaders(issuer));
  return response;
}
