import * as client from 'openid-client';
import type { UpstreamSettings } from '../../config.js';
import type {
  UpstreamLogin,
  UpstreamOutcome,
  UpstreamPending,
  UserIdentity,
} from '../../core/authorization/ports.js';
import type { Clock } from '../../core/clock.js';
import { type DependencyFault, OAuthError, temporarilyUnavailable } from '../../core/errors.js';
import { logger } from '../../log.js';

export interface UpstreamOidcOptions {
  /** The upstream OpenID Provider's issuer (https; http only on loopback, as config enforces). */
  readonly issuer: string;
  readonly clientId: string;
  /**
   * The client secret (`client_secret_basic`), or how to read it (Secrets Manager); absent =
   * a public client that proves possession with PKCE alone (`none`), as a Cognito app client
   * without a secret.
   */
  readonly clientSecret?: string | (() => Promise<string>);
  readonly scopes: readonly string[];
  readonly clock: Clock;
  /** Seconds each call to the upstream may take. Default 5. */
  readonly timeoutSeconds?: number;
}

/** Authorization response errors that mean "the user (or the provider's policy) said no". */
const DENIALS = new Set([
  'access_denied',
  'login_required',
  'consent_required',
  'interaction_required',
  'account_selection_required',
]);

/** The `sub` we accept as an identity as-is: 1–255 printable ASCII characters. */
const USABLE_SUBJECT = /^[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?$/;

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * Sign-in at an upstream OpenID Provider with openid-client: authorization code flow with PKCE
 * S256, a nonce, and the state the caller chose; RFC 9207 `iss` checked when the provider
 * advertises it. The provider's metadata is discovered on first use (never at cold start),
 * kept for the container's life, and forgotten when discovery fails so the next request
 * retries. The identity is the ID token's `sub`, used verbatim: one user per upstream subject,
 * so changing the upstream (or its subject type) changes every user's `sub`.
 *
 * Nothing this adapter logs carries a code, a token, a nonce, a verifier or a secret.
 */
export class UpstreamOidcLogin implements UpstreamLogin {
  private configuration?: Promise<client.Configuration>;

  constructor(private readonly options: UpstreamOidcOptions) {}

  async begin(input: {
    readonly state: string;
    readonly redirectUri: string;
    readonly forceLogin: boolean;
  }): Promise<{ readonly location: string; readonly pending: UpstreamPending }> {
    const config = await this.discovered().catch((error: unknown) => {
      throw unavailable('discovery', error);
    });
    const pending: UpstreamPending = {
      nonce: client.randomNonce(),
      codeVerifier: client.randomPKCECodeVerifier(),
    };
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: input.redirectUri,
      response_type: 'code',
      scope: this.options.scopes.join(' '),
      state: input.state,
      nonce: pending.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
      ...(input.forceLogin && { prompt: 'login' }),
    });
    return { location: url.href, pending };
  }

  async finish(
    callbackUrl: URL,
    expected: UpstreamPending & { readonly state: string; readonly redirectUri: string },
  ): Promise<UpstreamOutcome> {
    let config: client.Configuration;
    try {
      config = await this.discovered();
    } catch (error) {
      logFailure('discovery', error);
      return { failure: 'unavailable', detail: 'the identity provider cannot be reached' };
    }
    // The redirect_uri the provider compares is ours as configured, never what the request's
    // Host said: only the callback's query is taken from the request.
    const current = new URL(expected.redirectUri);
    current.search = callbackUrl.search;
    let claims: client.IDToken | undefined;
    try {
      const tokens = await client.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: expected.codeVerifier,
        expectedState: expected.state,
        expectedNonce: expected.nonce,
        idTokenExpected: true,
      });
      claims = tokens.claims();
    } catch (error) {
      return classify(error);
    }
    return identityOf(claims, this.options.clock);
  }

  /** The provider's configuration: discovered once, retried after a failure. */
  private discovered(): Promise<client.Configuration> {
    this.configuration ??= this.discover().catch((error: unknown) => {
      this.configuration = undefined;
      throw error;
    });
    return this.configuration;
  }

  private async discover(): Promise<client.Configuration> {
    const { issuer, clientId, clientSecret } = this.options;
    const server = new URL(issuer);
    const secret = typeof clientSecret === 'function' ? await clientSecret() : clientSecret;
    // config only lets http through for loopback hosts (development and tests).
    const insecure = server.protocol === 'http:' && LOOPBACK.has(server.hostname);
    return client.discovery(
      server,
      clientId,
      undefined,
      secret !== undefined ? client.ClientSecretBasic(secret) : client.None(),
      {
        timeout: this.options.timeoutSeconds ?? 5,
        ...(insecure && { execute: [client.allowInsecureRequests] }),
      },
    );
  }
}

