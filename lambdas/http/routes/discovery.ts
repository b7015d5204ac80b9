import { authorizationServerMetadata, type DiscoverySettings } from '../../core/discovery.js';
import { endpointUrl, PATHS } from '../../core/paths.js';
import { HOME_DESCRIPTION, type HomeView, homePage } from '../pages.js';
import { prefersJson } from '../request.js';
import { json } from '../responses.js';
import type { Route, RouteContext } from '../router.js';
import {
  type PublishedDocument,
  publishDocument,
  publishedResponse,
} from './published-document.js';

const CACHEABLE = { 'cache-control': 'public, max-age=3600' };

export interface HomeSettings {
  /** The APIs tokens can be for (RFC 8707). */
  readonly resources: ReadonlySet<string>;
  /** Whether this server has the operator's dashboard (the local server with an admin token). */
  readonly dashboard?: boolean;
}

/**
 * RFC 8414 metadata under both well-known names; and the home page (`GET /`), which says what
 * this server is and links the metadata. The metadata changes only with the configuration (a
 * new container), so it is serialised once per issuer with its ETag: a request costs a Map
 * lookup, and a client that revalidates its copy gets `304` without the body.
 */
export function discoveryRoutes(settings: DiscoverySettings & HomeSettings): Route[] {
  const documents = new Map<string, PublishedDocument>();
  const metadata = ({ request, issuer }: RouteContext) => {
    let document = documents.get(issuer);
    if (document === undefined) {
      document = publishDocument(
        authorizationServerMetadata(issuer, settings),
        CACHEABLE['cache-control'],
      );
      documents.set(issuer, document);
    }
    return publishedResponse(request, document);
  };
  return [
    { method: 'GET', path: PATHS.authorizationServerMetadata, cors: true, handle: metadata },
    { method: 'GET', path: PATHS.openidConfiguration, cors: true, handle: metadata },
    homeRoute(settings),
  ];
}

/** The home page for a browser; its JSON twin for a program that asks for JSON. */
function homeRoute(settings: DiscoverySettings & HomeSettings): Route {
  const home = ({ request, issuer }: RouteContext) => {
    const url = (path: string) => endpointUrl(issuer, path);
    const view: HomeView = {
      issuer,
      metadata: url(PATHS.authorizationServerMetadata),
      registration: url(PATHS.register),
      jwks: url(PATHS.jwks),
      ...(settings.interactive && { authorization: url(PATHS.authorize) }),
      ...(settings.allowedScopes && { scopes: [...settings.allowedScopes] }),
      resources: [...settings.resources],
      ...(settings.dashboard && { dashboard: url(PATHS.dashboard) }),
      ...(settings.serviceDocumentation && { documentation: settings.serviceDocumentation }),
    };
    // Either representation, chosen by Accept: caches must keep them apart.
    const response = prefersJson(request)
      ? json(200, homeDocument(view), CACHEABLE)
      : homePage(view);
    response.headers.vary = 'accept';
    return response;
  };
  return { method: 'GET', path: PATHS.home, cors: true, handle: home };
}

/** The home page's JSON: RFC 8414's names where it has one. */
const homeDocument = (view: HomeView) => ({
  server: 'serverless-dcr',
  description: HOME_DESCRIPTION,
  issuer: view.issuer,
  authorization_server_metadata: view.metadata,
  registration_endpoint: view.registration,
  ...(view.authorization && { authorization_endpoint: view.authorization }),
  jwks_uri: view.jwks,
  ...(view.scopes && { scopes_supported: view.scopes }),
  resources: view.resources,
  ...(view.dashboard && { dashboard: view.dashboard }),
  ...(view.documentation && { service_documentation: view.documentation }),
});
