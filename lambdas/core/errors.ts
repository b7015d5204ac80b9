/**
 * The one error type of the server, and its vocabulary. Everything that should reach a client as
 * an RFC-shaped error (`{"error", "error_description"}`) is an OAuthError; the router maps
 * anything else to a logged 500 with a generic body.
 *
 * An OAuthError is made only by the named constructors below (a unit test holds every other file
 * to it): one per error code and situation, each fixing the status and the headers its situation
 * needs, so a call site says what went wrong and never which status that is. The data meant for
 * the logs (`fault`) and for the authorization response (`redirect`) travel beside the body,
 * never in it.
 */
export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  /** Headers the situation needs (`WWW-Authenticate`, `Retry-After`, `Allow`, `DPoP-Nonce`). */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * Set once an authorization request's redirect URI is trusted: the error then goes back to
   * the client there (RFC 6749 §4.1.2.1, with `iss`), never as a page.
   */
  readonly redirect?: AuthorizationRedirect;
  /** Which dependency failed, and how: logged once by the router, never sent. */
  readonly fault?: DependencyFault;

  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    options: OAuthErrorOptions = {},
  ) {
    super(`${error}: ${description}`);
    this.headers = options.headers ?? {};
    if (options.redirect) this.redirect = options.redirect;
    if (options.fault) this.fault = options.fault;
  }
}

/** What an error carries besides its code and description. */
export interface OAuthErrorOptions {
  readonly headers?: Readonly<Record<string, string>>;
  readonly redirect?: AuthorizationRedirect;
  readonly fault?: DependencyFault;
}

/** A dependency's failure behind a 503: the service and the error's name (never a message). */
export interface DependencyFault {
  readonly service: string;
  readonly errorName: string;
}

/** Where an authorization response goes: the verified redirect URI, and the client's state. */
export interface AuthorizationRedirect {
  readonly uri: string;
  readonly state?: string;
}

/** A constructor whose status and code are fixed: its caller says only what went wrong. */
const fixed = (status: number, code: string) => (description: string) =>
  new OAuthError(status, code, description);

// invalid_request: the request is malformed, or cannot be served as it was sent.

export const invalidRequest = fixed(400, 'invalid_request');

/** A browser request this server did not ask for: a cross-site or foreign form post. */
export const forbiddenRequest = fixed(403, 'invalid_request');

/** RFC 9110 §15.5.6: the path exists, the method does not; `Allow` lists the ones that do. */
export const methodNotAllowed = (method: string, allowed: readonly string[]) =>
  new OAuthError(405, 'invalid_request', `method ${method} is not allowed`, {
    headers: { allow: allowed.join(', ') },
  });

/** RFC 9110 §15.5.10: another request changed the resource between this one's read and write. */
export const conflict = fixed(409, 'invalid_request');

/** RFC 9110 §15.5.13: `If-Match` names a version the resource no longer has. */
export const preconditionFailed = fixed(412, 'invalid_request');

/** RFC 9110 §15.5.14: the body is larger than this server reads. */
export const payloadTooLarge = fixed(413, 'invalid_request');

/** RFC 9110 §15.5.20: the request names a host this server does not answer for. */
export const misdirectedRequest = fixed(421, 'invalid_request');

/** What the request names (an endpoint, a client, a token) does not exist here. */
export const notFound = fixed(404, 'not_found');

// invalid_client

/**
 * RFC 6749 §5.2: client authentication failed, or the client is unknown. With `basicTried` (the
 * client authenticated with HTTP Basic) the answer challenges for Basic again.
 */
export const invalidClient = (description: string, { basicTried = false } = {}) =>
  new OAuthError(401, 'invalid_client', description, {
    ...(basicTried && {
      headers: { 'www-authenticate': 'Basic realm="oauth", charset="UTF-8"' },
    }),
  });

/**
 * The client a sign-in in progress was for no longer exists. 400: a person's browser is asking,
 * not a client authenticating (RFC 6749 §5.2 ties 401 to client authentication).
 */
export const clientGone = fixed(400, 'invalid_client');

// invalid_token (RFC 6750 §3.1): 401 with a Bearer challenge.

/** A missing, unknown, expired or wrong bearer token — with no hint which. */
export const invalidToken = (description = 'the access token is missing, invalid or expired') =>
  new OAuthError(401, 'invalid_token', description, {
    headers: {
      'www-authenticate': `Bearer error="invalid_token", error_description="${description}"`,
    },
  });

/** An initial access token that cannot be used; the challenge carries no description. */
export const invalidInitialAccessToken = (description = 'the initial access token is not valid') =>
  new OAuthError(401, 'invalid_token', description, {
    headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
  });

