import type { ClientLifecycle } from '../clients/client-lifecycle.js';
import { parseRedirectUri, redirectTarget } from '../clients/client-metadata.js';
import type { Clock } from '../clock.js';
import { type AuthorizationRedirect, OAuthError, redirectedError } from '../errors.js';
import { homeRegionOf } from '../regions.js';
import { hashSecret, newSecret, newTokenId } from '../secrets.js';
import type { GrantStore } from '../tokens/ports.js';
import {
  type AuthorizationRequest,
  type AuthorizationSettings,
  parseAuthorizationQuery,
  trustedRedirect,
  validateAuthorizationRequest,
} from './authorization-request.js';
import type { UpstreamOutcome, UpstreamPending, UserIdentity } from './ports.js';

/** One authorization request on its way through sign-in and consent (kept in a sealed cookie). */
export interface Transaction {
  /** 128 random bits: names the cookie, is the upstream `state`, binds the forms' CSRF tokens. */
  readonly id: string;
  /** Absent: a sign-in for the user's own connected-apps page, which returns there. */
  readonly request?: AuthorizationRequest;
  /** The upstream round trip's nonce and PKCE verifier, until it returns. */
  readonly pending?: UpstreamPending;
  /** Who signed in for this request: set by a login, or by the session at the start. */
  readonly user?: UserIdentity;
  readonly expiresAt: number;
}

/** A sign-in must finish within this many seconds of the authorization request. */
export const TRANSACTION_LIFETIME_SECONDS = 600;
/** Authorization codes live one minute (RFC 6749 §4.1.2 recommends at most ten). */
export const CODE_LIFETIME_SECONDS = 60;

export const TRANSACTION_ID = /^[A-Za-z0-9_-]{22}$/;

/** What the consent page shows: everything the user decides on. */
export interface ConsentView {
  /** `client_name` as the client asserted it: never verified. */
  readonly clientName?: string;
  readonly clientId: string;
  /** Where the answer goes: a host, or a private-use scheme. */
  readonly redirectTarget: string;
  readonly redirectKind: 'web' | 'loopback' | 'private-use';
  readonly scopes: readonly string[];
  /** The resources (audiences) of the tokens. */
  readonly resources: readonly string[];
  readonly user: string;
}

export interface FlowSettings extends AuthorizationSettings {
  /** `aud` when no resource is asked for; unset = the issuer. */
  readonly defaultAudience?: string;
  /** Multi-region: this server's region; its codes are redeemed here only. */
  readonly region?: string;
  /** How long an allowed client's refresh token family can live: its user entry's lifetime. */
  readonly refreshTokenLifetimeSeconds: number;
}

/** A sign-in that cannot continue in this browser: a page, never a redirect. */
export const transactionGone = () =>
  new OAuthError(
    400,
    'invalid_request',
    'This sign-in has expired or has already finished. Go back to the application and start again.',
  );

/** The authorization request a transaction carries; a sign-in for the account page has none. */
export function authorizationOf(transaction: Transaction): AuthorizationRequest {
  if (transaction.request === undefined) throw transactionGone();
  return transaction.request;
}

/** A sign-in for the user's connected-apps page (nothing to validate: no client asks). */
export const accountSignIn = (clock: Clock): Transaction => ({
  id: newTokenId(),
  expiresAt: clock.now() + TRANSACTION_LIFETIME_SECONDS,
});

export const redirectOf = (request: AuthorizationRequest): AuthorizationRedirect => ({
  uri: request.redirectUri,
  ...(request.state !== undefined && { state: request.state }),
});

/**
 * The authorization endpoint's decisions: validate the request, decide whether the user must
 * sign in, show consent, and on "allow" mint the code. The pages, cookies and the upstream
 * round trip are the HTTP layer's.
 */
export class AuthorizationFlow {
  constructor(
    private readonly lifecycle: ClientLifecycle,
    private readonly grants: GrantStore,
    private readonly settings: FlowSettings,
  ) {}

  /** `GET /authorize`: the validated request, and whether the user signs in first. */
  async start(
    query: string,
    session: UserIdentity | undefined,
  ): Promise<{ transaction: Transaction; login: boolean }> {
    const params = parseAuthorizationQuery(query);
    const { client, redirect } = await trustedRedirect(
      params,
      (id) => this.lifecycle.resolve(id),
      this.settings.redirectPolicy,
    );
    const request = validateAuthorizationRequest(params, client, redirect, this.settings);
    const login = session === undefined || request.forceLogin;
    if (request.noPrompt) {
      // Consent is never remembered, so a request that may show nothing always fails.
      throw login
        ? redirectedError('login_required', 'the user is not signed in', redirect)
        : redirectedError('consent_required', 'the user has not consented', redirect);
    }
    const transaction: Transaction = {
      id: newTokenId(),
      request,
      expiresAt: this.lifecycle.clock.now() + TRANSACTION_LIFETIME_SECONDS,
      ...(!login && { user: session }),
    };
    return { transaction, login };
  }

