import { describeFuzz } from '../support/fuzz.js';
import { introspectRequest, revokeRequest, tokenRequest } from '../support/fuzz-arbitraries.js';

/** Fuzzing (docs/testing.md): the token, introspection and revocation endpoints (form bodies). */
describeFuzz('fuzzing the token endpoints', [
  [
    'POST /token: every grant and client authentication, odd Basic encodings, client assertions with any header and claims',
    tokenRequest,
    2000,
  ],
  [
    'POST /introspect: any form and credential gets a 2xx or an RFC 4xx, and shows no secret',
    introspectRequest,
    800,
  ],
  [
    'POST /revoke: any form and credential gets a 2xx or an RFC 4xx, and a refusal revokes nothing',
    revokeRequest,
    800,
  ],
]);
