import * as fc from 'fast-check';
import { beforeAll, describe, it } from 'vitest';
import { FUZZ_TIMEOUT_MS, FuzzSession, fuzzParameters } from '../support/fuzz.js';
import { adminRequest, garbageRequest, metadataRequest } from '../support/fuzz-arbitraries.js';

/** Issue 12 fuzzing: the admin API, discovery and JWKS, and requests of any shape anywhere. */
let session: FuzzSession;
beforeAll(async () => {
  session = await FuzzSession.start();
});

describe('fuzzing the admin API, metadata and everything else', () => {
  it(
    '/admin/...: any query, cursor and body, with the admin token and without',
    async () => {
      await fc.assert(
        fc.asyncProperty(adminRequest, async (spec) => {
          await session.check(spec);
        }),
        fuzzParameters(1500),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'discovery and JWKS: odd methods, paths, queries and headers',
    async () => {
      await fc.assert(
        fc.asyncProperty(metadataRequest, async (spec) => {
          await session.check(spec);
        }),
        fuzzParameters(500),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'any method, path, headers and body',
    async () => {
      await fc.assert(
        fc.asyncProperty(garbageRequest, async (spec) => {
          await session.check(spec);
        }),
        fuzzParameters(1000),
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
