import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryBlockedSoftwareIds } from '../../lambdas/adapters/memory/memory-blocked-software.js';
import { MemoryClientRepository } from '../../lambdas/adapters/memory/memory-client-repository.js';
import { MemoryClientStatistics } from '../../lambdas/adapters/memory/memory-client-statistics.js';
import { ClientLifecycle } from '../../lambdas/core/clients/client-lifecycle.js';
import { encodeCursor } from '../../lambdas/core/cursor.js';
import { AdminService } from '../../lambdas/core/operator/admin.js';
import { RegistrationService } from '../../lambdas/core/registration/registration.js';
import { hashSecret, secretMatches } from '../../lambdas/core/secrets.js';
import { FakeClock, NO_EXPIRY, oauthFailure } from '../support/fakes.js';

const ISSUER = 'https://auth.example.com';
const machine = { grant_types: ['client_credentials'], client_name: 'agent' };

describe('AdminService.rotateSecret with a secret lifetime', () => {
  let repository: MemoryClientRepository;
  let clock: FakeClock;
  let admin: AdminService;
  let registration: RegistrationService;

  beforeEach(() => {
    repository = new MemoryClientRepository();
    clock = new FakeClock();
    const lifecycle = new ClientLifecycle(repository, clock, {
      ...NO_EXPIRY,
      clientSecretLifetimeSeconds: 3600,
    });
    admin = new AdminService(lifecycle, repository, new MemoryClientStatistics());
    registration = new RegistrationService(lifecycle, {});
  });

  it('gives every new secret a whole lifetime from now, even after the old one expired', async () => {
    const info = await registration.register(machine, ISSUER);
    clock.advance(7200);
    const rotated = await admin.rotateSecret(info.client_id, 600, {});
    expect(rotated.client_secret_expires_at).toBe(clock.now() + 3600);
    const record = await repository.get(info.client_id);
    expect(record?.clientSecretExpiresAt).toBe(clock.now() + 3600);
    expect(record?.secretHash).toBe(hashSecret(rotated.client_secret));
    // The expired secret gets no grace period: it had stopped working already.
    expect(rotated).not.toHaveProperty('previous_secret_valid_until');
    expect(record?.previousSecretHash).toBeUndefined();
  });

  it('keeps the old secret for the grace period, but never past its own expiry', async () => {
    const info = await registration.register(machine, ISSUER);
    clock.advance(3000);
    const rotated = await admin.rotateSecret(info.client_id, 3600, {});
    const record = await repository.get(info.client_id);
    expect(rotated.previous_secret_valid_until).toBe(info.client_secret_expires_at);
    expect(record?.previousSecretValidUntil).toBe(info.client_secret_expires_at);
    expect(secretMatches(info.client_secret as string, record?.previousSecretHash as string)).toBe(
      true,
    );
  });
});

describe('AdminService.blockSoftware', () => {
  it('refuses a continuation with a malformed cursor before blocking anything (found by fuzzing)', async () => {
    const repository = new MemoryClientRepository();
    const blocked = new MemoryBlockedSoftwareIds();
    const lifecycle = new ClientLifecycle(repository, new FakeClock(), NO_EXPIRY);
    const admin = new AdminService(lifecycle, repository, new MemoryClientStatistics(), blocked);
    const error = await oauthFailure(admin.blockSoftware('fleet', true, 'not a cursor', {}));
    expect([error.status, error.description]).toEqual([400, 'cursor is malformed']);
    expect(await blocked.isBlocked('fleet')).toBe(false);
  });

  it('blocks first, then deletes the clients; a continuation goes on deleting, still blocked', async () => {
    const repository = new MemoryClientRepository();
    const blocked = new MemoryBlockedSoftwareIds();
    const lifecycle = new ClientLifecycle(repository, new FakeClock(), NO_EXPIRY);
    const admin = new AdminService(lifecycle, repository, new MemoryClientStatistics(), blocked);
    const registration = new RegistrationService(lifecycle, {});
    await registration.register({ ...machine, software_id: 'fleet' }, ISSUER);
    const first = await admin.blockSoftware('fleet', true, undefined, {});
    expect(first).toMatchObject({ blocked: true, clients: { matched: 1, deleted: 1 } });
    const next = await admin.blockSoftware('fleet', true, encodeCursor({ offset: 0 }), {});
    expect(next).toMatchObject({ blocked: true, clients: { matched: 0, deleted: 0 } });
    expect(await blocked.isBlocked('fleet')).toBe(true);
  });
});
