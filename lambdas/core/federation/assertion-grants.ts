import { decodeProtectedHeader } from 'jose';
import type { Clock } from '../clock.js';
import {
  invalidGrant,
  invalidRequest,
  invalidScope,
  invalidTarget,
  temporarilyUnavailable,
} from '../errors.js';
import { endpointUrl, PATHS } from '../paths.js';
import { requestedScopes, SCOPE_SYNTAX } from '../scopes.js';
import { newTokenId } from '../secrets.js';
import type { AccessTokenIssuer, Confirmation } from '../tokens/access-tokens.js';
import type { TokenStore } from '../tokens/ports.js';
import type { AssertionTokenEvent } from './federated-tokens.js';
import {
  ASSERTION_LEEWAY_SECONDS,
  type AssertionExpectations,
  AssertionRefused,
  normalisedType,
  type TrustedIssuers,
  type VerifiedAssertion,
} from './trusted-issuers.js';

/** The ID-JAG's explicit type (draft-ietf-oauth-identity-assertion-authz-grant). */
export const ID_JAG_TYPE = 'oauth-id-jag+jwt';

/**
 * The `typ` a workload's platform JWT may carry: none, or plain `JWT` (GitHub Actions, SPIFFE).
 * Any other explicit type — an ID-JAG, an access token, a logout token — is never a workload's.
 */
const WORKLOAD_TYPES = ['', 'jwt'];

/** Whether an assertion's header says it is an ID-JAG: the profile the request follows. */
export function isIdJag(assertion: string): boolean {
  try {
    return normalisedType(decodeProtectedHeader(assertion).typ) === ID_JAG_TYPE;
  } catch {
    return false;
  }
}

/**
 * The `sub` of a federated subject's tokens: its issuer, `#`, its subject there. Two clusters
 * both naming `system:serviceaccount:default:agent`, or two IdPs both naming `alice`, stay two
 * subjects, and none can pass for a registered client (ours have no `#`; a document client's
 * URL has no fragment) nor for a user signed in here.
 */
export const federatedSubject = (issuer: string, sub: string) => `${issuer}#${sub}`;

/** The issuer of a federated subject; undefined for any other client_id. */
export const federatedIssuerOf = (clientId: string): string | undefined => {
  const at = clientId.indexOf('#');
  return at > 0 && clientId.startsWith('https://') ? clientId.slice(0, at) : undefined;
};

export interface AssertionGrantSettings {
  readonly accessTokenLifetimeSeconds: number;
  readonly assertionMaxLifetimeSeconds: number;
  /** Scopes the server offers; unset = any. */
  readonly allowedScopes?: ReadonlySet<string>;
}

export interface AssertionTokenResponse {
  access_token: string;
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  scope?: string;
}

/** Client credentials a workload request must not carry: the assertion is its only credential. */
const CLIENT_PARAMETERS = ['client_id', 'client_secret', 'client_assertion'];

/** The scope tokens of a space-separated value (none for absent). */
const scopesOf = (scope: unknown) =>
  typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];

/**
 * JWTs of trusted issuers exchanged for access tokens (RFC 7523 §2.1): a workload's platform JWT
 * (workload identity federation, no client), or an enterprise IdP's ID-JAG presented by the
 * client it was issued to (Enterprise-Managed Authorization). The issuer's first matching rule
 * decides the resources and scopes; each assertion is spent once.
 */
export class AssertionGrants {
  constructor(
    private readonly trusted: TrustedIssuers,
    private readonly tokenStore: TokenStore,
    private readonly issuer: AccessTokenIssuer,
    private readonly clock: Clock,
    private readonly settings: AssertionGrantSettings,
  ) {}

  /**
   * A workload's platform JWT, with no client authentication. `bind` is called once everything
   * is checked, before anything is written but the assertion's use: it spends the DPoP proof
   * and says what the token is bound to.
   */
  async workload(
    request: { readonly authorization: string | undefined; readonly params: URLSearchParams },
    issuer: string,
    bind: () => Promise<Confirmation | undefined>,
  ): Promise<{ readonly subject: string; readonly response: AssertionTokenResponse }> {
    const { params } = request;
    if (request.authorization !== undefined || CLIENT_PARAMETERS.some((p) => params.has(p))) {
      throw invalidRequest(
        'the jwt-bearer grant of a workload takes no client authentication: the assertion is its credential',
      );
    }
    const resources = [...new Set(params.getAll('resource'))];
    if (resources.length === 0) throw invalidRequest('resource is required');
    const verified = await this.verify(params, {
      kind: 'workload',
      audiences: [endpointUrl(issuer, PATHS.token), issuer],
      types: WORKLOAD_TYPES,
    });
    const scope = this.grantedScope(params.get('scope'), scopesOf(verified.rule.scope));
    const subject = federatedSubject(verified.issuer, verified.subject);
    const response = await this.issue(verified, issuer, {
      type: 'token.workload_identity',
      clientId: subject,
      resources,
      scope,
      bind,
    });
    return { subject, response };
  }

