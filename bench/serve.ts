/**
 * Benchmark target, run in its own process so the load generator does not share its event
 * loop: `tsx bench/serve.ts <ours-memory|ours-embedded|oidc-provider|node-http>` (the bench runs
 * its bundle under plain node, as `npm start` runs the local server: bench/serve-command.ts). Prints
 * `PID <pid>` (the process whose CPU time the bench reads), then `READY <issuer>` (and the
 * public client's id, when seeding grants). `node-http`: node:http alone answering every request
 * with our metadata's bytes and headers, the ceiling of any server on Node.
 * BENCH_ALG (RS256 | ES256) picks the access token signing algorithm of either server.
 * BENCH_GRANTS=<n> (memory targets): seeds n authorization codes (0 is fine) and the refresh
 * token families of bench/grant-seeds.ts for a public client before READY.
 * BENCH_REUSE_GRACE (ours): DCR_REFRESH_TOKEN_REUSE_GRACE_SECONDS; unset = the default.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { MemoryGrantStore } from '../lambdas/adapters/memory/memory-grant-store.js';
import { loadConfig } from '../lambdas/config.js';
import type { GrantStore } from '../lambdas/core/tokens/ports.js';
import { startLocalApp } from '../local/app.js';
import {
  PUBLIC_CLIENT,
  REFRESH_IDLE_LIFETIME,
  REFRESH_LIFETIME,
  seedCode,
  seedFamily,
} from './grant-records.js';
import {
  BENCH_CHALLENGE,
  BENCH_FAMILIES,
  BENCH_PUBLIC_CLIENT_ID,
  BENCH_REDIRECT_URI,
  BENCH_RESOURCE,
  BENCH_SCOPE,
  BENCH_USER,
  benchCode,
  benchFamily,
} from './grant-seeds.js';
import { MapAdapter } from './map-adapter.js';

process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// The parent reads stdout only up to READY: audit lines would fill the pipe.
process.env.DCR_AUDIT_LOG ??= 'off';

const kind = process.argv[2];
// Under tsx this file runs in a child of the process started: name the one that serves.
console.log(`PID ${process.pid}`);
const alg = process.env.BENCH_ALG === 'ES256' ? 'ES256' : 'RS256';
/** Whether to seed the grant benchmarks' client, codes and refresh families. */
const seeding = process.env.BENCH_GRANTS !== undefined;
const codes = Number(process.env.BENCH_GRANTS ?? 0);

/** oidc-provider's statically configured benchmark client. */
export const REFERENCE_CLIENT = {
  id: 'bench',
  secret: 'bench-secret-with-enough-length-0123456789',
};

