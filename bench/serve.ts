/**
 * Benchmark target, run in its own process so the load generator does not share its event
 * loop: `tsx bench/serve.ts <ours-memory|ours-embedded|oidc-provider>`. Prints `READY <issuer>`.
 * BENCH_ALG (RS256 | ES256) picks the access token signing algorithm of either server.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../lambdas/config.js';
import { startLocalApp } from '../lambdas/local/app.js';

process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// The parent reads stdout only up to READY: audit lines would fill the pipe.
process.env.DCR_AUDIT_LOG ??= 'off';

const kind = process.argv[2];
const alg = process.env.BENCH_ALG === 'ES256' ? 'ES256' : 'RS256';

/** The audience both servers put in their tokens. */
export const BENCH_RESOURCE = 'https://api.example.com/';
/** oidc-provider's statically configured benchmark client. */
export const REFERENCE_CLIENT = {
  id: 'bench',
  secret: 'bench-secret-with-enough-length-0123456789',
};

if (kind === 'ours-memory' || kind === 'ours-embedded') {
  const app = await startLocalApp(
    loadConfig({
      PORT: '0',
      DCR_SIGNING_ALG: alg,
      DCR_DEFAULT_AUDIENCE: BENCH_RESOURCE,
      DCR_ALLOWED_SCOPES: 'read',
    }),
    { store: kind === 'ours-memory' ? 'memory' : 'embedded' },
  );
  console.log(`READY ${app.issuer}`);
} else if (kind === 'oidc-provider') {
  // node-oidc-provider 9 with its default in-memory adapter: registration, client_credentials
  // and JWT access tokens (resource indicators) enabled — the reference implementation.
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
    ],
    features: {
      registration: { enabled: true },
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => BENCH_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'read',
          audience: BENCH_RESOURCE,
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg } },
        }),
      },
    },
  });
  server.on('request', provider.callback());
  console.log(`READY ${issuer}`);
} else {
  console.error('usage: serve.ts <ours-memory|ours-embedded|oidc-provider>');
  process.exit(2);
}
