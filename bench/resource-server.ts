import { performance } from 'node:perf_hooks';
import { createVerifier, type ResourceRequest } from '../resource-server/index.js';
import { dpopKey, startStandInIssuer } from '../test/support/stand-in-issuer.js';

/**
 * The resource-server kit's verification cost per request, in process: an ES256 access token as
 * Bearer, and DPoP-bound with an ES256 proof (the MCP profile's body digest, the jti replay
 * cache). Discovery and the JWKS are fetched once from a stand-in issuer on loopback and cached,
 * as in a running server; proofs are made beforehand, so only verification is timed.
 */
const N = Number(process.env.BENCH_ITERATIONS ?? 2000);
const RESOURCE = 'http://127.0.0.1:1/mcp';
const BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'whoami' },
});

const issuer = await startStandInIssuer({ aud: RESOURCE });
const verifier = createVerifier({
  issuer: issuer.issuer,
  resource: RESOURCE,
  dpop: { contentDigest: true },
});
const bearer = await issuer.token();
const key = await dpopKey();
const bound = await issuer.token({ cnf: { jkt: key.jkt } });

async function measure(name: string, requests: ResourceRequest[]) {
  await verifier.verify(requests[0] as ResourceRequest, { scopes: ['mcp:tools'] });
  const start = performance.now();
  for (const request of requests.slice(1))
    await verifier.verify(request, { scopes: ['mcp:tools'] });
  const perRequest = (performance.now() - start) / (requests.length - 1);
  console.log(
    `${name.padEnd(34)} ${(perRequest * 1000).toFixed(0).padStart(6)} µs/request  ${Math.round(
      1000 / perRequest,
    )
      .toString()
      .padStart(6)} verifications/s`,
  );
}

const base = { method: 'POST', url: RESOURCE, body: BODY };
await measure(
  'Bearer (ES256 access token)',
  Array.from({ length: N + 1 }, () => ({ ...base, authorization: `Bearer ${bearer}` })),
);
const proofs = await Promise.all(
  Array.from({ length: N + 1 }, () => key.proof({ ...base, token: bound })),
);
await measure(
  'DPoP (ES256 token + ES256 proof)',
  proofs.map((dpop) => ({ ...base, authorization: `DPoP ${bound}`, dpop })),
);
console.log(`(${N} requests each, Node ${process.version})`);
await issuer.close();
