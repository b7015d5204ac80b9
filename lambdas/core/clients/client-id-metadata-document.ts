import { OAuthError } from '../errors.js';
import { METADATA_DOCUMENT } from './client-lifecycle.js';
import type { GrantType } from './client-metadata.js';
import { validateClientMetadata } from './metadata-validation.js';
import type { MetadataDocumentResult } from './ports.js';

/**
 * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document; MCP 2025-11-25):
 * a client_id that is an https URL names a JSON document describing the client. These are the
 * rules on the URL and on the document; fetching and caching are the adapter's. Problems are
 * short phrases about the document ("it …", "its …") that the authorization page shows.
 */

/** Longest client_id URL accepted (like the longest redirect URI). */
export const MAX_CLIENT_ID_URL_LENGTH = 2000;

/** Grants a metadata document client may use: it is public and acts for a user. */
const DOCUMENT_GRANTS: ReadonlySet<GrantType> = new Set(['authorization_code', 'refresh_token']);

const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

/**
 * Why this URL cannot be a Client ID Metadata Document URL, or undefined when it can: https, a
 * host, a path other than `/`, no fragment, no user information, no `.`/`..` segments (raw or
 * percent-encoded: URL parsers would resolve them away), no whitespace, controls or backslash.
 * The raw string is examined, not a parser's normalisation of it.
 */
export function clientIdUrlProblem(url: string): string | undefined {
  if (url.length > MAX_CLIENT_ID_URL_LENGTH) {
    return `its URL is longer than ${MAX_CLIENT_ID_URL_LENGTH} characters`;
  }
  if (/[\s\p{Cc}\\]/u.test(url)) {
    return 'its URL contains whitespace, control characters or a backslash';
  }
  if (!url.startsWith('https://')) return 'its URL is not an https URL';
  if (url.includes('#')) return 'its URL has a fragment';
  const parsed = URL.parse(url);
  if (parsed === null || parsed.hostname === '') return 'its URL is not a valid https URL';
  const rest = url.slice('https://'.length);
  const authorityEnd = rest.search(/[/?]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  if (authority === '') return 'its URL has no host';
  if (authority.includes('@') || parsed.username !== '' || parsed.password !== '') {
    return 'its URL contains user information';
  }
  const path = authorityEnd === -1 ? '' : (rest.slice(authorityEnd).split('?')[0] ?? '');
  if (path === '' || path === '/') return 'its URL has no path (the document must be at a path)';
  if (path.split('/').some((segment) => DOT_SEGMENT.test(segment))) {
    return 'its URL contains a "." or ".." path segment';
  }
  return undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The client a fetched document describes, or why it cannot be used: a JSON object whose
 * client_id is exactly the URL (simple string comparison), without secrets, public (`none`) or
 * signing with its published keys (`private_key_jwt`), with its redirect URIs, names and keys
 * validated as for registration. Grants this server does not
 * offer such clients are dropped. The record is never stored.
 */
export function clientFromMetadataDocument(
  url: string,
  text: string,
  fetchedAt: number,
): MetadataDocumentResult {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return { problem: 'it is not valid JSON' };
  }
  if (!isObject(document)) return { problem: 'it is not a JSON object' };
  if (document.client_id !== url) {
    return { problem: 'its client_id is not the URL it was fetched from' };
  }
  if ('client_secret' in document || 'client_secret_expires_at' in document) {
    return { problem: 'it contains a client secret, which a public client cannot have' };
  }
  // Never a secret: public (`none`), or signing with keys the document publishes (RFC 7523
  // `private_key_jwt`, as ChatGPT's documents ask).
  const method = document.token_endpoint_auth_method ?? 'none';
  if (method !== 'none' && method !== 'private_key_jwt') {
    return {
      problem: `its token_endpoint_auth_method is ${JSON.stringify(method).slice(0, 40)}: such clients are public ("none") or sign with their published keys ("private_key_jwt")`,
    };
  }
  const { client_id: _, expires_at: _expiresAt, ...metadata } = document;
  if (Array.isArray(document.grant_types)) {
    const grants = document.grant_types.filter((g) => DOCUMENT_GRANTS.has(g as GrantType));
    if (grants.length === 0) {
      return {
        problem: `its grant_types include none of ${[...DOCUMENT_GRANTS].join(', ')}`,
      };
    }
    metadata.grant_types = grants;
  }
  try {
    const validated = validateClientMetadata(
      { ...metadata, token_endpoint_auth_method: method },
      // Scopes are not checked against the offered ones here: a document serves many servers.
      // The authorization request grants only scopes both listed and offered.
      {},
      fetchedAt,
    );
    return {
      client: {
        clientId: url,
        metadata: validated.metadata,
        clientIdIssuedAt: fetchedAt,
        clientSecretExpiresAt: 0,
        registrationTokenHash: '',
        version: 0,
        registrationMethod: METADATA_DOCUMENT,
      },
    };
  } catch (error) {
    if (error instanceof OAuthError) return { problem: error.description };
    throw error;
  }
}
