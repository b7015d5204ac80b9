/**
 * Grant type and profile identifiers beyond RFC 6749's, in a module of their own: discovery
 * names them without bundling the grants' code.
 */

/** RFC 7523 §2.1: a JWT as an authorization grant (workload identity, ID-JAGs). */
export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** The ID-JAG profile, as discovery's `authorization_grant_profiles_supported` names it. */
export const ID_JAG_PROFILE = 'urn:ietf:params:oauth:grant-profile:id-jag';

/** RFC 8693 §2.1: token exchange, and the one token type exchanged here (§3). */
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
