import { MAX_CLIENT_ID_URL_LENGTH } from '../clients/client-id-metadata-document.js';
import { METADATA_DOCUMENT } from '../clients/client-lifecycle.js';
import { matchRedirectUri } from '../clients/client-metadata.js';
import type { ClientRecord, MetadataDocumentResult } from '../clients/ports.js';
import {
  type AuthorizationErrorCode,
  type AuthorizationRedirect,
  invalidClient,
  invalidRequest,
  type OAuthError,
  redirectedError,
  unauthorizedClient,
} from '../errors.js';
import { type RedirectPolicy, redirectOutsidePolicy } from '../registration/abuse-control.js';
import { IGNORABLE_SCOPES, requestedScopes, SCOPE_SYNTAX } from '../scopes.js';
import { isS256Challenge } from './pkce.js';

/**
 * The authorization endpoint's request (RFC 6749 §4.1.1, RFC 7636, RFC 8707), validated in the
 * order that decides where an error goes: until the client and its redirect URI are known the
 * answer is a page (or JSON), never a redirect; afterwards every error goes back to the client.
 */
export interface AuthorizationRequest {
  readonly clientId: string;
  /** The redirect URI as sent, normalised: the response goes there, the code is bound to it. */
  readonly redirectUri: string;
  readonly state?: string;
  /** PKCE S256 challenge (the only method). */
  readonly codeChallenge: string;
  /** RFC 8707 resources asked for; empty = the default audience. */
  readonly resources: readonly string[];
  /** The scope granted if the user allows; absent = none. */
  readonly scope?: string;
  /** `prompt=login`: sign in again even with a session. */
  readonly forceLogin: boolean;
  /** `prompt=none`: no page may be shown. */
  readonly noPrompt: boolean;
  /** `prompt=consent`: ask for every scope, even those the user already allowed. */
  readonly forceConsent?: boolean;
  /** RFC 9449 §10: the code is bound to this DPoP key (its RFC 7638 SHA-256 thumbprint). */
  readonly dpopJkt?: string;
}

export interface AuthorizationSettings {
  /** Scopes the server offers; unset = whatever a client registered. */
  readonly allowedScopes?: ReadonlySet<string>;
  /** RFC 8707 resources that may be asked for. */
  readonly resources: ReadonlySet<string>;
  /**
   * Abuse control: where a client known only by its metadata document may be sent (the policy
   * of anonymous registrations); unset = anywhere it lists.
   */
  readonly redirectPolicy?: RedirectPolicy;
}

const MAX_QUERY = 8192;
/** A client_id may be a Client ID Metadata Document URL. */
const MAX_CLIENT_ID = MAX_CLIENT_ID_URL_LENGTH;
/** The request travels in a cookie: the state is bounded so that it fits. */
const MAX_STATE = 1024;
const MAX_RESOURCES = 10;

/** Errors before the redirect URI is trusted: a page, or JSON when the caller prefers it. */
const malformed = invalidRequest;

const STALE_CLIENT =
  'this application’s registration does not exist (it was deleted or has expired)';

/** A query parameter given once, or undefined; repeated ones are refused by `refuse`. */
function single(params: URLSearchParams, name: string, refuse: (d: string) => OAuthError) {
  const values = params.getAll(name);
  if (values.length > 1) throw refuse(`${name} must not be repeated`);
  return values[0];
}

/** Reads the query: bounded, each parameter once except `resource`. */
export function parseAuthorizationQuery(query: string): URLSearchParams {
  if (query.length > MAX_QUERY) throw malformed(`the query exceeds ${MAX_QUERY} characters`);
  return new URLSearchParams(query);
}

/**
 * Steps 1–5: the client and its redirect URI. Throws a page-or-JSON error: `invalid_request`
 * (400) for a malformed request, `invalid_client` (401) for an unknown, deleted or expired
 * client, `unauthorized_client` (400) for a redirect URI it never registered. The last two make
 * MCP clients register again.
 */
export async function trustedRedirect(
  params: URLSearchParams,
  resolve: (clientId: string) => Promise<MetadataDocumentResult | undefined>,
  redirectPolicy?: RedirectPolicy,
): Promise<{ client: ClientRecord; redirect: AuthorizationRedirect }> {
  const clientId = single(params, 'client_id', malformed);
  if (clientId === undefined || clientId === '') throw malformed('client_id is required');
  if (clientId.length > MAX_CLIENT_ID) throw malformed('client_id is too long');
  const requested = single(params, 'redirect_uri', malformed);
  const resolution = await resolve(clientId);
  if (resolution === undefined) throw invalidClient(STALE_CLIENT);
  if ('problem' in resolution) {
    throw invalidClient(
      `the application’s metadata document cannot be used: ${resolution.problem}`,
    );
  }
  const { client } = resolution;
  if (requested === undefined || requested === '') throw malformed('redirect_uri is required');
  const redirectUri = matchRedirectUri(client.metadata.redirect_uris ?? [], requested);
  if (redirectUri === undefined) {
    throw unauthorizedClient('redirect_uri is not one this application registered');
  }
  // RFC 9700 §4.11.2: anyone can publish a metadata document, so its redirect URIs are held to
  // the policy anonymous registrations meet; otherwise this server's errors would be an open
  // redirector to any host a document lists (and its codes would go there after consent).
  const outside =
    client.registrationMethod === METADATA_DOCUMENT && redirectPolicy
      ? redirectOutsidePolicy(redirectPolicy, redirectUri)
      : undefined;
  if (outside !== undefined) {
    throw unauthorizedClient(
      `redirect_uri: ${outside.uri} is not allowed for clients known only by a metadata document (${outside.reason})`,
    );
  }
  const state = params.get('state');
  return {
    client,
    // An oversized state is refused below, and not echoed.
    redirect: {
      uri: redirectUri,
      ...(state !== null && state.length <= MAX_STATE && { state }),
    },
  };
}

