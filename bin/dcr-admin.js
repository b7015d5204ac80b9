#!/usr/bin/env node
// The dcr-admin command, with no build step. Compiling the TypeScript at every call (tsx) costs
// more than the call itself, so the CLI is bundled once by esbuild (tsx's own compiler, so always
// installed) into node_modules/.cache/dcr-admin, one chunk per command, and bundled again
// whenever one of its sources changes. Where that cannot be done, it runs through tsx.
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cache = join(root, 'node_modules', '.cache', 'dcr-admin');
const entry = join(cache, 'cli', 'dcr-admin.js');
const sources = join(cache, 'sources.json');

/** What identifies a source's version: its modification time and size. */
const stamp = (file) => {
  const { mtimeMs, size } = statSync(join(root, file));
  return `${mtimeMs}:${size}`;
};

/** Whether the bundle was made from the sources as they are now. */
function fresh() {
  try {
    const stamps = JSON.parse(readFileSync(sources, 'utf8'));
    return Object.entries(stamps).every(([file, was]) => stamp(file) === was);
  } catch {
    return false;
  }
}

/** Bundles the CLI beside the cache, then swaps it in whole (a concurrent call may do the same). */
async function bundle() {
  const { build } = await import('esbuild');
  const staging = `${cache}.${process.pid}`;
  try {
    const { metafile } = await build({
      absWorkingDir: root,
      entryPoints: ['cli/dcr-admin.ts'],
      outdir: staging,
      outbase: '.',
      // Chunks keep their source's path (cli/commands/list-<hash>.js): a trace names them.
      chunkNames: '[dir]/[name]-[hash]',
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      // Packages stay in node_modules: loaded from there, when a command needs them.
      packages: 'external',
      metafile: true,
      logLevel: 'silent',
    });
    const stamps = Object.fromEntries(Object.keys(metafile.inputs).map((f) => [f, stamp(f)]));
    writeFileSync(join(staging, 'sources.json'), JSON.stringify(stamps));
    if (fresh()) return; // another call has just swapped in the same bundle
    mkdirSync(join(cache, '..'), { recursive: true });
    rmSync(cache, { recursive: true, force: true });
    renameSync(staging, cache);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

async function load() {
  try {
    if (!fresh()) await bundle();
    return await import(pathToFileURL(entry).href);
  } catch {
    // No esbuild, a read-only node_modules, or another call swapping the bundle in: tsx (a
    // development dependency, so in a clone; a production install has the bundle only).
    const { register } = await import('tsx/esm/api');
    register();
    return import('../cli/dcr-admin.ts');
  }
}

const { main } = await load();
process.exitCode = await main(process.argv.slice(2));
