import * as fc from 'fast-check';
import { beforeAll, describe, it } from 'vitest';
import { FUZZ_TIMEOUT_MS, FuzzSession, fuzzParameters } from '../support/fuzz.js';
import { authorizeRequest, signInRequest } from '../support/fuzz-arbitraries.js';

/** Issue 12 fuzzing: the authorization endpoint and the sign-in pages (browser endpoints). */
let session: FuzzSession;
beforeAll(async () => {
  session = await FuzzSession.start();
});

describe('fuzzing the browser endpoints', () => {
  it(
    'GET /authorize: any query, cookies and headers: a redirect to a registered URI or this server, or an error page',
    async () => {
      await fc.assert(
        fc.asyncProperty(authorizeRequest, async (spec) => {
          await session.check(spec);
        }),
        fuzzParameters(1500),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'GET and POST /login and /consent: any form, cookies and CSRF tokens',
    async () => {
      await fc.assert(
        fc.asyncProperty(signInRequest, async (spec) => {
          await session.check(spec);
        }),
        fuzzParameters(1000),
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
