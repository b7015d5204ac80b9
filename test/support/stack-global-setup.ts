import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { STACK_VARIANTS } from './stack-variants.js';
import { synthesizeStack } from './synthesize.js';

export interface StackFixture {
  /** One cloud assembly with every stack of STACK_VARIANTS, by its name, and their bundles. */
  readonly cdkOut: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackFixture;
  }
}

/**
 * Synthesizes the stacks the `stack` project runs once for the run, bundles included (esbuild,
 * as `cdk synth` does), all into one cloud assembly so that each function is bundled once.
 * (Their API Gateway stand-in serves the certificate of tls-global-setup.)
 */
export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'dcr-stack-'));
  const cdkOut = join(dir, 'cdk.out');
  for (const [stackName, context] of Object.entries(STACK_VARIANTS)) {
    synthesizeStack(cdkOut, context, stackName);
  }
  project.provide('stack', { cdkOut });
  return () => rmSync(dir, { recursive: true, force: true });
}
