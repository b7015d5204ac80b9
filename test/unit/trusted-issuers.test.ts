import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambdas/config.js';
import { claimMatcher, claimPattern } from '../../lambdas/core/federation/trusted-issuers.js';

/** DCR_TRUSTED_ISSUERS as the server reads it, and the claim patterns of its rules. */
const RESOURCE = 'https://mcp.example/api';
const ISSUER = 'https://token.actions.githubusercontent.com';
/** The namespace of the AWS-specific claims of IAM outbound identity federation tokens. */
const STS = 'https://sts.amazonaws.com/';
const rule = { claims: { sub: 'repo:acme/app:ref:refs/heads/main' }, resources: [RESOURCE] };

const load =
  (issuers: unknown, env: Record<string, string> = {}) =>
  () =>
    loadConfig({
      DCR_RESOURCES: RESOURCE,
      DCR_ALLOWED_SCOPES: 'tools:read',
      DCR_TRUSTED_ISSUERS: typeof issuers === 'string' ? issuers : JSON.stringify(issuers),
      ...env,
    });
const withIssuer = (settings: Record<string, unknown>) => ({
  [ISSUER]: {
    kind: 'workload',
    jwks_uri: `${ISSUER}/.well-known/jwks`,
    rules: [rule],
    ...settings,
  },
});

