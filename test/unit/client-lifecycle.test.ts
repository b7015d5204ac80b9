import { describe, expect, it } from 'vitest';
import { MemoryClientRepository } from '../../lambdas/adapters/memory/memory-client-repository.js';
import {
  ClientLifecycle,
  type LifecycleSettings,
} from '../../lambdas/core/clients/client-lifecycle.js';
import type { ClientRecord, ClientRepository } from '../../lambdas/core/clients/ports.js';
import { FakeClock, registrationService } from '../support/fakes.js';

const HOUR = 3600;
const DAY = 24 * HOUR;
const ISSUER = 'https://auth.example.com';
const RULES: LifecycleSettings = {
  clientMaxLifetimeSeconds: 365 * DAY,
  clientIdleLifetimeSeconds: 90 * DAY,
  clientUnusedLifetimeSeconds: DAY,
  lastUsedWriteIntervalSeconds: 300,
  clientSecretLifetimeSeconds: 0,
};

/** Counts the writes the lifecycle makes. */
class CountingRepository extends MemoryClientRepository {
  touches = 0;
  override async touch(...args: Parameters<ClientRepository['touch']>) {
    this.touches += 1;
    return super.touch(...args);
  }
}

function setup(rules: Partial<LifecycleSettings> = {}) {
  const clock = new FakeClock();
  const repository = new CountingRepository();
  const settings = { ...RULES, ...rules };
  const lifecycle = new ClientLifecycle(repository, clock, settings);
  const registration = registrationService(repository, clock, settings);
  const register = async (extra: Record<string, unknown> = {}) =>
    (await registration.register({ grant_types: ['client_credentials'], ...extra }, ISSUER))
      .client_id;
  const use = async (clientId: string) =>
    lifecycle.markUsed((await repository.get(clientId)) as ClientRecord);
  return { clock, repository, lifecycle, register, use };
}

describe('client lifecycle', () => {
  it('a client never used expires after the unused period', async () => {
    const t = setup();
    const id = await t.register();
    t.clock.advance(DAY - 1);
    expect(await t.lifecycle.findActive(id)).toBeDefined();
    t.clock.advance(1);
    expect(await t.lifecycle.findActive(id)).toBeUndefined();
  });

  it('each use moves the idle expiry forward', async () => {
    const t = setup();
    const id = await t.register();
    t.clock.advance(HOUR);
    await t.use(id);
    t.clock.advance(89 * DAY);
    expect(await t.lifecycle.findActive(id)).toBeDefined();
    await t.use(id);
    t.clock.advance(89 * DAY);
    expect(await t.lifecycle.findActive(id)).toBeDefined();
    t.clock.advance(DAY);
    expect(await t.lifecycle.findActive(id)).toBeUndefined();
  });

  it('use never extends a client past its absolute expiry', async () => {
    const t = setup();
    const id = await t.register({ expires_at: new FakeClock().now() + 2 * DAY });
    for (let day = 0; day < 2; day++) {
      await t.use(id);
      t.clock.advance(DAY - 1);
    }
    expect(await t.lifecycle.findActive(id)).toBeDefined();
    t.clock.advance(2);
    expect(await t.lifecycle.findActive(id)).toBeUndefined();
  });

  it('keeps the stored TTL (activeUntil) at the earliest instant', async () => {
    const t = setup();
    const id = await t.register();
    const issuedAt = t.clock.now();
    expect((await t.repository.get(id))?.activeUntil).toBe(issuedAt + DAY);
    t.clock.advance(HOUR);
    await t.use(id);
    expect((await t.repository.get(id))?.activeUntil).toBe(t.clock.now() + 90 * DAY);
    t.clock.advance(300 * DAY);
    await t.use(id);
    expect((await t.repository.get(id))?.activeUntil).toBe(issuedAt + 365 * DAY);
  });

  it('writes "last used" at most once per interval, however many tokens', async () => {
    const t = setup();
    const id = await t.register();
    for (let i = 0; i < 100; i++) {
      await t.use(id);
      t.clock.advance(2);
    }
    // 200 s of use: one write.
    expect(t.repository.touches).toBe(1);
    t.clock.advance(300);
    await t.use(id);
    expect(t.repository.touches).toBe(2);
  });

  it('concurrent uses from one stale read leave one consistent record', async () => {
    const t = setup();
    const id = await t.register();
    const stale = (await t.repository.get(id)) as ClientRecord;
    await Promise.all(Array.from({ length: 10 }, () => t.lifecycle.markUsed(stale)));
    const record = await t.repository.get(id);
    expect(record?.lastUsedAt).toBe(t.clock.now());
    expect(record?.activeUntil).toBe(t.clock.now() + 90 * DAY);
    expect(record?.version).toBe(1);
  });

  it('with every rule off, a client lives until deleted', async () => {
    const t = setup({
      clientMaxLifetimeSeconds: 0,
      clientIdleLifetimeSeconds: 0,
      clientUnusedLifetimeSeconds: 0,
    });
    const id = await t.register();
    expect((await t.repository.get(id))?.activeUntil).toBeUndefined();
    t.clock.advance(10 * 365 * DAY);
    expect(await t.lifecycle.findActive(id)).toBeDefined();
  });
});
