import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambdas/config.js';
import { type LocalApp, startLocalApp } from '../../local/app.js';

/**
 * The local admin API's credential (THREATS.md O2): closed while DCR_ADMIN_TOKEN is unset,
 * whatever is presented; the token at least 32 characters; only that token opens it.
 */
const TOKEN = 'local-admin-token-0123456789-abcdefghijklmnop';
const clients = (app: LocalApp, authorization?: string) =>
  fetch(`${app.issuer}/admin/clients`, {
    headers: authorization === undefined ? {} : { authorization },
  });

describe('the local admin token', () => {
  let closed: LocalApp;
  let open: LocalApp;
  beforeAll(async () => {
    closed = await startLocalApp(loadConfig({ PORT: '0' }), { store: 'memory' });
    open = await startLocalApp(loadConfig({ PORT: '0', DCR_ADMIN_TOKEN: TOKEN }), {
      store: 'memory',
    });
  });
  afterAll(async () => {
    await closed.close();
    await open.close();
  });

  it('unset: the admin API is closed to every credential, the would-be token included', async () => {
    for (const authorization of [undefined, `Bearer ${TOKEN}`, 'Bearer x', 'Basic YTpi']) {
      const response = await clients(closed, authorization);
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: expect.any(String) });
    }
  });

  it('set: only that token opens it', async () => {
    expect((await clients(open, `Bearer ${TOKEN}`)).status).toBe(200);
    for (const authorization of [undefined, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`]) {
      expect((await clients(open, authorization)).status).toBe(401);
    }
  });

  it('shorter than 32 characters: the server does not start', () => {
    expect(() => loadConfig({ DCR_ADMIN_TOKEN: 'x'.repeat(31) })).toThrow(
      /DCR_ADMIN_TOKEN: must be at least 32 characters/,
    );
  });
});
