import { endpointUrl, PATHS } from './endpoints.js';

export interface DiscoverySettings {
  /** Scopes the server offers; advertised only when configured. */
  readonly allowedScopes?: ReadonlySet<string>;
}

/**
 * RFC 8414 authorization server metadata. It advertises only what this server really serves:
 * there is no authorization endpoint yet, so no response types.
 */
export function authorizationServerMetadata(issuer: string, settings: DiscoverySettings) {
  return {
    issuer,
    registration_endpoint: endpointUrl(issuer, PATHS.register),
    response_types_supported: [],
    ...(settings.allowedScopes && { scopes_supported: [...settings.allowedScopes] }),
  };
}
