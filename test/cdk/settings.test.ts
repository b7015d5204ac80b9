import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { type DeployedFunction, SETTINGS, type Setting } from '../../lambdas/settings.js';
import { ServerlessDcrStack } from '../../lib/serverless-dcr-stack.js';

const FUNCTIONS: DeployedFunction[] = [
  'discovery',
  'jwks',
  'register',
  'client-configuration',
  'token',
  'introspect',
  'revoke',
  'authorize',
  'admin',
  'cleanup',
  'audit',
  'key-rotation',
];

/** What every function gets besides the settings: the runtime's and Powertools' own. */
const NOT_SETTINGS = ['NODE_OPTIONS', 'POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_METRICS_NAMESPACE'];

/** Each function's variables in the template, by function name. */
function environments(context: Record<string, unknown>): Map<DeployedFunction, string[]> {
  const app = new App({
    context: { 'aws:cdk:bundling-stacks': [], ...context },
    builtinCloudFormationValidation: false,
  } as ConstructorParameters<typeof App>[0]);
  const template = Template.fromStack(new ServerlessDcrStack(app, 'Test'));
  const found = new Map<DeployedFunction, string[]>();
  for (const [id, fn] of Object.entries(template.findResources('AWS::Lambda::Function'))) {
    const name = FUNCTIONS.find((f) => id.startsWith(`Function${f.replace(/-/g, '')}Function`));
    if (name === undefined) continue;
    found.set(name, Object.keys(fn.Properties.Environment?.Variables ?? {}));
  }
  return found;
}

/** The variables the settings table lets a function receive. */
function receivable(fn: DeployedFunction): string[] {
  return Object.values(SETTINGS as Record<string, Setting>)
    .filter(
      (s) =>
        s.receivedBy === 'every function' ||
        s.receivedBy === 'functions with a key' ||
        (Array.isArray(s.receivedBy) && s.receivedBy.includes(fn)),
    )
    .map((s) => s.env as string);
}

describe('the functions’ environments', () => {
  it.each([
    ['the default deployment', {}],
    ['the wrapped signing mode', { 'dcr:signingMode': 'wrapped' }],
    [
      'an operator’s upstream, abuse control and a software_id cap',
      {
        'dcr:upstreamIssuer': 'https://login.example.com',
        'dcr:upstreamClientId': 'dcr-client',
        'dcr:upstreamClientSecretArn':
          'arn:aws:secretsmanager:eu-west-1:123456789012:secret:dcr-upstream-AbCdEf',
        'dcr:redirectHosts': 'app.example.com',
        'dcr:softwareIdMaxActiveClients': 5,
      },
    ],
  ])('hold only variables the settings table gives each function: %s', (_, context) => {
    const found = environments(context);
    expect(found.size).toBeGreaterThan(9);
    for (const [fn, variables] of found) {
      const allowed = new Set([...NOT_SETTINGS, ...receivable(fn)]);
      expect(
        variables.filter((v) => !allowed.has(v)),
        fn,
      ).toEqual([]);
    }
  });
});
