import { App } from 'aws-cdk-lib';
import { ServerlessDcrStack } from '../../lib/serverless-dcr-stack.js';
import { STACK_NAME } from './synthesized-stack.js';

/**
 * Synthesizes the stack with its bundles into `outdir`, as `stackName`. Kept apart from the
 * harness that runs a cloud assembly (synthesized-stack.ts), so that test files which only run
 * one never load aws-cdk-lib. Stacks synthesized in one process into one `outdir` share their
 * bundles: CDK bundles a function once per entry and bundling options.
 */
export function synthesizeStack(
  outdir: string,
  context: Record<string, unknown> = {},
  stackName = STACK_NAME,
): void {
  const app = new App({ outdir, context } as ConstructorParameters<typeof App>[0]);
  new ServerlessDcrStack(app, stackName);
  app.synth({ validateOnSynthesis: false });
}
