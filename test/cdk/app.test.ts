import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { App } from 'aws-cdk-lib';
import { CURRENTLY_RECOMMENDED_FLAGS } from 'aws-cdk-lib/cx-api';
import { afterAll, describe, expect, it } from 'vitest';
import { ServerlessDcrStack } from '../../lib/serverless-dcr-stack.js';

/**
 * The CDK app as `npm run synth` and `cdk deploy` run it (bin/app.ts): which region it deploys
 * to, said or refused; and cdk.json's feature flags, set deliberately and changing nothing.
 */
const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** bin/app.ts with these region variables only (bundling skipped: its output is not judged here). */
async function app(region: Record<string, string>) {
  const outdir = mkdtempSync(join(tmpdir(), 'dcr-app-'));
  dirs.push(outdir);
  const { AWS_REGION: _a, CDK_DEFAULT_REGION: _c, AWS_DEFAULT_REGION: _d, ...env } = process.env;
  try {
    const { stderr } = await run(process.execPath, ['--import', 'tsx', 'bin/app.ts'], {
      cwd: projectRoot,
      env: {
        ...env,
        ...region,
        CDK_OUTDIR: outdir,
        CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:bundling-stacks': [] }),
      },
    });
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8'));
    return { code: 0, stderr, environment: manifest.artifacts.ServerlessDcr.environment as string };
  } catch (error) {
    const { code, stderr } = error as { code: number; stderr: string };
    return { code, stderr, environment: undefined };
  }
}

describe('the region the app deploys to', { timeout: 120_000 }, () => {
  it('refuses, saying what to set, when no region is given', async () => {
    const { code, stderr } = await app({});
    expect(code).toBe(1);
    expect(stderr).toContain(
      'serverless-dcr: no region to deploy to: set AWS_REGION, e.g. AWS_REGION=eu-west-1 npm run synth',
    );
  });

  it('says the region it takes from AWS_REGION, and deploys there', async () => {
    const { code, stderr, environment } = await app({
      AWS_REGION: 'eu-west-1',
      CDK_DEFAULT_REGION: 'us-east-1',
    });
    expect(code).toBe(0);
    expect(stderr).toContain('serverless-dcr: region eu-west-1 (AWS_REGION)');
    expect(environment).toMatch(/\/eu-west-1$/);
  });

  it('says so when the region is the CLI’s default (CDK_DEFAULT_REGION), and how to choose', async () => {
    const { code, stderr, environment } = await app({ CDK_DEFAULT_REGION: 'us-east-1' });
    expect(code).toBe(0);
    expect(stderr).toContain('serverless-dcr: region us-east-1 (CDK_DEFAULT_REGION');
    expect(stderr).toContain('set AWS_REGION to choose another');
    expect(environment).toMatch(/\/us-east-1$/);
  });
});

describe('cdk.json’s feature flags', () => {
  const flags: Record<string, unknown> = Object.fromEntries(
    Object.entries(
      JSON.parse(readFileSync(join(projectRoot, 'cdk.json'), 'utf8')).context as object,
    ).filter(([name]) => name.startsWith('@aws-cdk')),
  );
  /** Flags whose recommended value would change the template: kept at today's behaviour. */
  const KEPT = ['@aws-cdk/aws-iam:minimizePolicies', '@aws-cdk/core:enablePartitionLiterals'];

  it('sets every flag aws-cdk-lib recommends, at its recommended value but the ones kept', () => {
    for (const [name, recommended] of Object.entries(CURRENTLY_RECOMMENDED_FLAGS)) {
      expect(name in flags, name).toBe(true);
      if (!KEPT.includes(name)) expect(flags[name], name).toEqual(recommended);
    }
    for (const name of KEPT) expect(flags[name]).toBe(false);
  });

  it.each([
    ['the default deployment', {}],
    ['the wrapped signing mode', { 'dcr:signingMode': 'wrapped' }],
    [
      'a custom domain with mutual TLS',
      {
        'dcr:domainName': 'auth.example.com',
        'dcr:certificateArn': 'arn:aws:acm:eu-west-1:111111111111:certificate/abc',
        'dcr:mtlsDomainName': 'mtls.auth.example.com',
        'dcr:mtlsTruststoreUri': 's3://truststore-bucket/ca.pem',
      },
    ],
  ])('leave the template of %s as it is without them', (_, context) => {
    const template = (withFlags: boolean) => {
      const cdk = new App({
        context: {
          ...(withFlags && flags),
          ...context,
          'aws:cdk:bundling-stacks': [],
        },
      } as ConstructorParameters<typeof App>[0]);
      const stack = new ServerlessDcrStack(cdk, 'ServerlessDcr', { env: { region: 'eu-west-1' } });
      const assembly = cdk.synth({ validateOnSynthesis: false });
      // Asset hashes depend on the context the bundles were staged with, not on the resources.
      return JSON.stringify(assembly.getStackByName(stack.stackName).template).replace(
        /[a-f0-9]{64}/g,
        'HASH',
      );
    };
    expect(template(true)).toBe(template(false));
  });
});
