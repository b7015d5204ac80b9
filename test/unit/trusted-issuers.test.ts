import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambdas/config.js';
import { claimPattern } from '../../lambdas/core/federation/trusted-issuers.js';

/** DCR_TRUSTED_ISSUERS as the server reads it, and the claim patterns of its rules. */
const RESOURCE = 'https://mcp.example/api';
const ISSUER = 'https://token.actions.githubusercontent.com';
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
