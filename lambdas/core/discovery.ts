import { SIGNING_ALGS } from './clients/client-metadata.js';
import type { IssuerKind } from './federation/trusted-issuers.js';
import { ID_JAG_PROFILE, JWT_BEARER, TOKEN_EXCHANGE } from './grant-types.js';
import { endpointUrl, PATHS } from './paths.js';
import { DPOP_ALGORITHMS } from './tokens/dpop-proof.js';

export interface DiscoverySettings {
  /** Scopes the server offers; advertised only when configured. */
  readonly allowedScopes?: ReadonlySet<string>;
  /** Whether users can sign in (an upstream or the development login): the code flow exists. */
  readonly interactive: boolean;
  /** Whether an https URL is accepted as client_id (Client ID Metadata Documents). */
  readonly clientIdMetadataDocuments: boolean;
  /** Whether verified client certificates reach the server (RFC 8705). */
  readonly mtls: boolean;
  /** RFC 8705 §5: the origin of the host that does mutual TLS, when it is not the issuer's. */
  readonly mtlsOrigin?: string;
  /**
   * The kinds of trusted issuers whose JWTs are exchanged here (RFC 7523 jwt-bearer): workloads'
   * platform JWTs, enterprise IdPs' ID-JAGs.
   */
  readonly trustedIssuerKinds?: readonly IssuerKind[];
  /** RFC 8693 token exchange is served. */
  readonly tokenExchange?: boolean;
  /** RFC 8414 `service_documentation`: the operator's page for developers. */
  readonly serviceDocumentation?: string;
}

const CONFIDENTIAL_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];

/**
 * RFC 8414 authorization server metadata. It advertises only what this server really serves:
 * without a way for users to sign in there is no authorization endpoint, no response type and
 * no public client; with one, the authorization code flow (PKCE S256 only, RFC 9207 `iss`),
 * refresh tokens and public clients (`none`, as MCP clients register).
 */
export function authorizationServerMetadata(issuer: string, settings: DiscoverySettings) {
  const url = (path: string) => endpointUrl(issuer, path);
  const { interactive, mtls, mtlsOrigin } = settings;
  const confidential = mtls ? [...CONFIDENTIAL_METHODS, 'tls_client_auth'] : CONFIDENTIAL_METHODS;
  const tokenAuthMethods = interactive ? [...confidential, 'none'] : confidential;
  // `offline_access` whenever users sign in: some MCP clients ask for refresh tokens only when
  // it is listed (it is accepted, and dropped from tokens: the registered grants decide).
  const scopes = [
    ...new Set([...(settings.allowedScopes ?? []), ...(interactive ? ['offline_access'] : [])]),
  ];
  return {
    issuer,
    ...(interactive && { authorization_endpoint: url(PATHS.authorize) }),
    registration_endpoint: url(PATHS.register),
    token_endpoint: url(PATHS.token),
    jwks_uri: url(PATHS.jwks),
    introspection_endpoint: url(PATHS.introspect),
    revocation_endpoint: url(PATHS.revoke),
    response_types_supported: interactive ? ['code'] : [],
    ...(interactive && {
      response_modes_supported: ['query'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
    }),
    grant_types_supported: [
      ...(interactive ? ['authorization_code', 'refresh_token'] : []),
      'client_credentials',
      ...((settings.trustedIssuerKinds ?? []).length > 0 ? [JWT_BEARER] : []),
      ...(settings.tokenExchange ? [TOKEN_EXCHANGE] : []),
    ],
    ...(settings.trustedIssuerKinds?.includes('id-jag') && {
      authorization_grant_profiles_supported: [ID_JAG_PROFILE],
    }),
    token_endpoint_auth_methods_supported: tokenAuthMethods,
    token_endpoint_auth_signing_alg_values_supported: SIGNING_ALGS,
    introspection_endpoint_auth_methods_supported: confidential,
    introspection_endpoint_auth_signing_alg_values_supported: SIGNING_ALGS,
    // RFC 7009 §2.1: a public client revokes its own refresh token by naming its client_id.
    revocation_endpoint_auth_methods_supported: tokenAuthMethods,
    revocation_endpoint_auth_signing_alg_values_supported: SIGNING_ALGS,
    ...(scopes.length > 0 && { scopes_supported: scopes }),
    // RFC 9449 §5.1: DPoP proofs are accepted at the token endpoint, asymmetric algorithms only.
    dpop_signing_alg_values_supported: DPOP_ALGORITHMS,
    ...(interactive &&
      settings.clientIdMetadataDocuments && { client_id_metadata_document_supported: true }),
    ...(mtls && { tls_client_certificate_bound_access_tokens: true }),
    ...(mtls && mtlsOrigin !== undefined && { mtls_endpoint_aliases: aliases(issuer, mtlsOrigin) }),
    ...(settings.serviceDocumentation !== undefined && {
      service_documentation: settings.serviceDocumentation,
    }),
  };
}

/**
 * RFC 8705 §5: the endpoints a client calls directly with its certificate (client
 * authentication, certificate-bound tokens, registration the mtls way), on the host that does
 * mutual TLS. The same API is mapped there, so each alias keeps the issuer's path; the
 * authorization endpoint (a browser's) and the JWKS (anyone's) have none.
 */
function aliases(issuer: string, mtlsOrigin: string) {
  const url = (path: string) =>
    endpointUrl(`${mtlsOrigin}${new URL(issuer).pathname.replace(/\/$/, '')}`, path);
  return {
    token_endpoint: url(PATHS.token),
    registration_endpoint: url(PATHS.register),
    introspection_endpoint: url(PATHS.introspect),
    revocation_endpoint: url(PATHS.revoke),
  };
}
