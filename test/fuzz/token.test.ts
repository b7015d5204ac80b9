import * as fc from 'fast-check';
import { beforeAll, describe, it } from 'vitest';
import { FUZZ_TIMEOUT_MS, FuzzSession, fuzzParameters } from '../support/fuzz.js';
import { introspectRequest, revokeRequest, tokenRequest } from '../support/fuzz-arbitraries.js';

/** Issue 12 fuzzing: the token, introspection and revocation endpoints (form bodies). */
let session: FuzzSession;
beforeAll(async () => {
  session = await FuzzSession.start();
});

describe('fuzzing the token endpoints', () => {
  it(
    'POST /token: every grant and client authentication, odd Basic encodings, client assertions with any header and claims',
    async () => {
      await fc.assert(
        fc.asyncProperty(tokenRequest, async (spec) => {
          await session.check(spec);
        }),
        fuzzParameters(2000),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'POST /introspect: any form and credential gets a 2xx or an RFC 4xx, and shows no secret',
    async () => {
      await fc.assert(
        fc.asyncProperty(introspectRequest, async (spec) => {
          await session.check(spec);
        }),
        fuzzParameters(800),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'POST /revoke: any form and credential gets a 2xx or an RFC 4xx, and a refusal revokes nothing',
    async () => {
      await fc.assert(
        fc.asyncProperty(revokeRequest, async (spec) => {
          await session.check(spec);
        }),
        fuzzParameters(800),
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