if (kind === 'ours-memory' || kind === 'ours-embedded') {
  const grants: GrantStore | undefined =
    seeding && kind === 'ours-memory' ? new MemoryGrantStore() : undefined;
  const app = await startLocalApp(
    loadConfig({
      PORT: '0',
      // Read from the environment set above: loadConfig is given this table, not process.env.
      DCR_AUDIT_LOG: process.env.DCR_AUDIT_LOG,
      DCR_SIGNING_ALG: alg,
      DCR_DEFAULT_AUDIENCE: BENCH_RESOURCE,
      DCR_RESOURCES: BENCH_RESOURCE,
      DCR_ALLOWED_SCOPES: BENCH_SCOPE,
      DCR_REFRESH_TOKEN_LIFETIME_SECONDS: String(REFRESH_LIFETIME),
      DCR_REFRESH_TOKEN_IDLE_LIFETIME_SECONDS: String(REFRESH_IDLE_LIFETIME),
      // The refresh bench measures the reuse grace window (the default) and strict rotation (0).
      ...(process.env.BENCH_REUSE_GRACE && {
        DCR_REFRESH_TOKEN_REUSE_GRACE_SECONDS: process.env.BENCH_REUSE_GRACE,
      }),
      // The initial access token benchmark creates its token through the admin API.
      ...(process.env.BENCH_ADMIN_TOKEN && { DCR_ADMIN_TOKEN: process.env.BENCH_ADMIN_TOKEN }),
      // The software statement benchmark's trusted issuer (bench/software-statements.ts).
      DCR_SOFTWARE_STATEMENT_ISSUERS: process.env.DCR_SOFTWARE_STATEMENT_ISSUERS ?? '',
      // The workload identity benchmark's trusted platform (bench/run.ts tokenBench).
      DCR_TRUSTED_ISSUERS: process.env.DCR_TRUSTED_ISSUERS ?? '{}',
      // Abuse control's cost: the registration bench turns it on with a limit never reached.
      DCR_REGISTRATION_RATE_LIMIT: process.env.BENCH_RATE_LIMIT ?? 'off',
    }),
    { store: kind === 'ours-memory' ? 'memory' : 'embedded', ...(grants && { grants }) },
  );
  if (grants) {
    // What /authorize stores when the user allows, and what a code exchange creates.
    const registered = await fetch(`${app.issuer}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(PUBLIC_CLIENT),
    });
    if (registered.status !== 201) throw new Error(`registration: ${await registered.text()}`);
    const { client_id: clientId } = (await registered.json()) as { client_id: string };
    const now = Math.floor(Date.now() / 1000);
    for (let i = 0; i < codes; i++) await seedCode(grants, i, clientId, now);
    for (let j = 0; j < BENCH_FAMILIES; j++) await seedFamily(grants, j, clientId, now);
    console.log(`READY ${app.issuer} ${clientId}`);
  } else {
    console.log(`READY ${app.issuer}`);
  }
} else if (kind === 'oidc-provider') {
  // node-oidc-provider 9: registration, client_credentials, authorization codes (PKCE S256
  // required for public clients) and rotating refresh tokens, JWT access tokens (resource
  // indicators) — the reference implementation. Its default in-memory adapter is an LRU of
  // 1000 entries; the grant benchmarks seed far more, so they use an unbounded Map.
  const { default: Provider } = await import('oidc-provider');
  const { createServer } = await import('node:http');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const key =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
      : generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const provider = new Provider(issuer, {
    jwks: { keys: [{ ...key.export({ format: 'jwk' }), alg, use: 'sig' }] },
    ...(seeding && { adapter: MapAdapter }),
    clients: [
      {
        client_id: REFERENCE_CLIENT.id,
        client_secret: REFERENCE_CLIENT.secret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: alg,
      },
      {
        // Without `scope`: oidc-provider checks a client's scope against its OpenID scopes,
        // and `read` is a resource server's scope there (getResourceServerInfo below).
        ...{ ...PUBLIC_CLIENT, scope: undefined },
        client_id: BENCH_PUBLIC_CLIENT_ID,
        id_token_signed_response_alg: alg,
      },
    ],
    // The user of the seeded grants exists (ours trusts the `sub` its grant records).
    findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ sub: id }) }),
    // A refresh token with every code exchange, and a new one with every refresh (as ours).
    issueRefreshToken: () => true,
    rotateRefreshToken: true,
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 3600,
      Grant: REFRESH_LIFETIME,
      RefreshToken: REFRESH_LIFETIME,
    },
    features: {
      registration: { enabled: true },
      clientCredentials: { enabled: true },
      // DPoP-bound tokens when a proof comes (no nonces, as ours by default).
      dPoP: { enabled: true },
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => BENCH_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: BENCH_SCOPE,
          audience: BENCH_RESOURCE,
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg } },
        }),
      },
    },
  });
  if (seeding) {
    // What its authorization endpoint stores after consent: a grant per authorization, and
    // the code (its value is the jti, so the seeded values are ours to choose).
    const now = Math.floor(Date.now() / 1000);
    const grantFor = async (jti?: string) => {
      const grant = new provider.Grant({
        ...(jti !== undefined && { jti }),
        accountId: BENCH_USER,
        clientId: BENCH_PUBLIC_CLIENT_ID,
      });
      grant.addResourceScope(BENCH_RESOURCE, BENCH_SCOPE);
      return grant.save();
    };
    const common = {
      clientId: BENCH_PUBLIC_CLIENT_ID,
      accountId: BENCH_USER,
      authTime: now,
      scope: BENCH_SCOPE,
      resource: BENCH_RESOURCE,
    };
    for (let i = 0; i < codes; i++) {
      await new provider.AuthorizationCode({
        ...common,
        jti: benchCode(i),
        grantId: await grantFor(),
        redirectUri: BENCH_REDIRECT_URI,
        codeChallenge: BENCH_CHALLENGE,
        codeChallengeMethod: 'S256',
      }).save();
    }
    for (let j = 0; j < BENCH_FAMILIES; j++) {
      const { grantId, refreshToken } = benchFamily(j);
      await new provider.RefreshToken({
        ...common,
        jti: refreshToken,
        grantId: await grantFor(grantId),
        gty: 'authorization_code',
        rotations: 0,
      }).save();
    }
  }
  server.on('request', provider.callback());
  console.log(seeding ? `READY ${issuer} ${BENCH_PUBLIC_CLIENT_ID}` : `READY ${issuer}`);
} else if (kind === 'node-http') {
  const { createServer } = await import('node:http');
  const { authorizationServerMetadata } = await import('../lambdas/core/discovery.js');
  const { publishDocument } = await import('../lambdas/http/routes/published-document.js');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const document = publishDocument(
    authorizationServerMetadata(issuer, {
      interactive: false,
      clientIdMetadataDocuments: false,
      mtls: false,
    }),
    'public, max-age=3600',
  );
  // The headers our router sends with it (CORS, nosniff), so only the work differs; and the
  // body's length, so it goes out in one piece (writeHead without it means chunked encoding).
  const headers = {
    ...document.headers,
    'content-length': String(Buffer.byteLength(document.body)),
    'access-control-allow-origin': '*',
    'access-control-expose-headers': 'www-authenticate, retry-after, etag, dpop-nonce',
    'x-content-type-options': 'nosniff',
  };
  server.on('request', (_req, res) => {
    res.writeHead(200, headers);
    res.end(document.body);
  });
  console.log(`READY ${issuer}`);
} else {
  console.error('usage: serve.ts <ours-memory|ours-embedded|oidc-provider|node-http>');
  process.exit(2);
}
