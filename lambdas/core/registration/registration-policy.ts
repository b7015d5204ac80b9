import type { ClientMetadata } from '../clients/client-metadata.js';
import {
  credentialRequired,
  invalidClientMetadata,
  invalidInitialAccessToken,
  unapprovedSoftwareStatement,
} from '../errors.js';

/** The ways a client may register (`DCR_REGISTRATION_ACCESS`). */
export const REGISTRATION_WAYS = [
  'open',
  'initial_access_token',
  'software_statement',
  'mtls',
] as const;
export type RegistrationWay = (typeof REGISTRATION_WAYS)[number];

export const isRegistrationWay = (value: unknown): value is RegistrationWay =>
  (REGISTRATION_WAYS as readonly unknown[]).includes(value);

/** What a way's clients may be: every member optional, absent = no narrowing of the server's settings. */
export interface TrustTier {
  /** Cap on the client's lifetime from registration (beside DCR_CLIENT_MAX_LIFETIME_SECONDS). */
  readonly maxClientLifetimeSeconds?: number;
  readonly grantTypes?: ReadonlySet<string>;
  readonly scopes?: ReadonlySet<string>;
  /** Whether public clients (`token_endpoint_auth_method: none`) may register this way. */
  readonly publicClients: boolean;
}

export interface RegistrationPolicySettings {
  readonly registrationAccess: ReadonlySet<RegistrationWay>;
  readonly registrationTiers: Readonly<Record<RegistrationWay, TrustTier>>;
}

/** What a registration request presents (reported by the HTTP layer, judged here). */
export interface Presented {
  /** The `Authorization: Bearer` token, if any. */
  readonly bearer?: string;
  /** Whether the body has a `software_statement` member. */
  readonly softwareStatement?: boolean;
  /** A client certificate the TLS layer verified (no adapter reports one yet). */
  readonly clientCertificate?: boolean;
}

/**
 * A request is classified by the strongest thing it presents: a bearer token is an initial
 * access token, a statement a software statement, a verified certificate mTLS, nothing open.
 * A presented credential that fails is refused by its own check, never downgraded to `open`.
 */
export function classify(presented: Presented): RegistrationWay {
  if (presented.bearer !== undefined) return 'initial_access_token';
  if (presented.softwareStatement) return 'software_statement';
  if (presented.clientCertificate) return 'mtls';
  return 'open';
}

/** The 401 of an anonymous registration on a server without `open` (RFC 6750 §3.1: no code). */
export const registrationRequiresCredential = () =>
  credentialRequired(
    'this server requires an initial access token or another credential to register',
  );

/** Refuses a way the operator did not accept, in the way's own terms. */
export function requireAccepted(way: RegistrationWay, settings: RegistrationPolicySettings): void {
  if (settings.registrationAccess.has(way)) return;
  switch (way) {
    case 'open':
    case 'mtls':
      throw registrationRequiresCredential();
    case 'initial_access_token':
      throw invalidInitialAccessToken();
    case 'software_statement':
      throw unapprovedSoftwareStatement('this server does not accept software statements');
  }
}

/** Narrowing beside the tier: an initial access token's own constraints. */
export interface ExtraConstraints {
  readonly scopes?: ReadonlySet<string>;
  readonly maxClientLifetimeSeconds?: number;
  /** What the refusal names as the source of a scope limit. */
  readonly scopeSource?: string;
}

/**
 * Applies a tier (and the token's constraints) to validated metadata: grant types and scopes
 * must lie within it, public clients only if it admits them. Returns the lifetime cap, if any.
 * Throws invalid_client_metadata.
 */
