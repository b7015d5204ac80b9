import { SIGNING_ALGS } from './client-metadata.js';
import { endpointUrl, PATHS } from './endpoints.js';

export interface DiscoverySettings {
  /** Scopes the server offers; advertised only when configured. */
  readonly allowedScopes?: ReadonlySet<string>;
}

const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];

/**
 * RFC 8414 authorization server metadata. It advertises only what this server really serves:
 * there is no authorization endpoint yet, so no response types, and client_credentials is the
 * one grant the token endpoint issues.
 */
export function authorizationServerMetadata(issuer: string, settings: DiscoverySettings) {
  const url = (path: string) => endpointUrl(issuer, path);
  return {
    issuer,
    registration_endpoint: url(PATHS.register),
    token_endpoint: url(PATHS.token),
    jwks_uri: url(PATHS.jwks),
    introspection_endpoint: url(PATHS.introspect),
    revocation_endpoint: url(PATHS.revoke),
    response_types_supported: [],
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    token_endpoint_auth_signing_alg_values_supported: SIGNING_ALGS,
    introspection_endpoint_auth_methods_supported: AUTH_METHODS,
    introspection_endpoint_auth_signing_alg_values_supported: SIGNING_ALGS,
    revocation_endpoint_auth_methods_supported: AUTH_METHODS,
    revocation_endpoint_auth_signing_alg_values_supported: SIGNING_ALGS,
    ...(settings.allowedScopes && { scopes_supported: [...settings.allowedScopes] }),
  };
}
