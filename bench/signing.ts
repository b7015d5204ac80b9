/**
 * Token signing in each mode, on the synthesized stack (bundled functions, one worker = one
 * container, behind the IAM gate that counts every AWS call): tokens/s of one token function
 * container issuing client_credentials tokens one after another (as Lambda gives a container one
 * request at a time), and the KMS calls the token function made, per 1M tokens. KMS here is the
 * local KMS-compatible server: a real KMS Sign adds its network round trip (milliseconds) to
 * every token of the kms mode, and its quota (RSA 500/s, ECC 300/s per account and region)
 * caps the whole fleet; the wrapped mode pays one Decrypt per container and key.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { generate } from 'selfsigned';
import { DynamoDbSigningKeys } from '../lambdas/adapters/dynamodb/dynamodb-signing-keys.js';
import { KmsKeyWrapping } from '../lambdas/adapters/kms/kms-key-wrapping.js';
import { KmsSigner } from '../lambdas/adapters/kms/kms-signer.js';
import { WrappedKeySigner } from '../lambdas/adapters/signing/wrapped-key-signer.js';
import { documentClient } from '../lambdas/aws/dynamodb.js';
import { systemClock } from '../lambdas/core/clock.js';
import { KeyRotation } from '../lambdas/core/signing/key-rotation.js';
import type { Signer } from '../lambdas/core/signing/ports.js';
import { AccessTokenIssuer } from '../lambdas/core/tokens/access-tokens.js';
import { startEmbeddedStore } from '../local/embedded-store.js';
import { startKmsServer } from '../test/support/kms-server.js';
import { synthesizeStack } from '../test/support/synthesize.js';
import { startStackServer } from '../test/support/synthesized-stack.js';

const DURATION = Number(process.env.BENCH_SECONDS ?? 5);

/** One https request to the stack's API Gateway stand-in (its certificate trusted here). */
function post(url: string, agent: Agent, headers: Record<string, string>, body: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function measureMode(mode: 'kms' | 'wrapped', tls: { key: string; cert: string }) {
  const dir = mkdtempSync(join(tmpdir(), `dcr-bench-signing-${mode}-`));
  try {
    const cdkOut = join(dir, 'cdk.out');
    synthesizeStack(cdkOut, { 'dcr:signingMode': mode, 'dcr:signingAlgorithm': 'RS256' });
    const app = await startStackServer({
      cdkOut,
      tls,
      env: { DCR_REGISTRATION_RATE_LIMIT: 'off' },
    });
    const agent = new Agent({ ca: tls.cert, keepAlive: true, maxSockets: 1 });
    try {
      const registered = await post(
        `${app.issuer}/register`,
        agent,
        { 'content-type': 'application/json' },
        JSON.stringify({ grant_types: ['client_credentials'], client_name: 'bench signing' }),
      );
      const client = JSON.parse(registered.body) as { client_id: string; client_secret: string };
      const headers = {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
      };
      const issue = async () => {
        const response = await post(
          `${app.issuer}/token`,
          agent,
          headers,
          'grant_type=client_credentials',
        );
        if (response.status !== 200) throw new Error(`token: ${response.status} ${response.body}`);
      };
      // From a cold token container: its first token pays the key's read (and unwrap).
      app.awsCalls.length = 0;
      let tokens = 0;
      const started = performance.now();
      while (performance.now() - started < DURATION * 1000) {
        await issue();
        tokens++;
      }
      const seconds = (performance.now() - started) / 1000;
      const kms = app.awsCalls.filter(
        (c) => c.caller.startsWith('Functiontoken') && c.action.startsWith('kms:'),
      );
      const byAction = new Map<string, number>();
      for (const call of kms) byAction.set(call.action, (byAction.get(call.action) ?? 0) + 1);
      // Sign is paid per token; GetPublicKey and Decrypt once per container (and per new key),
      // so per 1M tokens they stay what one container paid, however many tokens it signs.
      const perMillion = [...byAction]
        .map(([action, n]) =>
          action === 'kms:Sign'
            ? `${action} ${Math.round((n / tokens) * 1_000_000)}`
            : `${action} ${n} per container`,
        )
        .join(', ');
      return [
        `  ${mode}: ${(tokens / seconds).toFixed(0)} tokens/s in one container (${tokens} tokens in ${seconds.toFixed(1)} s, RS256); KMS calls: ${kms.length} (${[...byAction].map(([a, n]) => `${a} ×${n}`).join(', ') || 'none'}); per 1M tokens: ${perMillion || 'none'}`,
      ];
    } finally {
      agent.destroy();
      await app.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The signing itself, in process: the token issuer with each signer, the KMS one calling the
 * KMS-compatible server over loopback (a real KMS round trip is milliseconds more), the wrapped
 * one with its key unwrapped once.
 */
async function inProcess(): Promise<string[]> {
  const signingKey = 'arn:aws:kms:local:000000000000:key/signing';
  const wrappingKey = 'arn:aws:kms:local:000000000000:key/wrapping';
  const kms = await startKmsServer({
    [signingKey]: 'RSA_2048',
    [wrappingKey]: 'SYMMETRIC_DEFAULT',
  });
  const store = await startEmbeddedStore('bench-signing');
  try {
    const client = new KMSClient({
      endpoint: kms.endpoint,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const keys = new DynamoDbSigningKeys(documentClient(store.client), 'bench-signing');
    const wrapping = new KmsKeyWrapping(client, wrappingKey);
    await new KeyRotation(keys, wrapping, systemClock, {
      alg: 'RS256',
      accessTokenLifetimeSeconds: 600,
      keyringRefreshSeconds: 300,
    }).ensureKey();
    const signers: [string, Signer][] = [
      ['kms', new KmsSigner(client, { activeKeyId: signingKey })],
      [
        'wrapped',
        new WrappedKeySigner(
          keys,
          systemClock,
          { refreshSeconds: 300 },
          { store: keys, unwrapper: wrapping },
        ),
      ],
    ];
    const lines: string[] = [];
    for (const [mode, signer] of signers) {
      const issuer = new AccessTokenIssuer(signer);
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        iss: 'https://issuer.example',
        sub: 'a',
        aud: 'https://issuer.example',
        client_id: 'a',
        iat: now,
        exp: now + 600,
      };
      kms.calls.length = 0;
      let tokens = 0;
      const started = performance.now();
      while (performance.now() - started < DURATION * 1000) {
        await issuer.issue(claims);
        tokens++;
      }
      const seconds = (performance.now() - started) / 1000;
      const calls = kms.calls.map((c) => c.operation);
      lines.push(
        `  ${mode}, in process (issuer + signer only): ${(tokens / seconds).toFixed(0)} tokens/s sequential, RS256; KMS calls ${calls.length} for ${tokens} tokens (${[...new Set(calls)].map((op) => `${op} ×${calls.filter((c) => c === op).length}`).join(', ')})`,
      );
    }
    return lines;
  } finally {
    await store.close();
    await kms.close();
  }
}

export async function signingBench(): Promise<string[]> {
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  const tls = { key: pems.private, cert: pems.cert };
  const lines = [
    `signing (synthesized stack, one token container, sequential requests, ${DURATION} s each; KMS = the local stand-in):`,
  ];
  for (const mode of ['kms', 'wrapped'] as const) lines.push(...(await measureMode(mode, tls)));
  lines.push(...(await inProcess()));
  lines.push(
    '  kms mode: one KMS Sign per token = 1,000,000 Sign per 1M tokens, capped by the account quota; wrapped: one Decrypt per container start and per key rotation, whatever the token count',
  );
  return lines;
}
