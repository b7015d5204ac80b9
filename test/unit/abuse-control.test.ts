import { describe, expect, it } from 'vitest';
import { MemoryRegistrationCounter } from '../../lambdas/adapters/memory/memory-registration-counter.js';
import { loadConfig } from '../../lambdas/config.js';
import { OAuthError, temporarilyUnavailable } from '../../lambdas/core/errors.js';
import {
  assertRedirectsAllowed,
  DEFAULT_PRIVATE_USE_SCHEMES,
  DEFAULT_REDIRECT_HOSTS,
  hostMatches,
  hostPatternProblem,
  parseRateLimit,
  type RedirectPolicy,
  RegistrationRateLimiter,
  rateLimitKey,
  sourceKey,
  windowOf,
} from '../../lambdas/core/registration/abuse-control.js';
import { FakeClock } from '../support/fakes.js';

describe('rate limit setting', () => {
  it.each([
    ['off', undefined],
    ['OFF', undefined],
    ['3/60', { limit: 3, windowSeconds: 60 }],
    ['120/3600', { limit: 120, windowSeconds: 3600 }],
    [' 10 / 86400 ', { limit: 10, windowSeconds: 86_400 }],
  ])('%s', (value, expected) => {
    expect(parseRateLimit(value)).toEqual(expected);
  });

  it.each(['', '10', '10/', '/60', '0/60', '10/0', '10/86401', '-1/60', '1.5/60', '10 per hour'])(
    'refuses %j',
    (value) => {
      expect(typeof parseRateLimit(value)).toBe('string');
    },
  );

  it('is off by default locally and fails fast when malformed', () => {
    expect(loadConfig({}).registrationRateLimit).toBeUndefined();
    expect(loadConfig({ DCR_REGISTRATION_RATE_LIMIT: '5/10' }).registrationRateLimit).toEqual({
      limit: 5,
      windowSeconds: 10,
    });
    expect(() => loadConfig({ DCR_REGISTRATION_RATE_LIMIT: 'lots' })).toThrow(
      /DCR_REGISTRATION_RATE_LIMIT: must be N\/SECONDS/,
    );
  });
});

describe('windows', () => {
  it.each([
    [1_800_000_000, 60, 1_800_000_000, 1_800_000_060],
    [1_800_000_059, 60, 1_800_000_000, 1_800_000_060],
    [1_800_000_060, 60, 1_800_000_060, 1_800_000_120],
    [1_800_001_234, 3600, 1_800_000_000, 1_800_003_600],
  ])('%i in windows of %i s: [%i, %i)', (now, length, start, end) => {
    expect(windowOf(now, length)).toEqual({ start, end });
  });
});

describe('source keys', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['203.0.113.007', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['::ffff:cb00:7107', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
    ['2001:DB8:0001:0002::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['[2001:db8:1:2::9]', '2001:db8:1:2::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    [undefined, 'unknown'],
    ['', 'unknown'],
    ['999.1.1.1', 'unknown'],
    ['2001:db8:::1', 'unknown'],
    ['not an address', 'unknown'],
  ])('%s counts as %s', (ip, key) => {
    expect(sourceKey(ip)).toBe(key);
  });

  it('names the window in the item key', () => {
    expect(rateLimitKey(sourceKey('2001:db8:1:2::9'), 1_800_000_000)).toBe(
      'ratelimit#2001:db8:1:2::/64#1800000000',
    );
  });
});

describe('RegistrationRateLimiter', () => {
  const limiter = (clock: FakeClock, counter = new MemoryRegistrationCounter(clock)) =>
    new RegistrationRateLimiter(counter, clock, { limit: 3, windowSeconds: 60 });

  it('admits N per window and source, then 429 with Retry-After until the window ends', async () => {
    const clock = new FakeClock(1_800_000_010);
    const limit = limiter(clock);
    for (let i = 0; i < 3; i++) await limit.admit('203.0.113.7');
    const refused = await limit.admit('203.0.113.7').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OAuthError);
    expect(refused).toMatchObject({
      status: 429,
      error: 'too_many_requests',
      headers: { 'retry-after': '50' },
    });
    // Another source, and the same /64 under another address.
    await limit.admit('203.0.113.8');
    for (let i = 0; i < 3; i++) await limit.admit(`2001:db8::${i}`);
    await expect(limit.admit('2001:db8::ffff')).rejects.toMatchObject({ status: 429 });
    // The next window starts afresh.
    clock.advance(50);
    await limit.admit('203.0.113.7');
  });

  it('fails open when the counter store is unavailable (503), and says so', async () => {
    const clock = new FakeClock();
    const seen: OAuthError[] = [];
    const limit = new RegistrationRateLimiter(
      {
        hit: async () => {
          throw temporarilyUnavailable('the registration counter is busy; retry shortly');
        },
      },
      clock,
      { limit: 1, windowSeconds: 60 },
      (error) => seen.push(error),
    );
    await limit.admit('203.0.113.7');
    await limit.admit('203.0.113.7');
    expect(seen).toHaveLength(2);
  });

  it('lets any other failure through (a bug or a missing permission is not hidden)', async () => {
    const limit = new RegistrationRateLimiter(
      {
        hit: async () => {
          throw new Error('AccessDeniedException');
        },
      },
      new FakeClock(),
      { limit: 1, windowSeconds: 60 },
    );
    await expect(limit.admit('203.0.113.7')).rejects.toThrow('AccessDeniedException');
  });
});

