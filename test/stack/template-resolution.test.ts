import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { synthesizeStack } from '../support/synthesize.js';
import { stackFunctions } from '../support/synthesized-stack.js';

/**
 * The default deployment (a Cognito user pool as the upstream) resolves for a local run too:
 * its functions' environments name the pool, its client and the generated cookie key secret.
 */
describe('the default (Cognito) template, resolved for a local run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dcr-cognito-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  synthesizeStack(dir, { 'aws:cdk:bundling-stacks': [] });
  const functions = stackFunctions(dir);
  const env = (name: string) =>
    functions.find((fn) => fn.logicalId.startsWith(`Function${name}Function`))?.environment;

  it('gives every function the pool as the upstream, and authorize its cookie key secret', () => {
    for (const name of ['discovery', 'token', 'authorize']) {
      expect(env(name), name).toMatchObject({
        DCR_UPSTREAM_ISSUER: 'https://cognito-idp.local.amazonaws.com/local_UserPool',
        DCR_UPSTREAM_CLIENT_ID: 'local-user-pool-client',
      });
    }
    expect(env('authorize')?.DCR_COOKIE_KEY_SECRET_ARN).toMatch(
      /^arn:aws:secretsmanager:local:000000000000:secret:LoginCookieKey\w+-AbCdEf$/,
    );
    expect(env('discovery')).not.toHaveProperty('DCR_COOKIE_KEY_SECRET_ARN');
  });

  it("resolves the authorize role's secret statement to the same ARN", () => {
    const authorize = functions.find((fn) => fn.logicalId.startsWith('FunctionauthorizeFunction'));
    const secretStatements = (authorize?.statements ?? []).filter((st) =>
      [st.Action].flat().includes('secretsmanager:GetSecretValue'),
    );
    expect(secretStatements.map((st) => st.Resource)).toEqual([
      [authorize?.environment.DCR_COOKIE_KEY_SECRET_ARN],
    ]);
  });
});
