import { describeFuzz } from '../support/fuzz.js';
import { clientConfigurationRequest, registerRequest } from '../support/fuzz-arbitraries.js';

/** Fuzzing (docs/testing.md): registration (RFC 7591) and client configuration (RFC 7592). */
describeFuzz('fuzzing registration', [
  [
    'POST /register: any body, content type and credential gets a 2xx or an RFC 4xx, and a refusal writes nothing',
    registerRequest,
    2000,
  ],
  [
    'GET, PUT, DELETE /register/{id}: any token, path and body; no secret but the presented token is shown',
    clientConfigurationRequest,
    1000,
  ],
]);
