import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import type { TestProject } from 'vitest/node';

/** A TLS certificate and key for https servers the tests run on 127.0.0.1. */
export interface TestTls {
  readonly key: string;
  readonly cert: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    tls: TestTls;
  }
}

interface Made {
  readonly tls: TestTls;
  readonly dir: string;
}

// Every project's setup runs in this one process: one certificate for the whole run, since
// NODE_EXTRA_CA_CERTS names one file.
const MADE = Symbol.for('serverless-dcr.test-tls');
const shared = globalThis as { [MADE]?: Promise<Made> };

async function make(): Promise<Made> {
  const dir = mkdtempSync(join(tmpdir(), 'dcr-tls-'));
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  const certFile = join(dir, 'ca.pem');
  writeFileSync(certFile, pems.cert);
  process.env.NODE_EXTRA_CA_CERTS = certFile;
  return { tls: { key: pems.private, cert: pems.cert }, dir };
}

/**
 * Makes a certificate for 127.0.0.1 that the test workers trust (NODE_EXTRA_CA_CERTS is read
 * when each worker starts, after this): the synthesized stack's API Gateway stand-in, and the
 * https servers that serve Client ID Metadata Documents and key sets.
 */
export default async function setup(project: TestProject) {
  shared[MADE] ??= make();
  const { tls, dir } = await shared[MADE];
  project.provide('tls', tls);
  return () => rmSync(dir, { recursive: true, force: true });
}
