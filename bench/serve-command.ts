import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type Pinning, pinnedCommand } from './pinning.js';

const bundler = fileURLToPath(new URL('../local/bundle.mjs', import.meta.url));
const bundle = fileURLToPath(new URL('../.build/serve.js', import.meta.url));
let bundled = false;

/**
 * The command line of a bench/serve.ts target: its esbuild bundle under plain node, as
 * `npm start` runs the local server (local/bundle.mjs), so ours does not pay tsx's cost at run
 * time and oidc-provider, loaded from node_modules, runs under the same plain node. Bundled
 * once per run, at the first call.
 */
export function serveCommand(pinning: Pinning, kind: string) {
  if (!bundled) {
    execFileSync(process.execPath, [bundler, 'bench/serve.ts'], { stdio: 'inherit' });
    bundled = true;
  }
  return pinnedCommand(pinning, process.execPath, ['--enable-source-maps', bundle, kind]);
}
