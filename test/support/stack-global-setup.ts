import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { synthesizeStack } from './synthesized-stack.js';

export interface StackFixture {
  readonly cdkOut: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackFixture;
  }
}

/**
 * Synthesizes the stack once for the run, bundles included (esbuild, as `cdk synth` does). (Its
 * API Gateway stand-in serves the certificate of tls-global-setup.)
 */
export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'dcr-stack-'));
  const cdkOut = join(dir, 'cdk.out');
  synthesizeStack(cdkOut, { 'dcr:signingAlgorithm': 'ES256' });

  project.provide('stack', { cdkOut });
  return () => rmSync(dir, { recursive: true, force: true });
}
