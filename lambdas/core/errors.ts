/**
 * The one error type of the server. Everything that should reach a client as an RFC-shaped
 * error (`{"error", "error_description"}`) is an OAuthError; the router maps anything else to a
 * logged 500 with a generic body.
 */
export class OAuthError extends Error {
  override readonly name = 'OAuthError';

  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    readonly headers: Readonly<Record<string, string>> = {},
    /**
     * Set once an authorization request's redirect URI is trusted: the error then goes back to
     * the client there (RFC 6749 §4.1.2.1, with `iss`), never as a page.
     */
    readonly redirect?: AuthorizationRedirect,
    /** Which dependency failed, and how: logged once by the router, never sent. */
    readonly fault?: DependencyFault,
  ) {
    super(`${error}: ${description}`);
  }
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

/** An error of an authorization request whose redirect URI is trusted. */
export const redirectedError = (
  error: string,
  description: string,
  redirect: AuthorizationRedirect,
  fault?: DependencyFault,
) => new OAuthError(303, error, description, {}, redirect, fault);

export const invalidRequest = (description: string) =>
  new OAuthError(400, 'invalid_request', description);

/** What the request names (an endpoint, a client, a token) does not exist here. */
export const notFound = (description: string) => new OAuthError(404, 'not_found', description);

export const invalidClientMetadata = (description: string) =>
  new OAuthError(400, 'invalid_client_metadata', description);

export const invalidRedirectUri = (description: string) =>
  new OAuthError(400, 'invalid_redirect_uri', description);

/** RFC 6750 §3.1: a missing, unknown, expired or wrong bearer token — with no hint which. */
export const invalidToken = (description = 'the access token is missing, invalid or expired') =>
  new OAuthError(401, 'invalid_token', description, {
    'www-authenticate': `Bearer error="invalid_token", error_description="${description}"`,
  });

/** A dependency (DynamoDB, KMS) is throttling or failing: the client should retry. */
export const temporarilyUnavailable = (
  description: string,
  retryAfterSeconds = 1,
  fault?: DependencyFault,
) =>
  new OAuthError(
    503,
    'temporarily_unavailable',
    description,
    { 'retry-after': String(retryAfterSeconds) },
    undefined,
    fault,
  );

/** RFC 7591 §3.2.2: the software statement is malformed, badly signed, expired or incomplete. */
export const invalidSoftwareStatement = (description: string) =>
  new OAuthError(400, 'invalid_software_statement', description);

/** RFC 7591 §3.2.2: the statement's issuer is not trusted here, or its software is blocked. */
export const unapprovedSoftwareStatement = (description: string) =>
  new OAuthError(400, 'unapproved_software_statement', description);

/**
 * A cap on active clients (an initial access token's, or per software_id) is reached.
 * 403 `access_denied`: the request is well formed and the credential valid, but the policy
 * admits no more clients until some leave (RFC 7591 §3.2.2 allows codes beyond its own).
 */
export const clientLimitReached = (description: string) =>
  new OAuthError(403, 'access_denied', description);
