import { DPOP_ALGORITHMS } from '../lambdas/core/tokens/dpop-proof.js';
import type { Verifier } from './verifier.js';

/** RFC 9728 protected resource metadata. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported?: string[];
  bearer_methods_supported: string[];
  dpop_signing_alg_values_supported: string[];
  dpop_bound_access_tokens_required?: boolean;
  resource_name?: string;
  resource_documentation?: string;
}

export interface MetadataOptions {
  /** Every scope this server's operations may ask for. */
  scopes?: readonly string[];
  resourceName?: string;
  resourceDocumentation?: string;
}

/**
 * Where the metadata lives (RFC 9728 §3.1): the well-known suffix goes between the host and the
 * resource's path, so `https://h/mcp` → `https://h/.well-known/oauth-protected-resource/mcp`.
 */
export function metadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname;
  return `${url.origin}/.well-known/oauth-protected-resource${path}`;
}

/** The metadata document describing the verifier's resource. */
export function protectedResourceMetadata(
  verifier: Verifier,
  options: MetadataOptions = {},
): ProtectedResourceMetadata {
  const { dpop } = verifier.options;
  return {
    resource: verifier.resource,
    authorization_servers: [verifier.issuer],
    ...(options.scopes && { scopes_supported: [...options.scopes] }),
    bearer_methods_supported: ['header'],
    dpop_signing_alg_values_supported: [...(dpop?.algorithms ?? DPOP_ALGORITHMS)],
    ...(dpop?.required && { dpop_bound_access_tokens_required: true }),
    ...(options.resourceName && { resource_name: options.resourceName }),
    ...(options.resourceDocumentation && {
      resource_documentation: options.resourceDocumentation,
    }),
  };
}

/** The HTTP answer for the metadata URL: public, cacheable, readable from browsers. */
export function metadataResponse(verifier: Verifier, options: MetadataOptions = {}) {
  return {
    status: 200,
    headers: {
      'content-type': 'application/json',
      'cache-control': 'public, max-age=3600',
      'access-control-allow-origin': '*',
    },
    body: JSON.stringify(protectedResourceMetadata(verifier, options)),
  };
}
