import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambdas/config.js';
import { logger } from '../../lambdas/log.js';
import { type LocalApp, startLocalApp } from '../../local/app.js';
import { hygieneSeen } from '../support/secret-hygiene.js';
import { findLeaks, secretsInResponse } from '../support/secret-leaks.js';
import { jsonPost, readJson } from '../support/server.js';

const SECRET = 'Qm9vbS1hLXNlY3JldC10aGF0LWlzLWxvbmctZW5vdWdoLTEyMw';
const JWT = `eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.${'s'.repeat(20)}SIGNATURE${'t'.repeat(20)}`;

describe('the secret hygiene check', () => {
  it('finds a secret anywhere in a line, masks it, and names its kind', () => {
    const leaks = findLeaks(
      [{ kind: 'client_secret', value: SECRET }],
      ['{"level":"INFO","message":"ok"}', `{"level":"DEBUG","auth":"Basic x:${SECRET}"}`],
    );
    expect(leaks).toEqual([
      { kind: 'client_secret', line: '{"level":"DEBUG","auth":"Basic x:«secret»"}' },
    ]);
  });

  it('knows a JWT by its signature and an initial access token by its secret part', () => {
    const token = `AAAAAAAAAAAAAAAAAAAAAA.${SECRET}`;
    expect(
      findLeaks(
        [
          { kind: 'access_token', value: JWT },
          { kind: 'initial_access_token', value: token },
        ],
        [`x ${JWT.split('.')[2]} y`, `{"token":"${SECRET}"}`],
      ).map((l) => l.kind),
    ).toEqual(['access_token', 'initial_access_token']);
  });

  it('does not take part of a longer run, or a short value, for a leak', () => {
    expect(
      findLeaks(
        [
          { kind: 'code', value: 'abc' },
          { kind: 'client_secret', value: SECRET },
        ],
        [`abc ${SECRET}XYZ`, `${SECRET.slice(0, 20)}`],
      ),
    ).toEqual([]);
  });

  it('reads the secrets a response hands out: JSON members at any depth, a redirect code, cookies', async () => {
    const response = new Response(
      JSON.stringify({ client_secret: 'one', nested: [{ refresh_token: 'two' }], name: 'n' }),
      {
        headers: [
          ['content-type', 'application/json'],
          ['location', 'https://client.example/cb?code=three&state=s'],
          ['set-cookie', 'dcr_session=four; HttpOnly; Path=/'],
        ],
      },
    );
    expect(await secretsInResponse(response)).toEqual([
      { kind: 'redirect code', value: 'three' },
      { kind: 'cookie', value: 'four' },
      { kind: 'client_secret', value: 'one' },
      { kind: 'refresh_token', value: 'two' },
    ]);
  });

  describe('sees what the suite produces', () => {
    let app: LocalApp;
    beforeAll(async () => {
      app = await startLocalApp(loadConfig({ PORT: '0' }), { store: 'memory' });
    });
    afterAll(() => app.close());

    it('the secrets a registration issues, its audit event and the log lines, not printed', async () => {
      const client = await readJson(
        await jsonPost(`${app.issuer}/register`, {
          grant_types: ['client_credentials'],
          client_name: 'hygiene',
        }),
      );
      logger.info('hygiene check line', { client_id: client.client_id });
      const { issued, captured } = await hygieneSeen();
      const values = issued.map((s) => s.value);
      expect(values).toContain(client.client_secret);
      expect(values).toContain(client.registration_access_token);
      expect(
        captured.some((l) => l.includes('"client.registered"') && l.includes(client.client_id)),
      ).toBe(true);
      expect(captured.some((l) => l.includes('hygiene check line'))).toBe(true);
      // And the check would catch them in a line.
      expect(findLeaks(issued, [`{"oops":"${client.client_secret}"}`])).toHaveLength(1);
    });
  });
});
