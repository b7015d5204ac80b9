import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * examples/platform-app: a platform team's CDK app that imports the construct by the package's
 * name and puts it in its own stack with props, synthesized offline as the CDK CLI runs it (its
 * cdk-nag checks included; bundling skipped: the bundles are judged on the synthesized stack).
 */
const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const outdir = mkdtempSync(join(tmpdir(), 'dcr-platform-app-'));
let template: Template;

/** Runs a CDK app's entry as the CLI does, its template synthesized into `out`. */
const synthesize = (entry: string, cwd: string, out: string) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', entry], {
    cwd,
    env: {
      ...process.env,
      AWS_REGION: 'eu-west-1',
      CDK_OUTDIR: out,
      CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:bundling-stacks': [] }),
      CDK_VALIDATION: 'false',
    },
  });

beforeAll(async () => {
  await synthesize('examples/platform-app/app.ts', projectRoot, outdir);
  template = Template.fromJSON(
    JSON.parse(readFileSync(join(outdir, 'Platform.template.json'), 'utf8')),
  );
});
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('the platform team’s app', () => {
  it('hands its props to the functions as the settings’ variables', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          DCR_REGISTRATION_ACCESS: 'initial_access_token,software_statement',
          DCR_REGISTRATION_TIERS: JSON.stringify({
            initial_access_token: { max_client_lifetime_seconds: 2592000 },
            software_statement: { max_client_lifetime_seconds: 2592000 },
          }),
          DCR_RESOURCES: 'https://tools.example.com/mcp https://search.example.com/mcp',
          DCR_ALLOWED_SCOPES: 'mcp:tools mcp:admin',
          DCR_ACCESS_TOKEN_LIFETIME_SECONDS: '300',
        }),
      },
      TracingConfig: { Mode: 'Active' },
    });
  });

  it('applies the deployment’s own props: log retention, the alarm address', () => {
    const retentions = Object.values(template.findResources('AWS::Logs::LogGroup')).map(
      (group) => group.Properties.RetentionInDays,
    );
    expect(new Set(retentions)).toEqual(new Set([90]));
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'platform-oncall@example.com',
    });
  });

  it('publishes the construct’s issuer in its own resources', () => {
    const [apiId] = Object.keys(template.findResources('AWS::ApiGatewayV2::Api'));
    expect(apiId).toMatch(/^AuthHttpApi/);
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/platform/auth/issuer',
      Value: { 'Fn::GetAtt': [apiId, 'ApiEndpoint'] },
    });
  });
});

describe('the platform team’s own project, with this package installed as a dependency', () => {
  it('synthesizes: the package is a copy without its lock file, as npm installs it from Git', async () => {
    // The platform's project: its lock file, its app, and node_modules as npm lays it out (one
    // copy of each dependency, shared; here links to this checkout's), with serverless-dcr a copy
    // of what npm packs from Git (never package-lock.json).
    const project = join(outdir, 'platform-project');
    const modules = join(project, 'node_modules');
    mkdirSync(modules, { recursive: true });
    for (const name of readdirSync(join(projectRoot, 'node_modules'))) {
      if (name !== '.bin' && name !== 'serverless-dcr')
        symlinkSync(join(projectRoot, 'node_modules', name), join(modules, name));
    }
    const installed = join(modules, 'serverless-dcr');
    for (const part of ['package.json', 'lib', 'lambdas', 'resource-server'])
      cpSync(join(projectRoot, part), join(installed, part), { recursive: true });
    expect(existsSync(join(installed, 'package-lock.json'))).toBe(false);
    cpSync(join(projectRoot, 'examples/platform-app'), project, { recursive: true });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(join(project, 'package-lock.json'), JSON.stringify({ lockfileVersion: 3 }));
    const out = join(project, 'cdk.out');
    await synthesize('app.ts', project, out);
    const synthesized = JSON.parse(readFileSync(join(out, 'Platform.template.json'), 'utf8'));
    expect(Object.keys(synthesized.Resources)).toContain('Issuer1D70E51A');
  });
});