/**
 * The upstream login a configuration describes: the client secret as configured (local), or as
 * `readSecret` fetches it (AWS: Secrets Manager by `clientSecretArn`); neither = public client.
 */
export function upstreamLogin(
  settings: UpstreamSettings,
  clock: Clock,
  readSecret?: () => Promise<string>,
): UpstreamOidcLogin {
  const clientSecret = settings.clientSecret ?? readSecret;
  return new UpstreamOidcLogin({
    issuer: settings.issuer,
    clientId: settings.clientId,
    ...(clientSecret !== undefined && { clientSecret }),
    scopes: settings.scopes,
    clock,
  });
}

function identityOf(claims: client.IDToken | undefined, clock: Clock): UpstreamOutcome {
  const sub = claims?.sub;
  if (typeof sub !== 'string' || !USABLE_SUBJECT.test(sub)) {
    logger.warn('upstream login failed', { reason: 'unusable subject' });
    return { failure: 'invalid', detail: 'the identity provider returned an unusable subject' };
  }
  const authTime =
    typeof claims?.auth_time === 'number' && Number.isInteger(claims.auth_time)
      ? claims.auth_time
      : clock.now();
  const identity: UserIdentity = { sub, authTime };
  return { identity };
}

/** What a failed round trip means for the user: denied, try again, or refused outright. */
function classify(error: unknown): UpstreamOutcome {
  if (error instanceof client.AuthorizationResponseError) {
    // The provider answered the authorization request with an error (state already checked).
    logger.info('upstream login failed', { reason: 'authorization error', error: error.error });
    if (DENIALS.has(error.error)) {
      return { failure: 'denied', detail: 'the sign-in was cancelled or refused' };
    }
    return { failure: 'unavailable', detail: 'the identity provider could not sign you in' };
  }
  if (isUnavailable(error)) {
    logFailure('token request', error);
    return { failure: 'unavailable', detail: 'the identity provider cannot be reached' };
  }
  if (rejectsOurClient(error)) {
    // Our own credentials at the provider are wrong: an operator must act.
    logger.error('upstream login failed', { reason: 'client rejected' });
    return { failure: 'unavailable', detail: 'sign-in is misconfigured' };
  }
  // Wrong state, nonce, issuer or signature, a replayed or foreign code: never trusted.
  logger.warn('upstream login failed', {
    reason: 'invalid response',
    errorName: (error as Error)?.name,
    code: (error as { code?: string })?.code,
    ...(error instanceof client.ResponseBodyError && { error: error.error }),
  });
  return { failure: 'invalid', detail: 'the sign-in response could not be verified' };
}

/** The provider refused our client's own credentials (wrong secret or client id). */
function rejectsOurClient(error: unknown): boolean {
  const ourFault = (code: unknown) => code === 'invalid_client' || code === 'unauthorized_client';
  if (error instanceof client.ResponseBodyError) return ourFault(error.error);
  if (error instanceof client.WWWAuthenticateChallengeError) {
    return error.cause.some((challenge) => ourFault(challenge.parameters.error));
  }
  return false;
}

/** Network failures, timeouts, and 5xx (or non-JSON error pages) from the provider. */
function isUnavailable(error: unknown): boolean {
  if (error instanceof TypeError) return true; // fetch failed: refused, reset, DNS
  if (error instanceof client.ResponseBodyError) return error.status >= 500;
  if (error instanceof client.ClientError) {
    if (error.code === 'OAUTH_TIMEOUT' || error.code === 'OAUTH_ABORT') return true;
    const status = (error.cause as { status?: unknown } | undefined)?.status;
    if (typeof status === 'number') return status >= 500 || status === 429;
  }
  return false;
}

/** The provider's failure at a step: the network error's code, or the error's name. */
function upstreamFault(step: string, error: unknown): DependencyFault {
  const { name, code, cause } = (error ?? {}) as Error & {
    code?: string;
    cause?: { code?: string };
  };
  return { service: `the identity provider (${step})`, errorName: code ?? cause?.code ?? name };
}

/**
 * One line for a failure that becomes an outcome rather than an error (no error reaches the
 * router): a dependency's 503 names its own fault; one without a fault was logged where it
 * arose (an unusable secret).
 */
function logFailure(step: string, error: unknown) {
  const fault = error instanceof OAuthError ? error.fault : upstreamFault(step, error);
  if (fault) logger.warn('dependency unavailable', { ...fault });
}

/** The 503 of a failed step, naming its fault for the router's one log line. */
function unavailable(step: string, error: unknown) {
  // Already classified: the client secret's read from Secrets Manager failed.
  if (error instanceof OAuthError) return error;
  return temporarilyUnavailable('the identity provider cannot be reached; try again shortly', {
    fault: upstreamFault(step, error),
  });
}
