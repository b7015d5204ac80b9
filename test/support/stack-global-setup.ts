import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import type { TestProject } from 'vitest/node';
import { synthesizeStack } from './synthesized-stack.js';
import { STACK_UPSTREAM } from './upstream-client.js';

export interface StackFixture {
  readonly cdkOut: string;
  readonly tls: { readonly key: string; readonly cert: string };
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackFixture;
  }
}

/**
 * Synthesizes the stack once for the run (with an upstream OpenID Provider, so that users can
 * sign in and the authorize function exists), bundles included (esbuild, as `cdk synth` does), and
 * makes a TLS certificate for 127.0.0.1 that the test workers trust (NODE_EXTRA_CA_CERTS is read
 * when each worker starts, after this).
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

  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  const certFile = join(dir, 'ca.pem');
  writeFileSync(certFile, pems.cert);
  process.env.NODE_EXTRA_CA_CERTS = certFile;
  project.provide('stack', { cdkOut, tls: { key: pems.private, cert: pems.cert } });
  return () => rmSync(dir, { recursive: true, force: true });
}
