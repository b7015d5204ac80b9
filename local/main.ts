import { type Config, loadConfig } from '../lambdas/config.js';
import { endpointUrl, PATHS } from '../lambdas/core/paths.js';
import { logger } from '../lambdas/log.js';
import { type LocalApp, startLocalApp } from './app.js';
import { DEFAULT_DATA_DIR } from './embedded-store.js';

/** `npm start`: the whole API on 127.0.0.1, data kept on disk between restarts. */
// Node 20 is supported here; the SDK's notice about its own future Node versions is noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * SIGTERM (systemd, docker stop, a process manager) or SIGINT (Ctrl-C): drain, then release the
 * data folder and exit 0. A second signal does not wait for the drain; one that comes at once
 * is the same one twice (Ctrl-C reaches npm, which passes it on, and this process).
 */
let stoppingSince: number | undefined;
let starting: Promise<LocalApp> | undefined;
const stop = async (signal: NodeJS.Signals) => {
  if (stoppingSince !== undefined) {
    if (Date.now() - stoppingSince < 500) return;
    logger.warn('stopping now, without waiting for requests in flight', { signal });
    process.exit(1);
  }
  stoppingSince = Date.now();
  logger.info('stopping: answering requests in flight, accepting no more', {
    signal,
    graceSeconds: config.shutdownGraceSeconds,
  });
  try {
    // A signal during the start waits for it: the store is then closed cleanly too.
    await (await starting)?.close(config.shutdownGraceSeconds * 1000);
  } catch (error) {
    logger.error('stopping failed', { error: error as Error });
    process.exit(1);
  }
  logger.info('stopped');
  process.exit(0);
};
process.on('SIGINT', (signal) => void stop(signal));
process.on('SIGTERM', (signal) => void stop(signal));

let config: Config;
let app: LocalApp;
try {
  config = loadConfig({ DCR_DATA_DIR: DEFAULT_DATA_DIR, ...process.env }, (warning) =>
    process.stderr.write(`serverless-dcr: warning: ${warning}\n`),
  );
  starting = startLocalApp(config, { store: 'embedded' });
  app = await starting;
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

/** What clients may ask for, for the banner: the example requests below use the first of each. */
const scopes = config.allowedScopes
  ? [...config.allowedScopes].join(' ')
  : 'any (set DCR_ALLOWED_SCOPES to offer a list)';
const resources =
  config.resources.size > 0
    ? [...config.resources].join(' ')
    : 'none: tokens are for the issuer (DCR_RESOURCES names the APIs tokens are for)';
const exampleScope = config.allowedScopes ? ([...config.allowedScopes][0] ?? 'read') : 'read';
const exampleResource = [...config.resources][0];

process.stdout.write(`serverless-dcr listening
  issuer:     ${app.issuer}
  discovery:  ${endpointUrl(app.issuer, PATHS.authorizationServerMetadata)}
  scopes:     ${scopes}
  resources:  ${resources}
  data:       ${config.dataDir}
  admin:      ${config.adminToken ? `${app.issuer}/admin (Bearer $DCR_ADMIN_TOKEN; npx dcr-admin --help)` : 'closed (set DCR_ADMIN_TOKEN to open it)'}
  dashboard:  ${config.adminToken ? `${app.issuer}${PATHS.dashboard} (sign in with $DCR_ADMIN_TOKEN)` : 'closed (set DCR_ADMIN_TOKEN to open it)'}
  sign-in:    ${signIn(config, app.issuer)}
${
  config.trustedFetchOrigins.size > 0
    ? `  WARNING: DCR_TRUSTED_FETCH_ORIGINS (for tests only) lets ${[...config.trustedFetchOrigins].join(', ')} be fetched on any address\n`
    : ''
}
Register a client:
  curl -s -X POST ${endpointUrl(app.issuer, PATHS.register)} -H 'content-type: application/json' \\
    -d '{"client_name":"my-agent","grant_types":["client_credentials"],"scope":"${exampleScope}"}'

Then get a token with the client_id and client_secret it returns:
  curl -s -X POST ${endpointUrl(app.issuer, PATHS.token)} -u "$CLIENT_ID:$CLIENT_SECRET" \\
    -d grant_type=client_credentials -d scope=${exampleScope}${exampleResource ? ` -d resource=${exampleResource}` : ''}

Ctrl-C stops the server.
`);