export function applyTier(
  metadata: ClientMetadata,
  tier: TrustTier,
  way: RegistrationWay,
  extra: ExtraConstraints = {},
): { readonly maxLifetimeSeconds?: number } {
  const grant = tier.grantTypes && metadata.grant_types.find((g) => !tier.grantTypes?.has(g));
  if (grant) {
    throw invalidClientMetadata(`grant_types: ${grant} is not allowed for ${way} registration`);
  }
  if (!tier.publicClients && metadata.token_endpoint_auth_method === 'none') {
    throw invalidClientMetadata(
      `token_endpoint_auth_method: public clients are not allowed for ${way} registration`,
    );
  }
  // Plain checks, no arrays or messages built unless one is refused: this runs on every
  // registration.
  if (metadata.scope !== undefined) {
    const scopes = metadata.scope.split(' ');
    const outsideTier = tier.scopes && scopes.find((s) => !tier.scopes?.has(s));
    if (outsideTier) {
      throw invalidClientMetadata(`scope: ${outsideTier} is not allowed for ${way} registration`);
    }
    const outside = extra.scopes && scopes.find((s) => !extra.scopes?.has(s));
    if (outside) {
      throw invalidClientMetadata(
        `scope: ${outside} is not allowed for ${extra.scopeSource ?? 'this registration'}`,
      );
    }
  }
  const tierCap = tier.maxClientLifetimeSeconds;
  const extraCap = extra.maxClientLifetimeSeconds;
  const cap =
    tierCap === undefined || extraCap === undefined
      ? (tierCap ?? extraCap)
      : Math.min(tierCap, extraCap);
  return cap === undefined ? {} : { maxLifetimeSeconds: cap };
}

/**
 * A Client ID Metadata Document client is an anonymous client (anyone can publish a document),
 * so the `open` way's policy applies to it wherever it is resolved (/authorize, /token): none
 * when `open` is not accepted or its tier admits no public clients (document clients are
 * public); its grant types and scopes narrowed to the tier's. A document serves many servers,
 * so what it lists beyond the tier is dropped rather than refused, unless nothing usable is
 * left. Returns the narrowed metadata, or why the document cannot be used.
 */
export function documentClientUnderPolicy(
  metadata: ClientMetadata,
  settings: RegistrationPolicySettings,
): { readonly metadata: ClientMetadata } | { readonly problem: string } {
  if (!settings.registrationAccess.has('open')) {
    return { problem: 'this server accepts no anonymous clients, which document clients are' };
  }
  const tier = settings.registrationTiers.open;
  if (!tier.publicClients) {
    return {
      problem: 'this server accepts no anonymous public clients, which document clients are',
    };
  }
  const grantTypes = metadata.grant_types.filter((g) => tier.grantTypes?.has(g) ?? true);
  if (!grantTypes.includes('authorization_code')) {
    return { problem: 'this server does not allow anonymous clients the authorization_code grant' };
  }
  const allowed = tier.scopes;
  if (allowed === undefined) return { metadata: { ...metadata, grant_types: grantTypes } };
  const scopes = metadata.scope?.split(' ').filter((s) => allowed.has(s)) ?? [...allowed];
  if (scopes.length === 0) {
    return { problem: 'its scope lists none of the scopes this server allows anonymous clients' };
  }
  return { metadata: { ...metadata, grant_types: grantTypes, scope: scopes.join(' ') } };
}

/** Public clients allowed, nothing narrowed: the server-wide settings alone bound the client. */
const UNNARROWED: TrustTier = { publicClients: true };

/**
 * Defaults (docs/registration.md "Registration policy" gives the rationale): every way but mTLS accepted, and
 * no tier narrower than the server-wide settings, so an anonymous MCP client (public,
 * authorization_code + refresh_token, loopback or https redirects) and an anonymous agent
 * (client_credentials) register as before this policy existed. An operator narrows `open`.
 */
export const DEFAULT_REGISTRATION_ACCESS: ReadonlySet<RegistrationWay> = new Set([
  'open',
  'initial_access_token',
  'software_statement',
]);

export const DEFAULT_TIERS: Readonly<Record<RegistrationWay, TrustTier>> = {
  open: UNNARROWED,
  initial_access_token: UNNARROWED,
  software_statement: UNNARROWED,
  mtls: UNNARROWED,
};
