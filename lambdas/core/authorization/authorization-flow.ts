import { type ClientLifecycle, METADATA_DOCUMENT } from '../clients/client-lifecycle.js';
import { parseRedirectUri, redirectTarget } from '../clients/client-metadata.js';
import type { ClientRecord } from '../clients/ports.js';
import type { Clock } from '../clock.js';
import {
  type AuthorizationErrorCode,
  type AuthorizationRedirect,
  clientGone,
  invalidRequest,
  redirectedError,
} from '../errors.js';
import { endpointUrl, PATHS } from '../paths.js';
import { homeRegionOf } from '../regions.js';
import { hashSecret, newSecret, newTokenId } from '../secrets.js';
import { familyExpiry, type GrantStore, indexedGrants, isLive } from '../tokens/ports.js';
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

/** The most recent grants of a user to one client whose scopes count as already allowed. */
const STEP_UP_GRANTS = 20;

/** A scope as the consent page names it: its token, and the operator's words for it. */
export interface ScopeLine {
  readonly scope: string;
  readonly description?: string;
}

/**
 * How the client came to be known here, for the user to weigh its self-asserted name: anyone
 * (open registration), someone the operator trusts (a software statement's issuer, an initial
 * access token, a trusted client certificate), or a metadata document at the client id's host.
 */
export type Provenance =
  | { readonly kind: 'open'; readonly registeredAt: number }
  | {
      readonly kind: 'vouched';
      readonly registeredAt: number;
      readonly by: 'statement' | 'initial_access_token' | 'certificate';
      /** The software statement's issuer (`by: 'statement'`). */
      readonly issuer?: string;
    }
  | { readonly kind: 'document'; readonly host: string };

/** What the consent page shows: everything the user decides on. */
export interface ConsentView {
  /** Whom the user signs in at: the operator's name (DCR_SERVICE_NAME), else the issuer's host. */
  readonly serviceName: string;
  /** The operator's logo, served by this server; absent: none configured. */
  readonly serviceLogo?: string;
  /** `client_name` as the client asserted it: never verified. */
  readonly clientName?: string;
  readonly clientId: string;
  readonly provenance: Provenance;
  /** Where the answer goes: a host, or a private-use scheme. */
  readonly redirectTarget: string;
  readonly redirectKind: 'web' | 'loopback' | 'private-use';
  /** The scopes the user is asked for now. */
  readonly scopes: readonly ScopeLine[];
  /** Scopes of the request the user already allowed this client for these resources. */
  readonly alreadyAllowed: readonly ScopeLine[];
  /** The resources (audiences) of the tokens. */
  readonly resources: readonly string[];
  readonly user: string;
  /** When the page is shown (for "registered 3 minutes ago"). */
  readonly now: number;
}

export interface FlowSettings extends AuthorizationSettings {
  /** `aud` when no resource is asked for; unset = the issuer. */
  readonly defaultAudience?: string;
  /** Multi-region: this server's region; its codes are redeemed here only. */
  readonly region?: string;
  /** A grant unused this long is dead, and its scopes are asked for again. */
  readonly refreshTokenIdleLifetimeSeconds: number;
  readonly serviceName?: string;
  /** The operator's logo (any value: the page links the path it is served at). */
  readonly serviceLogo?: unknown;
  /** The operator's words for scopes. */
  readonly scopeDescriptions?: ReadonlyMap<string, string>;
  /** How long an allowed client's refresh token family can live: its user entry's lifetime. */
  readonly refreshTokenLifetimeSeconds: number;
}

/** A sign-in that cannot continue in this browser: a page, never a redirect. */
export const transactionGone = () =>
  invalidRequest(
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
      // Consent is always asked (scopes already allowed are only listed, never skipped: RFC 6749
      // §10.2, public clients cannot be authenticated), so a request that may show nothing fails.
      throw login
        ? redirectedError('login_required', 'the user is not signed in', { redirect })
        : redirectedError('consent_required', 'the user has not consented', { redirect });
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
    const user = signedInUser(transaction);
    const target = parseRedirectUri(request.redirectUri);
    const requested = request.scope?.split(' ') ?? [];
    const granted = request.forceConsent
      ? new Set<string>()
      : await this.grantedScopes(user.sub, client.clientId, request.resources);
    const line = (scope: string): ScopeLine => {
      const description = this.settings.scopeDescriptions?.get(scope);
      return description === undefined ? { scope } : { scope, description };
    };
    return {
      serviceName: this.settings.serviceName ?? new URL(issuer).host,
      ...(this.settings.serviceLogo !== undefined && {
        serviceLogo: endpointUrl(issuer, PATHS.serviceLogo),
      }),
      ...(client.metadata.client_name !== undefined && {
        clientName: client.metadata.client_name,
      }),
      clientId: client.clientId,
      provenance: provenanceOf(client),
      redirectTarget: redirectTarget(target),
      redirectKind: target.kind,
      scopes: requested.filter((s) => !granted.has(s)).map(line),
      alreadyAllowed: requested.filter((s) => granted.has(s)).map(line),
      resources:
        request.resources.length > 0
          ? request.resources
          : [this.settings.defaultAudience ?? issuer],
      user: user.sub,
      now: this.lifecycle.clock.now(),
    };
  }

  /**
   * The scopes the user has already allowed the client for these resources: those of every
   * grant still live (not revoked, not expired) that covers each resource asked for (no
   * resource: grants made without one). Step-up asks only for the rest, as node-oidc-provider's
   * Grant does.
   */
  private async grantedScopes(sub: string, clientId: string, resources: readonly string[]) {
    const now = this.lifecycle.clock.now();
    const granted = new Set<string>();
    const query = { clientId, limit: STEP_UP_GRANTS };
    for (const { grant } of await indexedGrants(this.grants, sub, query)) {
      if (!isLive(grant) || grant.sub !== sub || grant.clientId !== clientId) continue;
      if (familyExpiry(grant, this.settings.refreshTokenIdleLifetimeSeconds) <= now) continue;
      const covers =
        resources.length === 0
          ? grant.resources.length === 0
          : resources.every((r) => grant.resources.includes(r));
      if (covers) for (const scope of grant.scope?.split(' ') ?? []) granted.add(scope);
    }
    return granted;
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
    // The user's one index of their grants, filed here (the only writer) before the code exists:
    // every grant it leads to is then found by step-up and on the connected-apps page, with the
    // client as this page showed it. Only clients that get refresh tokens have grants.
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
      throw clientGone(
        'this application’s registration no longer exists (it was deleted or has expired)',
      );
    }
    return resolution.client;
  }
}

/** How the client came to be known: what its record says of its registration. */
function provenanceOf(client: ClientRecord): Provenance {
  if (client.registrationMethod === METADATA_DOCUMENT) {
    return { kind: 'document', host: new URL(client.clientId).host };
  }
  const registeredAt = client.clientIdIssuedAt;
  if (client.statementIssuer !== undefined || client.registrationMethod === 'software_statement') {
    return {
      kind: 'vouched',
      registeredAt,
      by: 'statement',
      ...(client.statementIssuer !== undefined && { issuer: client.statementIssuer }),
    };
  }
  if (client.initialAccessTokenId !== undefined) {
    return { kind: 'vouched', registeredAt, by: 'initial_access_token' };
  }
  if (client.registrationMethod === 'mtls') {
    return { kind: 'vouched', registeredAt, by: 'certificate' };
  }
  return { kind: 'open', registeredAt };
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
  error: AuthorizationErrorCode;
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
      throw invalidRequest(
        'The identity provider’s answer could not be verified. Go back to the application and start again.',
      );
  }
}
