import * as fc from 'fast-check';
import { beforeAll, describe, it } from 'vitest';
import { FUZZ_TIMEOUT_MS, FuzzSession, fuzzParameters } from '../support/fuzz.js';
import { clientConfigurationRequest, registerRequest } from '../support/fuzz-arbitraries.js';

/** Issue 12 fuzzing: registration (RFC 7591) and client configuration (RFC 7592). */
let session: FuzzSession;
beforeAll(async () => {
  session = await FuzzSession.start();
});

describe('fuzzing registration', () => {
  it(
    'POST /register: any body, content type and credential gets a 2xx or an RFC 4xx, and a refusal writes nothing',
    async () => {
      await fc.assert(
        fc.asyncProperty(registerRequest, async (spec) => {
          await session.check(spec);
        }),
        fuzzParameters(2000),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'GET, PUT, DELETE /register/{id}: any token, path and body; no secret but the presented token is shown',
    async () => {
      await fc.assert(
        fc.asyncProperty(clientConfigurationRequest, async (spec) => {
          await session.check(spec);
        }),
        fuzzParameters(1000),
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
