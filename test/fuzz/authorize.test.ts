import { describeFuzz } from '../support/fuzz.js';
import { authorizeRequest, signInRequest } from '../support/fuzz-arbitraries.js';

/** Fuzzing (docs/testing.md): the authorization endpoint and the sign-in pages (browser endpoints). */
describeFuzz('fuzzing the browser endpoints', [
  [
    'GET /authorize: any query, cookies and headers: a redirect to a registered URI or this server, or an error page',
    authorizeRequest,
    1500,
  ],
  ['GET and POST /login and /consent: any form, cookies and CSRF tokens', signInRequest, 1000],
]);
