import { performance } from 'node:perf_hooks';
import { createVerifier, type ResourceRequest } from '../resource-server/index.js';
import { dpopKey, startStandInIssuer } from '../test/support/stand-in-issuer.js';

/**
 * The resource-server kit's verification cost per request, in process: an ES256 access token as
 * Bearer, and DPoP-bound with an ES256 proof (the MCP profile's body digest, the jti replay
 * cache). Discovery and the JWKS are fetched once from a stand-in issuer on loopback and cached,
 * as in a running server; proofs are made beforehand, so only verification is timed.
 */
export async function kitBench(iterations = Number(process.env.BENCH_ITERATIONS ?? 2000)) {
  const resource = 'http://127.0.0.1:1/mcp';
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'whoami' },
  });
  const issuer = await startStandInIssuer({ aud: resource });
  try {
    const verifier = createVerifier({
      issuer: issuer.issuer,
      resource,
      dpop: { contentDigest: true },
    });
    const lines: string[] = [];
    const measure = async (name: string, requests: ResourceRequest[]) => {
      await verifier.verify(requests[0] as ResourceRequest, { scopes: ['mcp:tools'] });
      const start = performance.now();
      for (const request of requests.slice(1)) {
        await verifier.verify(request, { scopes: ['mcp:tools'] });
      }
      const perRequest = (performance.now() - start) / (requests.length - 1);
      lines.push(
        `resource-server kit, ${name}: ${(perRequest * 1000).toFixed(0)} µs per verification (${Math.round(1000 / perRequest)}/s, ${iterations} requests, in process)`,
      );
    };
    const base = { method: 'POST', url: resource, body };
    const bearer = await issuer.token();
    await measure(
      'Bearer (ES256 access token)',
      Array.from({ length: iterations + 1 }, () => ({
        ...base,
        authorization: `Bearer ${bearer}`,
      })),
    );
    const key = await dpopKey();
    const bound = await issuer.token({ cnf: { jkt: key.jkt } });
    const proofs = await Promise.all(
      Array.from({ length: iterations + 1 }, () => key.proof({ ...base, token: bound })),
    );
    await measure(
      'DPoP (ES256 token + ES256 proof, MCP body digest, replay cache)',
      proofs.map((dpop) => ({ ...base, authorization: `DPoP ${bound}`, dpop })),
    );
    return lines;
  } finally {
    await issuer.close();
  }
}
