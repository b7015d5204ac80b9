import type { ClientAuthenticator, ClientCredentials } from '../clients/client-authentication.js';
import type { ClientLifecycle } from '../clients/client-lifecycle.js';
import type { AuthMethod } from '../clients/client-metadata.js';
import type { ClientCertificate, ClientRecord } from '../clients/ports.js';
import type { Clock } from '../clock.js';
import {
  invalidClient,
  invalidDpopProof,
  invalidRequest,
  invalidScope,
  invalidTarget,
  unauthorizedClient,
  unsupportedGrantType,
} from '../errors.js';
import {
  type AssertionGrants,
  federatedIssuerOf,
  isIdJag,
} from '../federation/assertion-grants.js';
import type { TrustedIssuers } from '../federation/trusted-issuers.js';
import { ACCESS_TOKEN_TYPE, JWT_BEARER, TOKEN_EXCHANGE } from '../grant-types.js';
import { SCOPE_SYNTAX } from '../scopes.js';
import {
  type AccessTokenClaims,
  type AccessTokenIssuer,
  type AccessTokenVerifier,
  type Confirmation,
  tokenTypeOf,
} from './access-tokens.js';
import type { CheckedProof } from './dpop-proof.js';
import type { TokenStore } from './ports.js';
import type { TokenEndpointProofs } from './token-endpoint-proofs.js';
import { grantIdOf, requireGrant, type UserGrants } from './user-grants.js';

export interface TokenSettings {
  readonly accessTokenLifetimeSeconds: number;
  /** Scopes the server offers; unset = whatever a client registered. */
  readonly allowedScopes?: ReadonlySet<string>;
  /** RFC 8707 resources a client may ask for; each becomes the token's `aud`. */
  readonly resources: ReadonlySet<string>;
  /** `aud` when no resource is asked for; unset = the issuer. */
  readonly defaultAudience?: string;
  /** Clients that may introspect any token (resource servers); they may also exchange tokens. */
  readonly introspectorClientIds: ReadonlySet<string>;
  /** RFC 8693 token exchange, for the introspector clients (docs/tokens.md "Token exchange"). */
  readonly tokenExchange?: boolean;
}

/** A response, and the client it was served to (for the logs; never sent). */
export interface Served<T> {
  readonly clientId: string;
  readonly response: T;
}

/** A token request: the client's credentials and parameters, and its DPoP proof if any. */
export interface TokenRequest extends ClientCredentials {
  /** The `DPoP` header (RFC 9449 §5). */
  readonly dpop?: string;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  scope?: string;
  refresh_token?: string;
  /** RFC 8693 §2.2.1: what a token exchange issued. */
  issued_token_type?: string;
}

const KNOWN_GRANTS = new Set(['client_credentials', 'authorization_code', 'refresh_token']);

/** Trusted issuers' JWTs as grants, when issuers are trusted (DCR_TRUSTED_ISSUERS). */
export interface Federation {
  readonly trusted: TrustedIssuers;
  readonly grants: AssertionGrants;
}

/**
 * What the tokens are bound to. RFC 8705 §3: a client that authenticated with its certificate,
 * or registered for bound tokens, gets tokens bound to the certificate it presented; one
 * registered for bound tokens must present one. RFC 9449 §5: otherwise a DPoP proof binds them
 * to its key, and a client registered with `dpop_bound_access_tokens` must send one.
 */
function confirmation(
  client: ClientRecord,
  method: AuthMethod,
  certificate: ClientCertificate | undefined,
  proof: CheckedProof | undefined,
): Confirmation | undefined {
  const certificateBound =
    method === 'tls_client_auth' || client.metadata.tls_client_certificate_bound_access_tokens;
  if (certificateBound) {
    if (!certificate) {
      throw invalidRequest(
        'this client’s tokens are bound to its certificate: present it (mutual TLS)',
      );
    }
    if (proof) throw invalidRequest('this client’s tokens are bound to its certificate, not DPoP');
    return { 'x5t#S256': certificate.x5tS256 };
  }
  if (proof) return { jkt: proof.jkt };
  if (client.metadata.dpop_bound_access_tokens) {
    throw invalidDpopProof('this client’s tokens are DPoP-bound: a DPoP proof is required');
  }
  return undefined;
}

/** The token, introspection (RFC 7662) and revocation (RFC 7009) endpoints' logic. */
export class TokenService {
  private readonly clock: Clock;

