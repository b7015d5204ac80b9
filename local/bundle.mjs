// `node local/bundle.mjs [entry.ts …]` (default local/main.ts): bundles our TypeScript with
// esbuild into .build/<entry's name>.js, with its source map; packages stay in node_modules,
// loaded from there. `npm start` runs the bundle with plain node: tsx, which compiles each module
// as it loads, keeps every function's name by wrapping it in a call at run time, which costs
// 6–8 % of a registration's CPU; a bundle pays it once, at build (~0.3 s, so every start rebuilds).
// The bundle sits one folder below the root, as the sources do, so a path a module takes from
// its own location (the default data folder, `../.dcr-data`) is the same from either.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = join(root, '.build');
const entries = process.argv.slice(2);

const { outputFiles } = await build({
  absWorkingDir: root,
  entryPoints: entries.length > 0 ? entries : ['local/main.ts'],
  outdir,
  entryNames: '[name]',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  write: false,
  logLevel: 'warning',
});
// Each file replaced whole (written aside, then renamed): a server starting at the same moment
// loads the previous bundle or this one, never half of one.
for (const { path, contents } of outputFiles) {
  mkdirSync(dirname(path), { recursive: true });
  const staging = join(dirname(path), `.${basename(path)}.${process.pid}`);
  writeFileSync(staging, contents);
  renameSync(staging, path);
}