describe('DCR_TRUSTED_ISSUERS', () => {
  it('reads an issuer: its kind, key source, default asymmetric algorithms and ordered rules', () => {
    const second = { claims: { sub: 'repo:acme/*:ref:refs/heads/main' }, resources: [RESOURCE] };
    const issuers = load(withIssuer({ rules: [{ ...rule, scope: 'tools:read' }, second] }))()
      .trustedIssuers;
    const github = issuers.get(ISSUER);
    expect(github).toMatchObject({ kind: 'workload', jwksUri: `${ISSUER}/.well-known/jwks` });
    expect(github?.algorithms).toContain('RS256');
    expect(github?.algorithms).not.toContain('HS256');
    expect(github?.rules).toEqual([{ ...rule, scope: 'tools:read' }, second]);
  });

  it('reads a rule matching members of an object claim', () => {
    const aws = { claims: { [STS]: { aws_account: '123456789012' } }, resources: [RESOURCE] };
    expect(load(withIssuer({ rules: [aws] }))().trustedIssuers.get(ISSUER)?.rules).toEqual([aws]);
  });

  it('is empty when unset', () => {
    expect(loadConfig({}).trustedIssuers.size).toBe(0);
  });

  it.each([
    ['not JSON', '{', /DCR_TRUSTED_ISSUERS.*must be JSON/],
    ['an http issuer', { 'http://ci.example': withIssuer({})[ISSUER] }, /https URL/],
    ['an issuer with a fragment', { 'https://ci.example#x': withIssuer({})[ISSUER] }, /fragment/],
    ['an unknown kind', withIssuer({ kind: 'saml' }), /kind/],
    ['no key source', withIssuer({ jwks_uri: undefined }), /give jwks or jwks_uri/],
    [
      'both key sources',
      withIssuer({ jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b' }] } }),
      /give jwks or jwks_uri/,
    ],
    ['an http jwks_uri', withIssuer({ jwks_uri: 'http://ci.example/jwks' }), /https URL/],
    [
      'a private key',
      withIssuer({ jwks_uri: undefined, jwks: { keys: [{ kty: 'EC', d: 'secret' }] } }),
      /public keys only/,
    ],
    ['a symmetric algorithm', withIssuer({ algorithms: ['HS256'] }), /algorithms/],
    ['no rules', withIssuer({ rules: [] }), /rules/],
    [
      'a rule without claims',
      withIssuer({ rules: [{ ...rule, claims: {} }] }),
      /at least one claim/,
    ],
    [
      'a rule of wildcards only',
      withIssuer({ rules: [{ ...rule, claims: { sub: '**', repository: '*' } }] }),
      /more than a wildcard/,
    ],
    [
      'a rule of wildcards only, within an object claim',
      withIssuer({ rules: [{ ...rule, claims: { [STS]: { aws_account: '*', org_id: '**' } } }] }),
      /more than a wildcard/,
    ],
    [
      'an object pattern naming no member',
      withIssuer({ rules: [{ ...rule, claims: { sub: 'x', [STS]: {} } }] }),
      /at least one claim/,
    ],
    [
      'object patterns nested too deep',
      withIssuer({ rules: [{ ...rule, claims: { a: { b: { c: { d: 'x' } } } } }] }),
      /nest object patterns at most 2 deep/,
    ],
    [
      'a pattern neither a string nor an object',
      withIssuer({ rules: [{ ...rule, claims: { sub: 7 } }] }),
      /claims/,
    ],
    ['a rule without resources', withIssuer({ rules: [{ ...rule, resources: [] }] }), /resources/],
    [
      'a resource the server does not serve',
      withIssuer({ rules: [{ ...rule, resources: ['https://elsewhere.example'] }] }),
      /does not serve: https:\/\/elsewhere\.example/,
    ],
    [
      'a scope the server does not offer',
      withIssuer({ rules: [{ ...rule, scope: 'tools:read admin' }] }),
      /does not serve: admin/,
    ],
    ['an unknown member', withIssuer({ audience: 'x' }), /audience/],
  ])('refuses %s at start-up, saying why', (_, issuers, says) => {
    expect(load(issuers)).toThrow(says);
  });
});

describe('DCR_ASSERTION_MAX_LIFETIME_SECONDS', () => {
  it('is an hour by default (Kubernetes projected tokens live an hour), and bounded', () => {
    expect(loadConfig({}).assertionMaxLifetimeSeconds).toBe(3600);
    expect(
      loadConfig({ DCR_ASSERTION_MAX_LIFETIME_SECONDS: '300' }).assertionMaxLifetimeSeconds,
    ).toBe(300);
    expect(() => loadConfig({ DCR_ASSERTION_MAX_LIFETIME_SECONDS: '0' })).toThrow(/60 to 86400/);
  });
});

describe('claim patterns', () => {
  it.each([
    ['repo:acme/app:ref:refs/heads/main', 'repo:acme/app:ref:refs/heads/main', true],
    ['repo:acme/app:ref:refs/heads/main', 'repo:acme/app:ref:refs/heads/mainx', false],
    // `*`: one or more characters within one segment (no `/`, no `:`).
    ['repo:acme/*:ref:refs/heads/main', 'repo:acme/tools:ref:refs/heads/main', true],
    ['repo:acme/*:ref:refs/heads/main', 'repo:acme/a/b:ref:refs/heads/main', false],
    ['repo:acme/*:ref:refs/heads/main', 'repo:acme/:ref:refs/heads/main', false],
    ['repo:acme/*', 'repo:acme/app:ref:refs/heads/main', false],
    ['repo:acme/app:ref:refs/heads/*', 'repo:acme/app:ref:refs/heads/feature/x', false],
    // `**`: one or more of any character.
    ['repo:acme/app:ref:refs/heads/**', 'repo:acme/app:ref:refs/heads/feature/x', true],
    ['repo:acme/app:**', 'repo:acme/app:pull_request', true],
    ['spiffe://prod.example/ns/agents/sa/*', 'spiffe://prod.example/ns/agents/sa/crawler', true],
    ['spiffe://prod.example/ns/agents/sa/*', 'spiffe://prod.example/ns/agents/sa/a/b', false],
    // Everything else is literal: regular expression syntax means nothing.
    ['a.b', 'axb', false],
    ['(x|y)', 'x', false],
    ['*', '', false],
  ])('%s against %s: %s', (pattern, value, matches) => {
    expect(claimPattern(pattern).test(value)).toBe(matches);
  });
});

describe('object claim patterns', () => {
  const role = {
    sub: 'arn:aws:iam::123456789012:role/agent-runner',
    [STS]: {
      aws_account: '123456789012',
      source_region: 'eu-west-1',
      principal_tags: { team: 'agents' },
      lambda_source_function_arn: 'arn:aws:lambda:eu-west-1:123456789012:function:crawler',
    },
  };
  const matches = (pattern: Record<string, unknown>, claims: unknown) =>
    claimMatcher(pattern as never)(claims);

  it('matches when every member matches, at any depth, other members ignored', () => {
    expect(matches({ [STS]: { aws_account: '123456789012' } }, role)).toBe(true);
    expect(
      matches(
        {
          sub: 'arn:aws:iam::123456789012:role/*',
          [STS]: { source_region: 'eu-*', principal_tags: { team: 'agents' } },
        },
        role,
      ),
    ).toBe(true);
  });

  it('refuses a member that differs, is absent, or has the other shape', () => {
    expect(matches({ [STS]: { aws_account: '210987654321' } }, role)).toBe(false);
    expect(matches({ [STS]: { org_id: '**' } }, role)).toBe(false);
    expect(matches({ [STS]: { principal_tags: 'agents' } }, role)).toBe(false);
    expect(matches({ [STS]: { source_region: { name: 'eu-west-1' } } }, role)).toBe(false);
    expect(matches({ [STS]: { aws_account: '*' } }, { [STS]: '123456789012' })).toBe(false);
    expect(matches({ [STS]: { 0: '*' } }, { [STS]: ['123456789012'] })).toBe(false);
    expect(matches({ [STS]: { aws_account: '*' } }, { [STS]: null })).toBe(false);
    expect(matches({ [STS]: { aws_account: '*' } }, {})).toBe(false);
  });

  it('keeps the glob rules within members: `*` crosses no `:`', () => {
    const fn = {
      [STS]: { lambda_source_function_arn: 'arn:aws:lambda:*:123456789012:function:*' },
    };
    expect(matches(fn, role)).toBe(true);
    const across = { [STS]: { lambda_source_function_arn: 'arn:aws:lambda:*:function:crawler' } };
    expect(matches(across, role)).toBe(false);
  });

  it('never reads inherited members', () => {
    expect(matches({ [STS]: { toString: '**' } }, { [STS]: {} })).toBe(false);
  });
});
