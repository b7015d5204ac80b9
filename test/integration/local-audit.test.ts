import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambdas/config.js';
import type { AuditEvent } from '../../lambdas/core/operator/audit.js';
import type { RepeatedRegistrationEvent } from '../../lambdas/core/operator/client-health.js';
import { type LocalApp, startLocalApp } from '../../local/app.js';
import { jsonPost, readJson } from '../support/server.js';

describe('audit events in local mode', () => {
  const events: (AuditEvent | RepeatedRegistrationEvent)[] = [];
  let app: LocalApp;
  beforeAll(async () => {
    app = await startLocalApp(loadConfig({ PORT: '0', DCR_CLEANUP_INTERVAL_SECONDS: '1' }), {
      store: 'embedded',
      // Client events only here (no token is issued for an assertion).
      auditSink: (event) => events.push(event as AuditEvent | RepeatedRegistrationEvent),
    });
  });
  afterAll(() => app.close());

  it('reports registration, update, deletion and expiry with the caller address', async () => {
    const body = { grant_types: ['client_credentials'], client_name: 'audited', software_id: 'sw' };
    const created = await readJson(await jsonPost(`${app.issuer}/register`, body));
    const auth = { authorization: `Bearer ${created.registration_access_token}` };
    await fetch(created.registration_client_uri, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, client_id: created.client_id, client_name: 'renamed' }),
    });
    await fetch(created.registration_client_uri, { method: 'DELETE', headers: auth });

    const expiring = await readJson(
      await jsonPost(`${app.issuer}/register`, {
        ...body,
        expires_at: Math.floor(Date.now() / 1000) + 1,
      }),
    );
    // The in-process sweep (every second here) removes it and reports the expiry.
    await expect
      .poll(
        () => events.find((e) => e.client_id === expiring.client_id && e.type === 'client.expired'),
        {
          timeout: 10_000,
          interval: 200,
        },
      )
      .toBeDefined();

    const mine = events.filter((e) => e.client_id === created.client_id);
    expect(mine.map((e) => e.type)).toEqual([
      'client.registered',
      'client.updated',
      'client.deleted_by_client',
    ]);
    expect(mine[0]).toMatchObject({ software_id: 'sw', registration_method: 'open' });
    expect(mine[1]?.client_name).toBe('renamed');
    for (const event of mine) expect(event.source_ip).toMatch(/127\.0\.0\.1/);
  });

  it('reports a registration that repeats identical metadata (a re-registration loop)', async () => {
    const body = {
      client_name: 'Looping client',
      redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    };
    const first = await readJson(await jsonPost(`${app.issuer}/register`, body));
    // The same metadata, its lists in another order: the same registration.
    const again = await readJson(
      await jsonPost(`${app.issuer}/register`, {
        ...body,
        grant_types: ['refresh_token', 'authorization_code'],
      }),
    );
    const other = await readJson(
      await jsonPost(`${app.issuer}/register`, { ...body, client_name: 'Another client' }),
    );
    const repeated = events.filter(
      (e) => e.type === 'registration.repeated' && e.client_name === 'Looping client',
    );
    expect(repeated).toEqual([
      expect.objectContaining({
        client_id: again.client_id,
        client_name: 'Looping client',
        registrations: 2,
        previous_client_id: first.client_id,
        metadata_fingerprint: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      }),
    ]);
    const registered = (id: string) =>
      events.find((e) => e.client_id === id && e.type === 'client.registered');
    expect(registered(first.client_id)?.metadata_fingerprint).toBe(
      repeated[0]?.metadata_fingerprint,
    );
    expect(registered(other.client_id)?.metadata_fingerprint).not.toBe(
      repeated[0]?.metadata_fingerprint,
    );
  });
});

describe('active-client caps in local mode', () => {
  let app: LocalApp;
  beforeAll(async () => {
    app = await startLocalApp(
      loadConfig({
        PORT: '0',
        DCR_CLEANUP_INTERVAL_SECONDS: '1',
        DCR_SOFTWARE_ID_MAX_ACTIVE_CLIENTS: '1',
        DCR_AUDIT_LOG: 'off',
      }),
      { store: 'embedded' },
    );
  });
  afterAll(() => app.close());

  it('an expired client (the sweep removed it) gives its software_id place back', async () => {
    const body = { grant_types: ['client_credentials'], software_id: `expiring-${Date.now()}` };
    const first = await jsonPost(`${app.issuer}/register`, {
      ...body,
      expires_at: Math.floor(Date.now() / 1000) + 1,
    });
    expect(first.status).toBe(201);
    expect((await jsonPost(`${app.issuer}/register`, body)).status).toBe(403);
    await expect
      .poll(async () => (await jsonPost(`${app.issuer}/register`, body)).status, {
        timeout: 10_000,
        interval: 300,
      })
      .toBe(201);
  });
});