describe('MemoryRegistrationCounter', () => {
  it('drops counters after their window and stays within its bound', async () => {
    const clock = new FakeClock(1000);
    const counter = new MemoryRegistrationCounter(clock, 3);
    expect(await counter.hit('a', 1060)).toBe(1);
    expect(await counter.hit('a', 1060)).toBe(2);
    clock.advance(60);
    expect(await counter.hit('a', 1120)).toBe(1);
    for (const key of ['b', 'c', 'd', 'e']) await counter.hit(key, 1120);
    expect(counter.size).toBe(3);
  });
});

describe('host patterns', () => {
  it.each([
    ['claude.ai', 'claude.ai', true],
    ['claude.ai', 'CLAUDE.AI', true],
    ['claude.ai', 'claude.ai.', true],
    ['claude.ai', 'www.claude.ai', false],
    ['claude.ai', 'evilclaude.ai', false],
    ['claude.ai', 'claude.ai.evil.example', false],
    ['*.example.com', 'a.example.com', true],
    ['*.example.com', 'a.b.example.com', true],
    ['*.example.com', 'example.com', false],
    ['*.example.com', 'aexample.com', false],
    ['*.example.com', 'a.example.com.evil.net', false],
  ])('%s vs %s: %s', (pattern, host, expected) => {
    expect(hostMatches(pattern, host)).toBe(expected);
  });

  it.each(['*', '*.com', 'a.*.com', 'https://claude.ai', 'claude.ai:443', 'Claude.ai', 'a_b.com'])(
    'refuses the pattern %j',
    (pattern) => {
      expect(hostPatternProblem(pattern)).toEqual(expect.any(String));
    },
  );

  it.each(['claude.ai', '*.example.com', 'localhost', 'a-b.example'])('accepts %j', (pattern) => {
    expect(hostPatternProblem(pattern)).toBeUndefined();
  });
});

describe('redirect policy of anonymous clients', () => {
  const defaults: RedirectPolicy = {
    hosts: DEFAULT_REDIRECT_HOSTS,
    schemes: new Set(DEFAULT_PRIVATE_USE_SCHEMES),
  };

  it.each([
    'http://127.0.0.1:33418/callback',
    'http://localhost:6274/oauth/callback',
    'http://[::1]/cb',
    'https://claude.ai/api/mcp/auth_callback',
    'https://claude.com/api/mcp/auth_callback',
    'https://vscode.dev/redirect',
    'https://insiders.vscode.dev/redirect',
    'https://chatgpt.com/connector_platform_oauth_redirect',
    'https://www.cursor.com/agents/mcp/oauth/callback',
    'cursor://anysphere.cursor-retrieval/oauth/user-x/callback',
  ])('the defaults admit %s', (uri) => {
    expect(() => assertRedirectsAllowed(defaults, [uri])).not.toThrow();
  });

  it.each([
    'https://evil.example/cb',
    'https://claude.ai.evil.example/cb',
    'com.example.app:/callback',
  ])('the defaults refuse %s, naming it', (uri) => {
    expect(() => assertRedirectsAllowed(defaults, ['http://127.0.0.1/cb', uri])).toThrow(
      expect.objectContaining({
        status: 400,
        error: 'invalid_redirect_uri',
        description: expect.stringContaining(uri),
      }),
    );
  });

  it('`any` keeps every https host and scheme', () => {
    const open: RedirectPolicy = { hosts: 'any', schemes: 'any' };
    expect(() =>
      assertRedirectsAllowed(open, ['https://evil.example/cb', 'com.example.app:/cb']),
    ).not.toThrow();
  });

  it('is configured by DCR_REDIRECT_HOSTS and DCR_PRIVATE_USE_SCHEMES', () => {
    expect(loadConfig({}).redirectPolicy.hosts).toEqual(DEFAULT_REDIRECT_HOSTS);
    const config = loadConfig({
      DCR_REDIRECT_HOSTS: 'App.Example.com, *.example.org',
      DCR_PRIVATE_USE_SCHEMES: '*',
    });
    expect(config.redirectPolicy).toEqual({
      hosts: ['app.example.com', '*.example.org'],
      schemes: 'any',
    });
    expect(loadConfig({ DCR_REDIRECT_HOSTS: 'any' }).redirectPolicy.hosts).toBe('any');
    expect(() => loadConfig({ DCR_REDIRECT_HOSTS: 'https://x.example' })).toThrow(
      /DCR_REDIRECT_HOSTS/,
    );
    expect(() => loadConfig({ DCR_PRIVATE_USE_SCHEMES: 'https' })).toThrow(
      /DCR_PRIVATE_USE_SCHEMES/,
    );
  });
});
