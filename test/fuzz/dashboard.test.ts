import { describeFuzz } from '../support/fuzz.js';
import { dashboardRequest } from '../support/fuzz-arbitraries.js';

/** Fuzzing (docs/testing.md): the operator's dashboard (local server), signed in and not. */
describeFuzz('fuzzing the dashboard', [
  [
    '/dashboard pages and forms: any query, cookie, origin, CSRF token and form; HTML error pages, no secret shown',
    dashboardRequest,
    1000,
  ],
]);