  constructor(
    private readonly authenticator: ClientAuthenticator,
    private readonly issuer: AccessTokenIssuer,
    private readonly verifier: AccessTokenVerifier,
    private readonly lifecycle: ClientLifecycle,
    private readonly tokenStore: TokenStore,
    private readonly settings: TokenSettings,
    private readonly userGrants: UserGrants,
    private readonly proofs: TokenEndpointProofs,
    private readonly federation?: Federation,
  ) {
    this.clock = lifecycle.clock;
  }

  /**
   * `POST /token`: client_credentials, authorization_code (with PKCE) and refresh_token; when
   * issuers are trusted, jwt-bearer (a workload's platform JWT, or a client's ID-JAG); when on,
   * token exchange.
   */
  async token(request: TokenRequest, issuer: string): Promise<Served<TokenResponse>> {
    const { params } = request;
    const grantType = params.get('grant_type');
    if (grantType === null) throw invalidRequest('grant_type is required');
    const assertions = grantType === JWT_BEARER ? this.federation?.grants : undefined;
    const exchange = grantType === TOKEN_EXCHANGE && this.settings.tokenExchange === true;
    if (!KNOWN_GRANTS.has(grantType) && assertions === undefined && !exchange) {
      throw unsupportedGrantType(`grant_type ${grantType} is not supported`);
    }
    const proof =
      request.dpop === undefined ? undefined : await this.proofs.check(request.dpop, issuer);
    // Proofs of assertion grants are spent once the assertion is verified.
    const spent = async <T>(cnf: T) => {
      if (proof) await this.proofs.spend(proof);
      return cnf;
    };
    if (assertions !== undefined && !isIdJag(params.get('assertion') ?? '')) {
      // No client: a DPoP proof alone binds the token.
      const { subject, response } = await assertions.workload(request, issuer, () =>
        spent(proof && { jkt: proof.jkt }),
      );
      return { clientId: subject, response };
    }
    const { client, method } = await this.authenticator.authenticate(request, issuer);
    const cnf = confirmation(client, method, request.certificate, proof);
    if (assertions !== undefined) {
      const response = await assertions.enterprise(client.clientId, params, issuer, () =>
        spent(cnf),
      );
      await this.markUsed(client);
      return { clientId: client.clientId, response };
    }
    if (exchange) {
      const response = await this.exchange(client, method, params, issuer, () => spent(cnf));
      await this.markUsed(client);
      return { clientId: client.clientId, response };
    }
    // Spent once the client is known: a request naming no registered client writes nothing.
    if (proof) await this.proofs.spend(proof);
    if (grantType === 'authorization_code' || grantType === 'refresh_token') {
      const binding = { ...(cnf && { cnf }), publicClient: method === 'none' };
      const response =
        grantType === 'authorization_code'
          ? await this.userGrants.exchangeCode(client, params, issuer, binding)
          : await this.userGrants.refresh(client, params, issuer, binding);
      return { clientId: client.clientId, response };
    }
    requireGrant(client, 'client_credentials');
    const scope = this.grantedScope(params.get('scope'), client.metadata.scope);
    const aud = this.audience(params.getAll('resource'), issuer);

    const { response } = await this.issuer.respond(
      { iss: issuer, sub: client.clientId, aud, client_id: client.clientId, scope, cnf },
      { now: this.clock.now(), lifetimeSeconds: this.settings.accessTokenLifetimeSeconds },
    );
    await this.markUsed(client);
    return { clientId: client.clientId, response };
  }

  /** The DPoP nonce a successful response hands out (RFC 9449 §8.2), when nonces are on. */
  currentDpopNonce(): Promise<string | undefined> {
    return this.proofs.currentNonce();
  }

  /** requested ⊆ registered ⊆ offered; the default is everything registered and still offered. */
  private grantedScope(requested: string | null, registered: string | undefined) {
    const offered = this.settings.allowedScopes;
    const registeredScopes = new Set<string>();
    for (const s of registered?.split(' ') ?? [])
      if (offered?.has(s) ?? true) registeredScopes.add(s);
    if (requested === null) {
      return registeredScopes.size > 0 ? [...registeredScopes].join(' ') : undefined;
    }
    if (!SCOPE_SYNTAX.test(requested)) throw invalidScope('scope is malformed');
    const scopes = [...new Set(requested.split(' '))];
    const refused = scopes.find((s) => !registeredScopes.has(s));
    if (refused !== undefined) {
      throw invalidScope(`scope ${refused} is not registered for this client`);
    }
    return scopes.join(' ');
  }

