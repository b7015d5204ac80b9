import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryClientRepository } from '../../lambdas/adapters/memory/memory-client-repository.js';
import type { ClientConfigurationService } from '../../lambdas/core/registration/client-configuration.js';
import type { RegistrationService } from '../../lambdas/core/registration/registration.js';
import { hashSecret } from '../../lambdas/core/secrets.js';
import {
  FakeClock,
  oauthFailure,
  recordingRepository,
  registrationServices,
} from '../support/fakes.js';

const ISSUER = 'https://auth.example.com';
const DAY = 86_400;
const machine = { grant_types: ['client_credentials'], client_name: 'agent' };

describe('ClientConfigurationService', () => {
  let repository: MemoryClientRepository;
  let clock: FakeClock;
  let service: RegistrationService;
  let configuration: ClientConfigurationService;

  beforeEach(() => {
    repository = new MemoryClientRepository();
    clock = new FakeClock();
    [service, configuration] = registrationServices(repository, clock, {
      clientMaxLifetimeSeconds: 30 * DAY,
      clientSecretLifetimeSeconds: 0,
    });
  });

  it('reads a registration back with the presented token and without the secret', async () => {
    const info = await service.register(machine, ISSUER);
    const read = await configuration.read(info.client_id, info.registration_access_token, ISSUER);
    const { client_secret: _, ...expected } = info;
    expect(read).toEqual({ registration: expected, version: 1 });
  });

  it.each([
    ['no token', undefined],
    ['a wrong token', 'x'.repeat(43)],
  ])('answers 401 invalid_token for %s', async (_, token) => {
    const info = await service.register(machine, ISSUER);
    const error = await oauthFailure(configuration.read(info.client_id, token, ISSUER));
    expect(error.status).toBe(401);
    expect(error.error).toBe('invalid_token');
    expect(error.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
  });

  it('answers the same 401 for an unknown client and for another client’s token', async () => {
    const a = await service.register(machine, ISSUER);
    const b = await service.register(machine, ISSUER);
    const unknown = await oauthFailure(
      configuration.read('nope', a.registration_access_token, ISSUER),
    );
    const foreign = await oauthFailure(
      configuration.read(b.client_id, a.registration_access_token, ISSUER),
    );
    expect(unknown).toEqual(foreign);
  });

  it('treats an expired client as absent before anything deletes it', async () => {
    const info = await service.register({ ...machine, expires_at: clock.now() + 60 }, ISSUER);
    clock.advance(60);
    const error = await oauthFailure(
      configuration.read(info.client_id, info.registration_access_token, ISSUER),
    );
    expect(error.status).toBe(401);
    expect(await repository.get(info.client_id)).toBeDefined();
  });

  describe('update (RFC 7592 §2.2)', () => {
    const body = (b: Record<string, unknown>) => () => b;

    it('replaces the whole metadata: omitted fields are dropped', async () => {
      const info = await service.register(
        { ...machine, scope: 'read', contacts: ['a@b.example'] },
        ISSUER,
      );
      const { registration: updated, version } = await configuration.update(
        info.client_id,
        info.registration_access_token,
        body({
          client_id: info.client_id,
          grant_types: ['client_credentials'],
          client_name: 'renamed',
        }),
        ISSUER,
      );
      expect(version).toBe(2);
      expect(updated.client_name).toBe('renamed');
      expect(updated).not.toHaveProperty('scope');
      expect(updated).not.toHaveProperty('contacts');
      expect(updated).not.toHaveProperty('client_secret');
      expect(updated.client_secret_expires_at).toBe(0);
      expect((await repository.get(info.client_id))?.version).toBe(2);
    });

    it('requires client_id equal to the path', async () => {
      const info = await service.register(machine, ISSUER);
      for (const client_id of [undefined, 'other']) {
        const error = await oauthFailure(
          configuration.update(
            info.client_id,
            info.registration_access_token,
            body({ ...machine, client_id }),
            ISSUER,
          ),
        );
        expect(error.error).toBe('invalid_request');
        expect(error.description).toContain('client_id');
      }
    });

    it('accepts the current client_secret and refuses a different one', async () => {
      const info = await service.register(machine, ISSUER);
      const request = (client_secret: unknown) =>
        configuration.update(
          info.client_id,
          info.registration_access_token,
          body({ ...machine, client_id: info.client_id, client_secret }),
          ISSUER,
        );
      await expect(request(info.client_secret)).resolves.toMatchObject({
        registration: { client_id: info.client_id },
      });
      const error = await oauthFailure(request('wrong'));
      expect(error.error).toBe('invalid_request');
      expect(error.description).toContain('client_secret');
    });

    it.each([
      'registration_access_token',
      'registration_client_uri',
      'client_secret_expires_at',
      'client_id_issued_at',
    ])('refuses the server-managed field %s', async (field) => {
      const info = await service.register(machine, ISSUER);
      const error = await oauthFailure(
        configuration.update(
          info.client_id,
          info.registration_access_token,
          body({ ...machine, client_id: info.client_id, [field]: 1 }),
          ISSUER,
        ),
      );
      expect(error.status).toBe(400);
      expect(error.description).toContain(field);
    });

    it('does not read the body before the token is accepted', async () => {
      const info = await service.register(machine, ISSUER);
      let read = false;
      const error = await oauthFailure(
        configuration.update(
          info.client_id,
          'wrong',
          () => {
            read = true;
            return {};
          },
          ISSUER,
        ),
      );
      expect(error.status).toBe(401);
      expect(read).toBe(false);
    });

    it('issues a secret when a public client becomes confidential, drops it the other way', async () => {
      const info = await service.register(
        { redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' },
        ISSUER,
      );
      const { registration: confidential } = await configuration.update(
        info.client_id,
        info.registration_access_token,
        body({ client_id: info.client_id, redirect_uris: ['http://127.0.0.1/cb'] }),
        ISSUER,
      );
      expect(confidential.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const { registration: publicAgain } = await configuration.update(
        info.client_id,
        info.registration_access_token,
        body({
          client_id: info.client_id,
          redirect_uris: ['http://127.0.0.1/cb'],
          token_endpoint_auth_method: 'none',
        }),
        ISSUER,
      );
      expect(publicAgain).not.toHaveProperty('client_secret_expires_at');
      expect((await repository.get(info.client_id))?.secretHash).toBeUndefined();
    });

    it('replaces an expired secret with one valid for a whole new lifetime', async () => {
      [service, configuration] = registrationServices(repository, clock, {
        clientSecretLifetimeSeconds: 3600,
      });
      const info = await service.register(machine, ISSUER);
      const update = async () =>
        (
          await configuration.update(
            info.client_id,
            info.registration_access_token,
            body({ ...machine, client_id: info.client_id }),
            ISSUER,
          )
        ).registration;
      // Still valid: kept, and not shown again.
      clock.advance(1800);
      const kept = await update();
      expect(kept).not.toHaveProperty('client_secret');
      expect(kept.client_secret_expires_at).toBe(info.client_secret_expires_at);
      // Expired: a new one, expiring a whole lifetime from now.
      clock.advance(1800);
      const renewed = await update();
      expect(renewed.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(renewed.client_secret).not.toBe(info.client_secret);
      expect(renewed.client_secret_expires_at).toBe(clock.now() + 3600);
      expect((await repository.get(info.client_id))?.secretHash).toBe(
        hashSecret(renewed.client_secret as string),
      );
    });

    /** Renames the client as its holder would, from the versions in `ifMatch` (any if absent). */
    const renaming =
      (info: { client_id: string; registration_access_token: string }, ifMatch?: number[]) =>
      (name: string) =>
        configuration.update(
          info.client_id,
          info.registration_access_token,
          body({ ...machine, client_id: info.client_id, client_name: name }),
          ISSUER,
          {},
          ifMatch,
        );

    it.each([
      ['without If-Match: the loser gets a 409', undefined, 409],
      ['with If-Match: the loser is told its version is gone (412)', [1], 412],
    ])('lets only one of two concurrent updates win; %s', async (_, ifMatch, status) => {
      const info = await service.register(machine, ISSUER);
      const rename = renaming(info, ifMatch);
      const results = await Promise.allSettled([rename('one'), rename('two')]);
      const rejected = results.filter((r) => r.status === 'rejected');
      expect(rejected).toHaveLength(1);
      expect((rejected[0] as PromiseRejectedResult).reason).toMatchObject({ status });
      const winner = results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{
        registration: { client_name: string };
      }>;
      expect((await repository.get(info.client_id))?.metadata.client_name).toBe(
        winner.value.registration.client_name,
      );
    });

    it('a token issued between the update’s read and its write: the update applies and the use is kept', async () => {
      [service, configuration] = registrationServices(repository, clock, {
        clientIdleLifetimeSeconds: 30 * DAY,
      });
      const info = await service.register(machine, ISSUER);
      clock.advance(DAY);
      // The token endpoint marks the client used right after the update has read it.
      const replace = repository.replace.bind(repository);
      let interleaved = false;
      repository.replace = async (record) => {
        if (!interleaved) {
          interleaved = true;
          await repository.touch(info.client_id, clock.now(), clock.now() + 30 * DAY, 0);
        }
        return replace(record);
      };
      const { registration, version } = await renaming(info)('renamed');
      expect(registration.client_name).toBe('renamed');
      expect(version).toBe(2);
      expect(await repository.get(info.client_id)).toMatchObject({
        version: 2,
        metadata: { client_name: 'renamed' },
        lastUsedAt: clock.now(),
        activeUntil: clock.now() + 30 * DAY,
      });
    });

    it('If-Match: two updates made from the same read cannot both win, even one after the other', async () => {
      const info = await service.register(machine, ISSUER);
      const { version } = await configuration.read(
        info.client_id,
        info.registration_access_token,
        ISSUER,
      );
      const rename = renaming(info, [version]);
      expect((await rename('first')).version).toBe(version + 1);
      const stale = await oauthFailure(rename('second'));
      expect(stale).toMatchObject({ status: 412, error: 'invalid_request' });
      expect((await repository.get(info.client_id))?.metadata.client_name).toBe('first');
    });
  });

  it('delete makes the client and its registration token unusable', async () => {
    const info = await service.register(machine, ISSUER);
    await configuration.remove(info.client_id, info.registration_access_token);
    expect(await repository.get(info.client_id)).toBeUndefined();
    const error = await oauthFailure(
      configuration.read(info.client_id, info.registration_access_token, ISSUER),
    );
    expect(error.status).toBe(401);
  });

  it('writes nothing when the metadata of an update is invalid', async () => {
    const writes: string[] = [];
    const [, guarded] = registrationServices(recordingRepository(repository, writes), clock, {
      clientMaxLifetimeSeconds: 0,
      clientSecretLifetimeSeconds: 0,
    });
    const info = await service.register(machine, ISSUER);
    await oauthFailure(
      guarded.update(
        info.client_id,
        info.registration_access_token,
        () => ({ client_id: info.client_id, grant_types: ['password'] }),
        ISSUER,
      ),
    );
    expect(writes).toEqual([]);
  });
});
