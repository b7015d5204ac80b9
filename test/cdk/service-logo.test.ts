import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { DeployedLambda } from '../../lib/constructs/deployed-lambda.js';
import { ServerlessDcrStack } from '../../lib/serverless-dcr-stack.js';

/**
 * The operator's logo in AWS: a file at synth, copied into the bundles of the functions that
 * serve it (Lambda's working directory), their variable naming the copy; never the file's
 * content in a variable (Lambda's environment holds 4 KB in all).
 */
const dir = mkdtempSync(join(tmpdir(), 'dcr-logo-'));
const LOGO = join(dir, 'logo.png');
const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.alloc(64, 7),
]);
writeFileSync(LOGO, PNG);

const app = (outdir?: string) =>
  new App({
    ...(outdir && { outdir }),
    context: { 'aws:cdk:bundling-stacks': outdir ? ['*'] : [] },
    builtinCloudFormationValidation: false,
  } as ConstructorParameters<typeof App>[0]);

describe('DCR_SERVICE_LOGO in the stack', () => {
  it('gives the authorize function the name of its bundled copy, and no other function the logo', () => {
    const scope = app();
    scope.node.setContext('dcr:serviceLogo', LOGO);
    const template = Template.fromStack(new ServerlessDcrStack(scope, 'Test'));
    const holders = Object.entries(template.findResources('AWS::Lambda::Function'))
      .filter(([, fn]) => fn.Properties.Environment?.Variables?.DCR_SERVICE_LOGO !== undefined)
      .map(([id, fn]) => [
        id.replace(/Function[0-9A-F]{8}$/, ''),
        fn.Properties.Environment.Variables.DCR_SERVICE_LOGO,
      ]);
    expect(holders).toEqual([['Functionauthorize', 'service-logo']]);
  });

  it('copies the files a function is given into its bundle', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'dcr-cdk-'));
    const scope = app(outdir);
    const stack = new Stack(scope, 'Logo');
    new DeployedLambda(stack, 'Authorize', {
      entry: 'authorize',
      environment: {},
      logRetention: RetentionDays.ONE_DAY,
      files: { 'service-logo': LOGO },
    });
    scope.synth();
    const assets = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
    const bundled = assets.flatMap((asset) =>
      readdirSync(join(outdir, asset)).includes('service-logo')
        ? [readFileSync(join(outdir, asset, 'service-logo'))]
        : [],
    );
    expect(bundled).toEqual([PNG]);
  });
});