  /** RFC 8707: every requested resource must be configured; together they are the audience. */
  private audience(resources: string[], issuer: string): string | string[] {
    if (resources.length === 0) return this.settings.defaultAudience ?? issuer;
    const unique = [...new Set(resources)];
    const unknown = unique.find((r) => !this.settings.resources.has(r));
    if (unknown !== undefined) {
      throw invalidTarget(`resource ${unknown} is not served by this server`);
    }
    return unique.length === 1 ? (unique[0] as string) : unique;
  }

  /** `POST /introspect` (RFC 7662): a client sees its own tokens; introspectors see any. */
  async introspect(credentials: ClientCredentials, issuer: string): Promise<Served<object>> {
    const { client } = await this.authenticateConfidential(credentials, issuer);
    const token = credentials.params.get('token');
    if (token === null) throw invalidRequest('token is required');
    const inactive = { clientId: client.clientId, response: { active: false } };
    const mayInspect = (owner: string) =>
      owner === client.clientId || this.settings.introspectorClientIds.has(client.clientId);
    const refresh = await this.userGrants.introspectRefresh(token);
    if (refresh) {
      if (!mayInspect(refresh.client_id)) return inactive;
      return { clientId: client.clientId, response: { active: true, iss: issuer, ...refresh } };
    }
    const claims = await this.verifier.verify(token, issuer, this.clock.now());
    if (!claims || !mayInspect(claims.client_id)) return inactive;
    if (!(await this.isAlive(claims, client.clientId))) return inactive;
    const response = {
      active: true,
      token_type: tokenTypeOf(claims.cnf),
      client_id: claims.client_id,
      sub: claims.sub,
      iss: claims.iss,
      aud: claims.aud,
      iat: claims.iat,
      exp: claims.exp,
      jti: claims.jti,
      ...(claims.scope !== undefined && { scope: claims.scope }),
      ...(claims.auth_time !== undefined && { auth_time: claims.auth_time }),
      ...(claims.cnf !== undefined && { cnf: claims.cnf }),
      ...(claims.act !== undefined && { act: claims.act }),
    };
    return { clientId: client.clientId, response };
  }

  /**
   * Whether a verified token is still alive: a revoked token, one of a revoked grant, or one
   * whose client is deleted or expired, is dead at once. The asking client was just found
   * active: its own tokens cost no second read.
   */
  private async isAlive(claims: AccessTokenClaims, askingClientId: string): Promise<boolean> {
    const grantId = grantIdOf(claims.jti);
    const [revoked, grantRevoked, ownerActive] = await Promise.all([
      this.tokenStore.isRevoked(claims.jti),
      grantId === undefined ? false : this.userGrants.isRevoked(grantId),
      claims.client_id === askingClientId || this.isActiveOwner(claims.client_id),
    ]);
    return !revoked && !grantRevoked && ownerActive;
  }

