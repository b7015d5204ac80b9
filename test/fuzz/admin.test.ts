import { describeFuzz } from '../support/fuzz.js';
import { adminRequest, garbageRequest, metadataRequest } from '../support/fuzz-arbitraries.js';

/** Fuzzing (docs/testing.md): the admin API, discovery, JWKS and the home page, and requests of any shape anywhere. */
describeFuzz('fuzzing the admin API, metadata and everything else', [
  ['/admin/...: any query, cursor and body, with the admin token and without', adminRequest, 1500],
  [
    'discovery, JWKS and the home page: odd methods, paths, queries and headers',
    metadataRequest,
    500,
  ],
  ['any method, path, headers and body', garbageRequest, 1000],
]);
