import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryClientRepository } from '../../lambdas/adapters/memory/memory-client-repository.js';
import type { RegistrationService } from '../../lambdas/core/registration/registration.js';
import { hashSecret } from '../../lambdas/core/secrets.js';
import {
  FakeClock,
  oauthFailure,
  recordingRepository,
  registrationService,
} from '../support/fakes.js';

const ISSUER = 'https://auth.example.com';
const DAY = 86_400;
const machine = { grant_types: ['client_credentials'], client_name: 'agent' };

describe('RegistrationService', () => {
  let repository: MemoryClientRepository;
  let clock: FakeClock;
  let service: RegistrationService;

  beforeEach(() => {
    repository = new MemoryClientRepository();
    clock = new FakeClock();
    service = registrationService(repository, clock, {
      clientMaxLifetimeSeconds: 30 * DAY,
      clientSecretLifetimeSeconds: 0,
    });
  });

  it('issues an id, a 256-bit secret and registration token, storing only hashes', async () => {
    const info = await service.register(machine, ISSUER);
    expect(info.client_id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(info.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(info.registration_access_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(info.client_secret_expires_at).toBe(0);
    expect(info.client_id_issued_at).toBe(clock.now());
    expect(info.registration_client_uri).toBe(`${ISSUER}/register/${info.client_id}`);

    const stored = await repository.get(info.client_id);
    const serialized = JSON.stringify(stored);
    expect(serialized).not.toContain(info.client_secret);
    expect(serialized).not.toContain(info.registration_access_token);
    expect(stored?.secretHash).toBe(hashSecret(info.client_secret as string));
  });

  it('answers its members in a stable order: id, issue time, metadata, secret, then the RFC 7592 pair', async () => {
    const info = await service.register(machine, ISSUER);
    const stored = await repository.get(info.client_id);
    expect(Object.keys(info)).toEqual([
      'client_id',
      'client_id_issued_at',
      ...Object.keys(stored?.metadata ?? {}),
      'client_secret',
      'client_secret_expires_at',
      'expires_at',
      'registration_access_token',
      'registration_client_uri',
    ]);
  });

  it('gives public clients no secret and no client_secret_expires_at', async () => {
    const info = await service.register(
      { redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' },
      ISSUER,
    );
    expect(info).not.toHaveProperty('client_secret');
    expect(info).not.toHaveProperty('client_secret_expires_at');
    expect((await repository.get(info.client_id))?.secretHash).toBeUndefined();
  });

  it('reports a configured secret lifetime in client_secret_expires_at', async () => {
    service = registrationService(repository, clock, {
      clientMaxLifetimeSeconds: 0,
      clientSecretLifetimeSeconds: 3600,
    });
    const info = await service.register(machine, ISSUER);
    expect(info.client_secret_expires_at).toBe(clock.now() + 3600);
    expect(info).not.toHaveProperty('expires_at');
  });

  it('caps expires_at at the maximum lifetime and keeps a shorter one', async () => {
    const capped = await service.register(
      { ...machine, expires_at: clock.now() + 365 * DAY },
      ISSUER,
    );
    expect(capped.expires_at).toBe(clock.now() + 30 * DAY);
    const short = await service.register({ ...machine, expires_at: clock.now() + 60 }, ISSUER);
    expect(short.expires_at).toBe(clock.now() + 60);
    const omitted = await service.register(machine, ISSUER);
    expect(omitted.expires_at).toBe(clock.now() + 30 * DAY);
  });

  it('writes nothing when the metadata is invalid', async () => {
    const writes: string[] = [];
    const guarded = registrationService(recordingRepository(repository, writes), clock, {
      clientMaxLifetimeSeconds: 0,
      clientSecretLifetimeSeconds: 0,
    });
    await oauthFailure(guarded.register({ redirect_uris: ['http://evil.example/cb'] }, ISSUER));
    expect(writes).toEqual([]);
  });
});