  /** What the consent page shows; the client must still exist. */
  async consent(transaction: Transaction, issuer: string): Promise<ConsentView> {
    const request = authorizationOf(transaction);
    const client = await this.activeClient(request.clientId);
    const target = parseRedirectUri(request.redirectUri);
    return {
      ...(client.metadata.client_name !== undefined && {
        clientName: client.metadata.client_name,
      }),
      clientId: client.clientId,
      redirectTarget: redirectTarget(target),
      redirectKind: target.kind,
      scopes: request.scope?.split(' ') ?? [],
      resources:
        request.resources.length > 0
          ? request.resources
          : [this.settings.defaultAudience ?? issuer],
      user: signedInUser(transaction).sub,
    };
  }

  /** "Allow": a single-use code bound to the client, redirect URI, PKCE challenge and user. */
  async allow(transaction: Transaction): Promise<{ code: string; clientId: string }> {
    const request = authorizationOf(transaction);
    const user = signedInUser(transaction);
    // Deleted or expired while the user read the page: no code for it.
    const client = await this.activeClient(request.clientId);
    // The form and its cookie can be posted again (a replay, a back button): one code only.
    if (!(await this.grants.consentOnce(transaction.id, transaction.expiresAt))) {
      throw transactionGone();
    }
    const code = newSecret();
    const now = this.lifecycle.clock.now();
    const grantId = newTokenId();
    // Filed under the user before the code exists, so every grant it leads to is on their
    // connected-apps page (only clients that get refresh tokens have grants that last).
    if (client.metadata.grant_types.includes('refresh_token')) {
      await this.grants.recordUserGrant(
        {
          sub: user.sub,
          grantId,
          clientId: client.clientId,
          ...(client.metadata.client_name !== undefined && {
            clientName: client.metadata.client_name,
          }),
          redirectUri: request.redirectUri,
          createdAt: now,
        },
        now + CODE_LIFETIME_SECONDS + this.settings.refreshTokenLifetimeSeconds,
      );
    }
    await this.grants.putCode({
      codeHash: hashSecret(code),
      clientId: request.clientId,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      resources: request.resources,
      ...(request.scope !== undefined && { scope: request.scope }),
      sub: user.sub,
      authTime: user.authTime,
      grantId,
      issuedAt: now,
      expiresAt: now + CODE_LIFETIME_SECONDS,
      ...homeRegionOf(this.settings.region),
      ...(request.dpopJkt !== undefined && { dpopJkt: request.dpopJkt }),
    });
    return { code, clientId: request.clientId };
  }

  private async activeClient(clientId: string) {
    const resolution = await this.lifecycle.resolve(clientId);
    if (resolution === undefined || 'problem' in resolution) {
      throw new OAuthError(
        400,
        'invalid_client',
        'this application’s registration no longer exists (it was deleted or has expired)',
      );
    }
    return resolution.client;
  }
}

/** The transaction once someone has signed in for it (the upstream's round trip is over). */
export const withUser = (transaction: Transaction, user: UserIdentity): Transaction => {
  const { pending: _, ...rest } = transaction;
  return { ...rest, user };
};

function signedInUser(transaction: Transaction): UserIdentity {
  if (transaction.user === undefined) throw transactionGone();
  return transaction.user;
}

/**
 * The client's answer when the upstream round trip did not sign anyone in: the user (or the
 * provider) said no → `access_denied`; it could not be reached → `temporarily_unavailable`.
 * `invalid` (a forged or replayed callback) never goes back to the client.
 */
export function upstreamFailure(outcome: Extract<UpstreamOutcome, { failure: string }>): {
  error: string;
  description: string;
} {
  switch (outcome.failure) {
    case 'denied':
      return { error: 'access_denied', description: 'the sign-in was cancelled or refused' };
    case 'unavailable':
      return {
        error: 'temporarily_unavailable',
        description: 'the identity provider could not be reached; try again',
      };
    case 'invalid':
      throw new OAuthError(
        400,
        'invalid_request',
        'The identity provider’s answer could not be verified. Go back to the application and start again.',
      );
  }
}
