import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambdas/config.js';
import { type LocalApp, startLocalApp } from '../../local/app.js';
import { capturingLogs } from '../support/faults.js';
import { publicClientGrants } from '../support/interactive.js';
import { jsonPost, readJson } from '../support/server.js';

/**
 * What the operator sees of refresh token reuse (docs/tokens.md "Concurrent refreshes"): one
 * structured line per absorbed reuse (info) and per family revoked by a reuse (warn), naming the
 * client, the user and the family's generation, never a token.
 */
const REDIRECT = 'http://127.0.0.1:8765/callback';

let app: LocalApp;

beforeAll(async () => {
  app = await startLocalApp(loadConfig({ PORT: '0', DCR_DEV_USERS: 'alice' }), {
    store: 'memory',
  });
});
afterAll(() => app.close());

describe('refresh token reuse in the logs', () => {
  it('an absorbed reuse is an info line, a family revoked by reuse a warn line', async () => {
    const registered = await readJson(
      await jsonPost(`${app.issuer}/register`, {
        redirect_uris: [REDIRECT],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'none',
      }),
    );
    const grants = await publicClientGrants(app.issuer, registered.client_id, REDIRECT);
    const parent = (await readJson(await grants.redeem(await grants.signIn()))).refresh_token;
    const { lines } = await capturingLogs(async () => {
      const successor = (await readJson(await grants.refresh(parent))).refresh_token;
      expect((await grants.refresh(parent)).status).toBe(200);
      expect((await grants.refresh(successor)).status).toBe(200);
      expect((await grants.refresh(parent)).status).toBe(400);
    });
    const reuses = lines.filter((l) => l.message.startsWith('refresh.'));
    const audit = { client_id: registered.client_id, sub: 'dev:alice' };
    expect(reuses).toEqual([
      {
        level: 'info',
        message: 'refresh.reuse_absorbed',
        attributes: { audit: expect.objectContaining({ ...audit, generation: 2 }) },
      },
      {
        level: 'warn',
        message: 'refresh.family_revoked_by_reuse',
        attributes: { audit: expect.objectContaining({ ...audit, generation: 3 }) },
      },
    ]);
    expect(JSON.stringify(reuses)).not.toContain(parent.split('.')[1]);
  });
});
