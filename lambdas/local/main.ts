import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config.js';
import { logger } from '../log.js';
import { startLocalApp } from './app.js';

/** `npm start`: the whole API on 127.0.0.1, data kept on disk between restarts. */
// Node 20 is supported here; the SDK's notice about its own future Node versions is noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const config = loadConfig({ DCR_DATA_DIR: `${projectRoot}.dcr-data`, ...process.env });
const app = await startLocalApp(config, { store: 'embedded' });

process.stdout.write(`serverless-dcr listening
  issuer:  ${app.issuer}
  data:    ${config.dataDir}

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