  /**
   * An ID-JAG, presented by the client that authenticated: `client_id` must be that client,
   * `aud` this issuer; the resource is the ID-JAG's (the `resource` parameter, when given, must
   * be among them); scope = requested ∩ the ID-JAG's ∩ the rule's.
   */
  async enterprise(
    clientId: string,
    params: URLSearchParams,
    issuer: string,
    bind: () => Promise<Confirmation | undefined>,
  ): Promise<AssertionTokenResponse> {
    const verified = await this.verify(params, {
      kind: 'id-jag',
      audiences: [issuer],
      types: [ID_JAG_TYPE],
    });
    if (verified.claims.client_id !== clientId) {
      throw invalidGrant('the ID-JAG was issued to another client');
    }
    const asserted = [verified.claims.resource].flat();
    if (!asserted.every((r): r is string => typeof r === 'string')) {
      throw invalidGrant('the ID-JAG’s resource claim is malformed');
    }
    const requested = [...new Set(params.getAll('resource'))];
    const resources = requested.length > 0 ? requested : asserted;
    if (resources.length === 0) throw invalidRequest('resource is required');
    const unasserted = resources.find((r) => !asserted.includes(r));
    if (unasserted !== undefined) {
      throw invalidTarget(`resource ${unasserted} is not in the ID-JAG`);
    }
    const ruleScopes = scopesOf(verified.rule.scope);
    const allowed = scopesOf(verified.claims.scope).filter((s) => ruleScopes.includes(s));
    const scope = this.grantedScope(params.get('scope'), allowed);
    return this.issue(verified, issuer, { type: 'token.id_jag', clientId, resources, scope, bind });
  }

  /** The assertion verified against its issuer's keys and rules; refusals as OAuth errors. */
  private verify(
    params: URLSearchParams,
    expected: Pick<AssertionExpectations, 'kind' | 'audiences' | 'types'>,
  ): Promise<VerifiedAssertion> {
    const assertions = params.getAll('assertion');
    if (assertions.length !== 1 || assertions[0] === '') {
      throw invalidRequest('exactly one assertion is required');
    }
    return this.trusted
      .verify(assertions[0] as string, {
        ...expected,
        maxLifetimeSeconds: this.settings.assertionMaxLifetimeSeconds,
        now: this.clock.now(),
      })
      .catch((error: unknown) => {
        if (!(error instanceof AssertionRefused)) throw error;
        throw error.unavailable
          ? temporarilyUnavailable(error.message)
          : invalidGrant(error.message);
      });
  }

  /**
   * Checks the resources against the rule, spends the assertion (one conditional write, until it
   * could no longer verify anyway, carrying the token's audit event for the table's stream) and
   * issues the access token — never a refresh token.
   */
  private async issue(
    verified: VerifiedAssertion,
    issuer: string,
    grant: {
      readonly type: AssertionTokenEvent['type'];
      readonly clientId: string;
      readonly resources: readonly string[];
      readonly scope: string | undefined;
      readonly bind: () => Promise<Confirmation | undefined>;
    },
  ): Promise<AssertionTokenResponse> {
    const { resources, scope } = grant;
    const refused = resources.find((r) => !verified.rule.resources.includes(r));
    if (refused !== undefined) {
      throw invalidTarget(`resource ${refused} is not granted by the issuer’s rule`);
    }
    const cnf = await grant.bind();
    const sub = federatedSubject(verified.issuer, verified.subject);
    const aud = resources.length === 1 ? (resources[0] as string) : [...resources];
    const now = this.clock.now();
    const lifetime = this.settings.accessTokenLifetimeSeconds;
    // Chosen now, so that the event written with the assertion's use names the token.
    const tokenId = newTokenId();
    const event: AssertionTokenEvent = {
      type: grant.type,
      issuer: verified.issuer,
      issuer_kind: grant.type === 'token.id_jag' ? 'id-jag' : 'workload',
      rule: verified.ruleNumber,
      sub,
      client_id: grant.clientId,
      aud,
      ...(scope !== undefined && { scope }),
      jti: tokenId,
      exp: now + lifetime,
      assertion_jti: verified.jti,
      occurred_at: now,
    };
    const expiresAt = verified.expiresAt + ASSERTION_LEEWAY_SECONDS;
    if (
      !(await this.tokenStore.useIssuerAssertion(verified.issuer, verified.jti, expiresAt, event))
    ) {
      throw invalidGrant('the assertion was already used');
    }
    const { response } = await this.issuer.respond(
      { iss: issuer, sub, aud, client_id: grant.clientId, scope, cnf },
      { now, lifetimeSeconds: lifetime, tokenId },
    );
    return response;
  }

  /**
   * Requested ∩ allowed (∩ offered): none requested = all allowed. Asking only for scopes not
   * allowed is `invalid_scope`; asking for more than allowed gets the rest.
   */
  private grantedScope(requested: string | null, allowed: readonly string[]): string | undefined {
    const offered = allowed.filter((s) => this.settings.allowedScopes?.has(s) ?? true);
    if (requested === null) return offered.length > 0 ? offered.join(' ') : undefined;
    if (!SCOPE_SYNTAX.test(requested)) throw invalidScope('scope is malformed');
    const asked = requestedScopes(requested);
    const granted = asked.filter((s) => offered.includes(s));
    if (asked.length > 0 && granted.length === 0) {
      throw invalidScope('none of the requested scopes is granted');
    }
    return granted.length > 0 ? granted.join(' ') : undefined;
  }
}