  /**
   * RFC 8693 token exchange: a resource server (an introspector client) holding a user's access
   * token gets one for another resource, acting for the same subject — never the user's token
   * passed through. `sub` stays the subject's, `act` names the requesting client (the subject's
   * own `act` nested inside), `exp` never later than the subject's, scope within the subject's.
   */
  private async exchange(
    client: ClientRecord,
    method: AuthMethod,
    params: URLSearchParams,
    issuer: string,
    bind: () => Promise<Confirmation | undefined>,
  ): Promise<TokenResponse> {
    if (method === 'none') {
      throw invalidClient('token exchange requires client authentication');
    }
    if (!this.settings.introspectorClientIds.has(client.clientId)) {
      throw unauthorizedClient('this client may not exchange tokens');
    }
    const subjectToken = params.get('subject_token');
    if (subjectToken === null) throw invalidRequest('subject_token is required');
    if (params.get('subject_token_type') !== ACCESS_TOKEN_TYPE) {
      throw invalidRequest(`subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
    }
    const requestedType = params.get('requested_token_type');
    if (requestedType !== null && requestedType !== ACCESS_TOKEN_TYPE) {
      throw invalidRequest(`requested_token_type must be ${ACCESS_TOKEN_TYPE}`);
    }
    if (params.has('actor_token')) {
      throw invalidRequest('actor_token is not supported: the authenticated client is the actor');
    }
    const now = this.clock.now();
    const subject = await this.verifier.verify(subjectToken, issuer, now);
    // RFC 8693 §2.2.2: an invalid, expired or revoked subject token is invalid_request.
    if (!subject || !(await this.isAlive(subject, client.clientId))) {
      throw invalidRequest('subject_token is invalid, expired or revoked');
    }
    const resources = params.getAll('resource');
    if (resources.length === 0) throw invalidRequest('resource is required');
    const aud = this.audience(resources, issuer);
    const scope = this.narrowedScope(params.get('scope'), subject.scope);
    const cnf = await bind();
    const act = { sub: client.clientId, ...(subject.act !== undefined && { act: subject.act }) };
    const { response, jti } = await this.issuer.respond(
      { iss: issuer, sub: subject.sub, aud, client_id: client.clientId, scope, act, cnf },
      {
        now,
        lifetimeSeconds: this.settings.accessTokenLifetimeSeconds,
        notAfter: subject.exp,
        // A user grant's tokens stay its own: revoking the grant ends the exchanged token too.
        grantId: grantIdOf(subject.jti),
      },
    );
    // Its audit record (the actor chain, on the table's stream) is written before the token is
    // handed out: no exchanged token goes unrecorded.
    await this.tokenStore.recordExchange({
      type: 'token.exchanged',
      sub: subject.sub,
      client_id: client.clientId,
      aud,
      ...(scope !== undefined && { scope }),
      act,
      jti,
      exp: now + response.expires_in,
      subject_jti: subject.jti,
      subject_client_id: subject.client_id,
      occurred_at: now,
    });
    return { ...response, issued_token_type: ACCESS_TOKEN_TYPE };
  }

  /** RFC 8693 §2.1: the requested scope within the subject token's (none requested: all of it). */
  private narrowedScope(requested: string | null, held: string | undefined) {
    if (requested === null) return held;
    if (!SCOPE_SYNTAX.test(requested)) throw invalidScope('scope is malformed');
    const heldScopes = new Set(held?.split(' ') ?? []);
    const wider = requested.split(' ').find((s) => !heldScopes.has(s));
    if (wider !== undefined) {
      throw invalidScope(`scope ${wider} is not in the subject token`);
    }
    return [...new Set(requested.split(' '))].join(' ');
  }

  /**
   * `POST /revoke` (RFC 7009): unknown, invalid or foreign tokens are ignored silently. A public
   * client authenticates by naming its client_id (§2.1); a refresh token ends its whole family.
   */
  async revoke(credentials: ClientCredentials, issuer: string): Promise<Served<undefined>> {
    const { client } = await this.authenticator.authenticate(credentials, issuer);
    await this.markUsed(client);
    const token = credentials.params.get('token');
    if (token === null) throw invalidRequest('token is required');
    if (await this.userGrants.revokeRefresh(token, client)) {
      return { clientId: client.clientId, response: undefined };
    }
    const claims = await this.verifier.verify(token, issuer, this.clock.now());
    if (claims && claims.client_id === client.clientId) {
      await this.tokenStore.revoke(claims.jti, claims.exp);
    }
    return { clientId: client.clientId, response: undefined };
  }

  /**
   * Whether a token's owner is still there: a registered (or document) client that is active,
   * or a federated workload whose issuer is still trusted (removing it ends its tokens).
   */
  private async isActiveOwner(clientId: string): Promise<boolean> {
    const federatedBy = federatedIssuerOf(clientId);
    if (federatedBy !== undefined) {
      return (await this.federation?.trusted.trusts(federatedBy, 'workload')) ?? false;
    }
    const owner = await this.lifecycle.resolve(clientId);
    return !!owner && 'client' in owner;
  }

  /**
   * Introspection needs a client that proves who it is. Doing so is a use: a resource server
   * that only introspects must not expire as idle.
   */
  private async authenticateConfidential(credentials: ClientCredentials, issuer: string) {
    const authenticated = await this.authenticator.authenticate(credentials, issuer);
    if (authenticated.method === 'none') {
      throw invalidClient('this endpoint requires client authentication');
    }
    await this.markUsed(authenticated.client);
    return authenticated;
  }

  /** Best effort: the request is served either way, and the next use writes again. */
  private markUsed(client: ClientRecord): Promise<void> {
    return this.lifecycle.markUsed(client).catch(() => undefined);
  }
}
