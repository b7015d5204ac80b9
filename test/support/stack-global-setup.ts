import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { synthesizeStack } from './synthesized-stack.js';
import { STACK_UPSTREAM } from './upstream-client.js';

export interface StackFixture {
  readonly cdkOut: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackFixture;
  }
}

/**
 * Synthesizes the stack once for the run (with an upstream OpenID Provider, so that users can
 * sign in and the authorize function exists), bundles included (esbuild, as `cdk synth` does).
 * (Its API Gateway stand-in serves the certificate of tls-global-setup.)
 */
export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'dcr-stack-'));
  const cdkOut = join(dir, 'cdk.out');
  // Interactive, with the operator's upstream (tests point DCR_UPSTREAM_ISSUER at a loopback
  // oidc-provider; the Secrets Manager stand-in holds the client secret the ARN names).
  synthesizeStack(cdkOut, {
    'dcr:signingAlgorithm': 'ES256',
    'dcr:upstreamIssuer': STACK_UPSTREAM.issuer,
    'dcr:upstreamClientId': STACK_UPSTREAM.clientId,
    'dcr:upstreamClientSecretArn': STACK_UPSTREAM.clientSecretArn,
  });

  project.provide('stack', { cdkOut });
  return () => rmSync(dir, { recursive: true, force: true });
}
