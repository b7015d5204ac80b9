import { fileURLToPath } from 'node:url';
import { type Config, loadConfig } from '../lambdas/config.js';
import { PATHS } from '../lambdas/core/paths.js';
import { logger } from '../lambdas/log.js';
import { type LocalApp, startLocalApp } from './app.js';

/** `npm start`: the whole API on 127.0.0.1, data kept on disk between restarts. */
// Node 20 is supported here; the SDK's notice about its own future Node versions is noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

let config: Config;
let app: LocalApp;
try {
  config = loadConfig({ DCR_DATA_DIR: `${projectRoot}.dcr-data`, ...process.env });
  app = await startLocalApp(config, { store: 'embedded' });
} catch (error) {
  // Bad configuration, a port in use, a data folder another server holds: say so, plainly.
  process.stderr.write(`serverless-dcr: ${(error as Error).message}\n`);
  process.exit(1);
}

/** How users sign in at /authorize, for the banner. */
function signIn(config: Config, issuer: string): string {
  if (config.upstream) {
    return `upstream ${config.upstream.issuer} (register ${issuer}${PATHS.callback} there as the redirect URI)`;
  }
  if (config.devLogin) {
    return `DEVELOPMENT LOGIN ON, no password, users: ${config.devLogin.users.join(', ')} (DCR_DEV_USERS)`;
  }
  return 'none (no authorization endpoint; set DCR_UPSTREAM_ISSUER or DCR_DEV_LOGIN=on)';
}

process.stdout.write(`serverless-dcr listening
  issuer:  ${app.issuer}
  data:    ${config.dataDir}
  admin:   ${config.adminToken ? `${app.issuer}/admin (Bearer $DCR_ADMIN_TOKEN; npx dcr-admin --help)` : 'closed (set DCR_ADMIN_TOKEN to open it)'}
  dashboard: ${config.adminToken ? `${app.issuer}${PATHS.dashboard} (sign in with $DCR_ADMIN_TOKEN)` : 'closed (set DCR_ADMIN_TOKEN to open it)'}
  sign-in: ${signIn(config, app.issuer)}
${
  config.trustedFetchOrigins.size > 0
    ? `  WARNING: DCR_TRUSTED_FETCH_ORIGINS (for tests only) lets ${[...config.trustedFetchOrigins].join(', ')} be fetched on any address\n`
    : ''
}
Register a client:
  curl -s -X POST ${app.issuer}/register -H 'content-type: application/json' \\
    -d '{"client_name":"my-agent","grant_types":["client_credentials"],"scope":"read"}'

Ctrl-C stops the server.
`);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info('stopping', { signal });
  await app.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
