import { describe, expect, it } from 'vitest';
import { MemoryGrantStore } from '../../lambdas/adapters/memory/memory-grant-store.js';
import { newTokenId } from '../../lambdas/core/secrets.js';
import {
  type ConnectedApp,
  ConnectedApps,
  type UserRevocationEvent,
} from '../../lambdas/core/tokens/connected-apps.js';
import type { GrantRecord, GrantStore } from '../../lambdas/core/tokens/ports.js';
import { connectedAppsPage } from '../../lambdas/http/account-pages.js';
import { FakeClock } from '../support/fakes.js';

const NOW = 1_800_000_000;
const SETTINGS = { refreshTokenIdleLifetimeSeconds: 3600, accessTokenLifetimeSeconds: 300 };
const CLIENT = 'https://app.example.com/client.json';

/** A store holding `sub`'s grant of `clientId`, filed under `filedAs` (its user, normally). */
async function grantOf(
  store: GrantStore,
  sub: string,
  overrides: Partial<GrantRecord> = {},
  filedAs = sub,
) {
  const grant: GrantRecord = {
    grantId: newTokenId(),
    clientId: CLIENT,
    sub,
    scope: 'mcp:tools',
    resources: ['https://mcp.example.com/mcp'],
    authTime: NOW - 100,
    createdAt: NOW - 100,
    absoluteExpiresAt: NOW + 86_400,
    lastUsedAt: NOW - 50,
    generation: 1,
    currentHash: 'hash',
    previousHashes: [],
    ...overrides,
  };
  await store.recordUserGrant(
    {
      sub: filedAs,
      grantId: grant.grantId,
      clientId: grant.clientId,
      clientName: 'App',
      redirectUri: 'http://127.0.0.1:5000/cb',
      createdAt: grant.createdAt,
    },
    NOW + 86_400,
  );
  await store.createGrant(grant, NOW + 3600);
  return grant;
}

describe('ConnectedApps', () => {
  const setUp = () => {
    const store: GrantStore = new MemoryGrantStore();
    const events: UserRevocationEvent[] = [];
    const apps = new ConnectedApps(store, new FakeClock(NOW), SETTINGS, (e) => events.push(e));
    return { store, apps, events };
  };

  it('lists the user’s live grants only, the most recently used first', async () => {
    const { store, apps } = setUp();
    const older = await grantOf(store, 'dev:alice', { lastUsedAt: NOW - 60 });
    const newer = await grantOf(store, 'dev:alice', { lastUsedAt: NOW - 10 });
    const revoked = await grantOf(store, 'dev:alice');
    await store.revokeGrant(revoked.grantId, NOW - 1, NOW + 360);
    // Idle past its lifetime, another user's, and one filed under Alice but Bob's.
    await grantOf(store, 'dev:alice', { lastUsedAt: NOW - 3600 });
    await grantOf(store, 'dev:bob');
    await grantOf(store, 'dev:bob', {}, 'dev:alice');
    // Filed, but its code was never redeemed: no grant.
    await store.recordUserGrant(
      {
        sub: 'dev:alice',
        grantId: newTokenId(),
        clientId: CLIENT,
        redirectUri: 'myapp:/cb',
        createdAt: NOW,
      },
      NOW + 60,
    );
    const listed = await apps.list('dev:alice');
    expect(listed.map((a) => a.grantId)).toEqual([newer.grantId, older.grantId]);
    expect(listed[0]).toEqual({
      grantId: newer.grantId,
      clientId: CLIENT,
      clientName: 'App',
      redirectTarget: '127.0.0.1:5000',
      scopes: ['mcp:tools'],
      resources: ['https://mcp.example.com/mcp'],
      firstUsedAt: NOW - 100,
      lastUsedAt: NOW - 10,
    });
  });

  it('revokes one grant of the user: not their other grant of the same client, nor anyone else’s', async () => {
    const { store, apps, events } = setUp();
    const mine = await grantOf(store, 'dev:alice');
    const sibling = await grantOf(store, 'dev:alice');
    const bobs = await grantOf(store, 'dev:bob');
    expect(await apps.revoke('dev:alice', bobs.grantId)).toBe(false);
    expect(await apps.revoke('dev:alice', 'not a grant id')).toBe(false);
    expect(events).toEqual([]);
    expect(await apps.revoke('dev:alice', mine.grantId)).toBe(true);
    expect((await store.getGrant(mine.grantId))?.revokedAt).toBe(NOW);
    expect((await store.getGrant(sibling.grantId))?.revokedAt).toBeUndefined();
    expect((await store.getGrant(bobs.grantId))?.revokedAt).toBeUndefined();
    expect(events).toEqual([
      {
        type: 'grant.revoked_by_user',
        sub: 'dev:alice',
        client_id: CLIENT,
        grant_id: mine.grantId,
        occurred_at: NOW,
      },
    ]);
    // Once revoked, there is nothing left to revoke.
    expect(await apps.revoke('dev:alice', mine.grantId)).toBe(false);
  });
});