/**
 * Steps 6–13, with the redirect URI trusted: every error goes back to the client there.
 * Returns the request as it will be kept until the user decides.
 */
export function validateAuthorizationRequest(
  params: URLSearchParams,
  client: ClientRecord,
  redirect: AuthorizationRedirect,
  settings: AuthorizationSettings,
): AuthorizationRequest {
  const fail: Fail = (code, description) => redirectedError(code, description, { redirect });
  const invalid = (description: string) => fail('invalid_request', description);
  for (const name of new Set(params.keys())) {
    if (name !== 'resource' && params.getAll(name).length > 1) {
      throw invalid(`${name} must not be repeated`);
    }
  }
  const state = params.get('state');
  if (state !== null && state.length > MAX_STATE) {
    throw invalid(`state exceeds ${MAX_STATE} characters`);
  }

  const responseType = params.get('response_type');
  if (responseType === null) throw invalid('response_type is required');
  if (responseType !== 'code') {
    throw fail('unsupported_response_type', 'only response_type=code is supported');
  }
  if (!client.metadata.grant_types.includes('authorization_code')) {
    throw fail('unauthorized_client', 'the client is not registered for authorization_code');
  }
  const responseMode = params.get('response_mode');
  if (responseMode !== null && responseMode !== 'query') {
    throw invalid('only response_mode=query is supported');
  }
  if (params.has('request')) {
    throw fail('request_not_supported', 'request objects are not supported');
  }
  if (params.has('request_uri')) {
    throw fail('request_uri_not_supported', 'request_uri is not supported');
  }

  const method = params.get('code_challenge_method');
  const challenge = params.get('code_challenge');
  if (challenge === null) throw invalid('code_challenge is required (PKCE, S256)');
  if (method !== 'S256') {
    throw invalid('code_challenge_method must be S256 (plain and a missing method are refused)');
  }
  if (!isS256Challenge(challenge)) {
    throw invalid('code_challenge must be 43 base64url characters (S256)');
  }

  // RFC 9449 §10: a base64url SHA-256 thumbprint (43 characters).
  const dpopJkt = params.get('dpop_jkt');
  if (dpopJkt !== null && !/^[A-Za-z0-9_-]{43}$/.test(dpopJkt)) {
    throw invalid('dpop_jkt must be a JWK SHA-256 thumbprint (43 base64url characters)');
  }

  const scope = grantedScope(params.get('scope'), client, settings, fail);
  const resources = requestedResources(params.getAll('resource'), settings, fail);

  const prompts = new Set((params.get('prompt') ?? '').split(' ').filter(Boolean));
  if (prompts.has('none') && prompts.size > 1) {
    throw invalid('prompt=none cannot be combined with other values');
  }

  return {
    clientId: client.clientId,
    redirectUri: redirect.uri,
    ...(redirect.state !== undefined && { state: redirect.state }),
    codeChallenge: challenge,
    resources,
    ...(scope !== undefined && { scope }),
    forceLogin: prompts.has('login'),
    noPrompt: prompts.has('none'),
    ...(prompts.has('consent') && { forceConsent: true }),
    ...(dpopJkt !== null && { dpopJkt }),
  };
}

type Fail = (code: AuthorizationErrorCode, description: string) => OAuthError;

/**
 * requested ⊆ registered ∩ offered, minus the ignored scopes. Nothing requested: whatever the
 * client registered that is still offered. A Client ID Metadata Document without `scope`
 * registers nothing: it may ask for what the server offers.
 */
function grantedScope(
  requested: string | null,
  client: ClientRecord,
  settings: AuthorizationSettings,
  fail: Fail,
): string | undefined {
  const offered = (s: string) => settings.allowedScopes?.has(s) ?? true;
  const registered = client.metadata.scope?.split(' ');
  const mayHave =
    registered === undefined && client.registrationMethod === METADATA_DOCUMENT
      ? offered
      : (s: string) => registered?.includes(s) === true && offered(s);
  if (requested === null || requested === '') {
    const defaults = (registered ?? []).filter((s) => offered(s) && !IGNORABLE_SCOPES.has(s));
    return defaults.length > 0 ? defaults.join(' ') : undefined;
  }
  if (!SCOPE_SYNTAX.test(requested)) throw fail('invalid_scope', 'scope is malformed');
  const scopes = requestedScopes(requested);
  const refused = scopes.find((s) => !mayHave(s));
  if (refused !== undefined) {
    throw fail(
      'invalid_scope',
      `scope ${refused} is not registered for this client (or not offered by this server)`,
    );
  }
  return scopes.length > 0 ? scopes.join(' ') : undefined;
}

/** RFC 8707: each resource absolute, without fragment, and served here. */
function requestedResources(
  resources: string[],
  settings: AuthorizationSettings,
  fail: Fail,
): string[] {
  const unique = [...new Set(resources)];
  if (unique.length > MAX_RESOURCES) {
    throw fail('invalid_target', `at most ${MAX_RESOURCES} resources may be requested`);
  }
  const unknown = unique.find((r) => !settings.resources.has(r));
  if (unknown !== undefined) {
    throw fail('invalid_target', 'resource is not served by this server');
  }
  return unique;
}