/** The admin API's credentials are missing or wrong (the local admin token). */
export const invalidAdminToken = (description: string) =>
  new OAuthError(401, 'invalid_token', description, {
    headers: { 'www-authenticate': 'Bearer realm="admin", error="invalid_token"' },
  });

// access_denied

/** A person's sign-in was refused (the development login's unknown user). */
export const accessDenied = fixed(400, 'access_denied');

/** RFC 6750 §3.1: a credential is required and none was presented (a challenge, no code). */
export const credentialRequired = (description: string) =>
  new OAuthError(401, 'access_denied', description, {
    headers: { 'www-authenticate': 'Bearer' },
  });

/** The dashboard's sign-in was refused: a wrong admin token, a spent link. */
export const signInRefused = fixed(401, 'access_denied');

/** The request is understood and the caller known, but this is not theirs to do. */
export const forbidden = fixed(403, 'access_denied');

/**
 * A cap on active clients (an initial access token's, or per software_id) is reached.
 * 403 `access_denied`: the request is well formed and the credential valid, but the policy
 * admits no more clients until some leave (RFC 7591 §3.2.2 allows codes beyond its own).
 */
export const clientLimitReached = forbidden;

// The token and authorization endpoints' codes (RFC 6749 §5.2, RFC 8707 §2, RFC 9449 §7): 400.

export const invalidGrant = fixed(400, 'invalid_grant');

export const invalidScope = fixed(400, 'invalid_scope');

export const invalidTarget = fixed(400, 'invalid_target');

export const unauthorizedClient = fixed(400, 'unauthorized_client');

export const unsupportedGrantType = fixed(400, 'unsupported_grant_type');

const nonceHeader = (nonce: string | undefined): OAuthErrorOptions =>
  nonce ? { headers: { 'dpop-nonce': nonce } } : {};

/** A refused DPoP proof; a nonce, when there is one, is the one to use next. */
export const invalidDpopProof = (description: string, nonce?: string) =>
  new OAuthError(400, 'invalid_dpop_proof', description, nonceHeader(nonce));

/** RFC 9449 §8: the proof must carry the server's nonce, sent in `DPoP-Nonce`. */
export const useDpopNonce = (description: string, nonce?: string) =>
  new OAuthError(400, 'use_dpop_nonce', description, nonceHeader(nonce));

// Registration (RFC 7591 §3.2.2): 400.

export const invalidClientMetadata = fixed(400, 'invalid_client_metadata');

export const invalidRedirectUri = fixed(400, 'invalid_redirect_uri');

/** The software statement is malformed, badly signed, expired or incomplete. */
export const invalidSoftwareStatement = fixed(400, 'invalid_software_statement');

/** The statement's issuer is not trusted here, or its software is blocked. */
export const unapprovedSoftwareStatement = fixed(400, 'unapproved_software_statement');

// Limits and availability.

/** RFC 6585 §4: 429, with `Retry-After` (seconds until the limit's window ends). */
export const tooManyRequests = (description: string, retryAfterSeconds: number) =>
  new OAuthError(429, 'too_many_requests', description, {
    headers: { 'retry-after': String(retryAfterSeconds) },
  });

/**
 * A dependency (DynamoDB, KMS, Secrets Manager, the upstream provider) is throttling or
 * failing: the client should retry in a second. The fault, when known, is logged by the router.
 */
export const temporarilyUnavailable = (
  description: string,
  { fault }: { fault?: DependencyFault } = {},
) =>
  new OAuthError(503, 'temporarily_unavailable', description, {
    headers: { 'retry-after': '1' },
    ...(fault && { fault }),
  });

// Authorization responses (RFC 6749 §4.1.2.1, RFC 8707 §2, OpenID Connect Core §3.1.2.6).

/** The codes an authorization error may send back to the client's redirect URI. */
export type AuthorizationErrorCode =
  | 'invalid_request'
  | 'unauthorized_client'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'temporarily_unavailable'
  | 'login_required'
  | 'consent_required'
  | 'request_not_supported'
  | 'request_uri_not_supported';

/**
 * An error of an authorization request whose redirect URI is trusted: a 303 back to the client
 * with the code, its state and `iss`. The fault, when a dependency failed, is logged, not sent.
 */
export const redirectedError = (
  code: AuthorizationErrorCode,
  description: string,
  { redirect, fault }: { redirect: AuthorizationRedirect; fault?: DependencyFault },
) => new OAuthError(303, code, description, { redirect, ...(fault && { fault }) });

/**
 * An error another server answered (the admin API, behind the dashboard), passed on as this
 * server's own: its code, description and 4xx status kept; its failure (5xx) a 502.
 */
export const relayedError = (status: number, code: string, description: string) =>
  new OAuthError(status >= 500 ? 502 : status, code, description);
