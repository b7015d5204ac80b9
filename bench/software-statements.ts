/**
 * Software statement figures: the registration body and issuer configuration the HTTP
 * benchmark uses, and the cost of one verification with a cached key (in process, no HTTP).
 */
import { performance } from 'node:perf_hooks';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { loadConfig } from '../lambdas/config.js';
import {
  SOFTWARE_STATEMENT_TYPE,
  TrustedSoftwareStatements,
} from '../lambdas/core/registration/software-statements.js';

export const STATEMENT_ISSUER = 'https://statements.bench.example';

/** A trusted issuer (inline key) and a registration body carrying a statement it signed. */
export async function statementRegistration(alg: 'ES256' | 'RS256' = 'ES256') {
  const { publicKey, privateKey } = await generateKeyPair(alg);
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg };
  const statement = await new SignJWT({
    software_id: 'bench-software',
    client_name: 'bench agent (statement)',
    grant_types: ['client_credentials'],
    response_types: [],
  })
    .setProtectedHeader({ alg, kid: 'bench', typ: SOFTWARE_STATEMENT_TYPE })
    .setIssuer(STATEMENT_ISSUER)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey);
  return {
    issuers: JSON.stringify({ [STATEMENT_ISSUER]: { jwks: { keys: [jwk] } } }),
    body: JSON.stringify({ software_statement: statement }),
    statement,
  };
}

/** Mean time of one verification with the key already imported (jose caches it). */
export async function verificationBench(): Promise<string[]> {
  const lines: string[] = [];
  for (const alg of ['ES256', 'RS256'] as const) {
    const { issuers, statement } = await statementRegistration(alg);
    const verifier = new TrustedSoftwareStatements(
      loadConfig({ DCR_SOFTWARE_STATEMENT_ISSUERS: issuers }).softwareStatementIssuers,
      {
        resolver: () => {
          throw new Error('inline keys only');
        },
      },
    );
    const now = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 200; i++) await verifier.verify(statement, now);
    const runs = 5000;
    const start = performance.now();
    for (let i = 0; i < runs; i++) await verifier.verify(statement, now);
    const each = (performance.now() - start) / runs;
    lines.push(
      `software statement verification (${alg}, cached key): ${each.toFixed(3)} ms each (target < 0.3 ms) ${each < 0.3 ? 'met' : 'NOT met'}`,
    );
  }
  return lines;
}