describe('the connected-apps page', () => {
  const app = (overrides: Partial<ConnectedApp> = {}): ConnectedApp => ({
    grantId: 'g'.repeat(22),
    clientId: CLIENT,
    clientName: 'App',
    redirectTarget: '127.0.0.1:5000',
    scopes: ['mcp:tools'],
    resources: [],
    firstUsedAt: NOW,
    lastUsedAt: NOW + 60,
    ...overrides,
  });
  const render = (apps: ConnectedApp[], revoked = false) => {
    const { body, ...response } = connectedAppsPage({
      user: { sub: 'dev:<alice>', authTime: NOW },
      apps,
      defaultResource: 'https://issuer.example',
      action: 'https://issuer.example/account',
      csrf: 'csrf-token',
      revoked,
    });
    return { ...response, body: String(body) };
  };

  it('escapes hostile client names and ids, and marks the name as the client’s own claim', () => {
    const hostile = '</h2><script>alert(1)</script><img src=x onerror=alert(2)>"\'';
    const { body, headers } = render([
      app({ clientName: hostile, clientId: 'x"><script>alert(3)</script>' }),
    ]);
    expect(body).not.toMatch(/<script|<img|onerror=alert\(2\)>/);
    expect(body).toContain(
      '&lt;/h2&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&quot;&#39;',
    );
    expect(body).toContain('x&quot;&gt;&lt;script&gt;alert(3)&lt;/script&gt;');
    expect(body).toContain('dev:&lt;alice&gt;');
    expect(body).toContain('A name the application chose for itself; not verified.');
    expect(headers['content-security-policy']).toContain("default-src 'none'");
    expect(headers['content-security-policy']).not.toContain('script-src');
  });

  it('shows each grant with its own Revoke form, carrying the grant and the CSRF token', () => {
    const { body, status } = render([
      app(),
      app({ grantId: 'h'.repeat(22), clientName: undefined, scopes: [], lastUsedAt: NOW }),
    ]);
    expect(status).toBe(200);
    expect(body).toContain('<title>Connected apps</title>');
    const forms = [...body.matchAll(/<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/g)];
    expect(forms.map((f) => f[1])).toEqual([
      'https://issuer.example/account',
      'https://issuer.example/account',
    ]);
    for (const [i, id] of ['g'.repeat(22), 'h'.repeat(22)].entries()) {
      const form = forms[i]?.[2] ?? '';
      expect(form).toContain(`<input type="hidden" name="grant" value="${id}">`);
      expect(form).toContain('<input type="hidden" name="csrf" value="csrf-token">');
      expect(form).toContain(`aria-describedby="app-${id}">Revoke</button>`);
    }
    // No name: the metadata document's host; no resource: the default audience.
    expect(body).toContain('An application that gave no name (<code>app.example.com</code>)');
    expect(body).toContain('<code>https://issuer.example</code>');
    expect(body).toContain('no particular scope');
    expect(body).toContain('<time datetime="2027-01-15T08:00:00.000Z">2027-01-15 08:00 UTC</time>');
    expect(body).not.toContain('Access revoked');
  });

  it('says when nothing is connected, and when a revocation just happened', () => {
    const { body } = render([], true);
    expect(body).toContain('No application is connected to your account.');
    expect(body).toContain('Access revoked.');
    expect(body).not.toContain('<form');
  });
});
