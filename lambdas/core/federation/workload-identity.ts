import type { Clock } from '../clock.js';
import { invalidRequest, OAuthError, temporarilyUnavailable } from '../errors.js';
import { endpointUrl, PATHS } from '../paths.js';
import { requestedScopes, SCOPE_SYNTAX } from '../scopes.js';
import { type AccessTokenIssuer, type Confirmation, tokenTypeOf } from '../tokens/access-tokens.js';
import type { TokenStore } from '../tokens/ports.js';
import {
  ASSERTION_LEEWAY_SECONDS,
  AssertionRefused,
  type TrustedIssuers,
  type TrustRule,
} from './trusted-issuers.js';

/** RFC 7523 §2.1: a JWT as an authorization grant. */
export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/**
 * The `typ` a workload's platform JWT may carry: none, or plain `JWT` (GitHub Actions, SPIFFE).
 * Any other explicit type — an ID-JAG, an access token, a logout token — is never a workload's.
 */
const WORKLOAD_TYPES = ['', 'jwt'];

/**
 * The `sub` (and `client_id`) of a federated workload's tokens: its issuer, `#`, its platform
 * subject. Two clusters both naming `system:serviceaccount:default:agent` stay two subjects, and
 * none can pass for a registered client (ours have no `#`; a document client's URL has no
 * fragment) nor for a signed-in user.
 */
export const federatedSubject = (issuer: string, sub: string) => `${issuer}#${sub}`;

/** The issuer of a federated subject; undefined for any other client_id. */
export const federatedIssuerOf = (clientId: string): string | undefined => {
  const at = clientId.indexOf('#');
  return at > 0 && clientId.startsWith('https://') ? clientId.slice(0, at) : undefined;
};

export interface WorkloadIdentitySettings {
  readonly accessTokenLifetimeSeconds: number;
  readonly assertionMaxLifetimeSeconds: number;
  /** Scopes the server offers; unset = any. */
  readonly allowedScopes?: ReadonlySet<string>;
}

/** An issued token, for the token endpoint's response and the logs. */
export interface WorkloadToken {
  readonly subject: string;
  readonly response: {
    access_token: string;
    token_type: 'Bearer' | 'DPoP';
    expires_in: number;
    scope?: string;
  };
}

/** What the audit log records of a workload's token: never the assertion. */
export interface WorkloadTokenEvent {
  readonly type: 'token.workload_identity';
  readonly issuer: string;
  readonly rule: number;
  readonly sub: string;
  readonly aud: string | string[];
  readonly scope?: string;
  readonly jti: string;
}

const invalidGrant = (description: string) => new OAuthError(400, 'invalid_grant', description);
const tokenError = (error: string, description: string) => new OAuthError(400, error, description);

/** Client credentials a workload request must not carry: the assertion is its only credential. */
const CLIENT_PARAMETERS = ['client_id', 'client_secret', 'client_assertion'];

/**
 * Workload identity federation (RFC 7523 §2.1 with the MCP ext-auth profile): a workload's
 * platform JWT from a trusted `workload` issuer, for an access token — no registration, no
 * stored secret. The issuer's first matching rule decides the resources and scopes.
 */
export class WorkloadIdentityGrant {
  constructor(
    private readonly trusted: TrustedIssuers,
    private readonly tokenStore: TokenStore,
    private readonly issuer: AccessTokenIssuer,
    private readonly clock: Clock,
    private readonly settings: WorkloadIdentitySettings,
    private readonly audit: (event: WorkloadTokenEvent) => void,
  ) {}

  /**
   * Exchanges the request's assertion. `bind` is called once everything is checked, before
   * anything is written but the assertion's use: it spends the DPoP proof and says what the
   * token is bound to.
   */
  async exchange(
    request: { readonly authorization: string | undefined; readonly params: URLSearchParams },
    issuer: string,
    bind: () => Promise<Confirmation | undefined>,
  ): Promise<WorkloadToken> {
    const { params } = request;
    if (request.authorization !== undefined || CLIENT_PARAMETERS.some((p) => params.has(p))) {
      throw invalidRequest(
        'the jwt-bearer grant of a workload takes no client authentication: the assertion is its credential',
      );
    }
    const assertions = params.getAll('assertion');
    if (assertions.length !== 1 || assertions[0] === '') {
      throw invalidRequest('exactly one assertion is required');
    }
    const resources = [...new Set(params.getAll('resource'))];
    if (resources.length === 0) throw invalidRequest('resource is required');

    const now = this.clock.now();
    const verified = await this.trusted
      .verify(assertions[0] as string, {
        kind: 'workload',
        audiences: [endpointUrl(issuer, PATHS.token), issuer],
        types: WORKLOAD_TYPES,
        maxLifetimeSeconds: this.settings.assertionMaxLifetimeSeconds,
        now,
      })
      .catch((error: unknown) => {
        if (!(error instanceof AssertionRefused)) throw error;
        throw error.unavailable
          ? temporarilyUnavailable(error.message)
          : invalidGrant(error.message);
      });
    const { rule } = verified;
    const refused = resources.find((r) => !rule.resources.includes(r));
    if (refused !== undefined) {
      throw tokenError('invalid_target', `resource ${refused} is not granted to this workload`);
    }
    const scope = this.grantedScope(params.get('scope'), rule);

    const cnf = await bind();
    // Spent by one conditional write, until it could no longer verify anyway.
    const expiresAt = verified.expiresAt + ASSERTION_LEEWAY_SECONDS;
    if (!(await this.tokenStore.useIssuerAssertion(verified.issuer, verified.jti, expiresAt))) {
      throw invalidGrant('the assertion was already used');
    }

    const sub = federatedSubject(verified.issuer, verified.subject);
    const aud = resources.length === 1 ? (resources[0] as string) : resources;
    const lifetime = this.settings.accessTokenLifetimeSeconds;
    const { token, jti } = await this.issuer.issue({
      iss: issuer,
      sub,
      aud,
      client_id: sub,
      iat: now,
      exp: now + lifetime,
      ...(scope !== undefined && { scope }),
      ...(cnf && { cnf }),
    });
    this.audit({
      type: 'token.workload_identity',
      issuer: verified.issuer,
      rule: verified.ruleNumber,
      sub,
      aud,
      ...(scope !== undefined && { scope }),
      jti,
    });
    return {
      subject: sub,
      response: {
        access_token: token,
        token_type: tokenTypeOf(cnf),
        expires_in: lifetime,
        ...(scope !== undefined && { scope }),
      },
    };
  }

  /**
   * Requested ∩ the rule's (∩ the offered): none requested = all the rule's. Asking only for
   * scopes the rule does not give is `invalid_scope`; asking for more than it gives, the rest.
   */
  private grantedScope(requested: string | null, rule: TrustRule): string | undefined {
    const offered = (s: string) => this.settings.allowedScopes?.has(s) ?? true;
    const ruleScopes = (rule.scope?.split(' ') ?? []).filter(offered);
    if (requested === null) return ruleScopes.length > 0 ? ruleScopes.join(' ') : undefined;
    if (!SCOPE_SYNTAX.test(requested)) throw tokenError('invalid_scope', 'scope is malformed');
    const asked = requestedScopes(requested);
    const granted = asked.filter((s) => ruleScopes.includes(s));
    if (asked.length > 0 && granted.length === 0) {
      throw tokenError('invalid_scope', 'none of the requested scopes is granted to this workload');
    }
    return granted.length > 0 ? granted.join(' ') : undefined;
  }
}
