/** RFC 6749 §3.3 scope-token grammar, space-separated. */
export const SCOPE_SYNTAX = /^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/;

/**
 * Scopes MCP and OpenID clients send out of habit (`openid email profile` when they know no
 * better, `offline_access` to ask for refresh tokens): this server issues no ID token and gives
 * refresh tokens by the client's registered grants, so they are dropped, never refused.
 */
export const IGNORABLE_SCOPES: ReadonlySet<string> = new Set([
  'openid',
  'email',
  'profile',
  'offline_access',
]);

/** The scope tokens of a request (no duplicates), without the ignorable ones. */
export const requestedScopes = (scope: string): string[] =>
  [...new Set(scope.split(' '))].filter((s) => !IGNORABLE_SCOPES.has(s));
