/**
 * Benchmark target, run in its own process so the load generator does not share its event
 * loop: `tsx bench/serve.ts <ours-memory|ours-embedded|oidc-provider>`. Prints `READY <issuer>`.
 */
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../lambdas/config.js';
import { startLocalApp } from '../lambdas/local/app.js';

process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const kind = process.argv[2];

if (kind === 'ours-memory' || kind === 'ours-embedded') {
  const app = await startLocalApp(loadConfig({ PORT: '0' }), {
    store: kind === 'ours-memory' ? 'memory' : 'embedded',
  });
  console.log(`READY ${app.issuer}`);
} else if (kind === 'oidc-provider') {
  // node-oidc-provider 9 with its default in-memory adapter, registration and
  // client_credentials enabled: the reference implementation, measured on the same machine.
  const { default: Provider } = await import('oidc-provider');
  const { createServer } = await import('node:http');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    features: {
      registration: { enabled: true },
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
    },
  });
  server.on('request', provider.callback());
  console.log(`READY ${issuer}`);
} else {
  console.error('usage: serve.ts <ours-memory|ours-embedded|oidc-provider>');
  process.exit(2);
}
