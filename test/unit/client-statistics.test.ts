import { describe, expect, it, vi } from 'vitest';
import { CoalescingClientStatistics } from '../../lambdas/adapters/coalescing-client-statistics.js';
import { MemoryClientRepository } from '../../lambdas/adapters/memory/memory-client-repository.js';
import { MemoryClientStatistics } from '../../lambdas/adapters/memory/memory-client-statistics.js';
import { ClientLifecycle } from '../../lambdas/core/clients/client-lifecycle.js';
import { AdminService } from '../../lambdas/core/operator/admin.js';
import type { AuditEvent, AuditEventType } from '../../lambdas/core/operator/audit.js';
import {
  counterUpdatesFor,
  isoDay,
  lastDays,
  mergeCounterUpdates,
  statsReport,
} from '../../lambdas/core/operator/client-statistics.js';
import type { CounterUpdate } from '../../lambdas/core/operator/ports.js';
import { memoryStores } from '../../local/app.js';
import { auditedClient, FakeClock, NO_EXPIRY, oauthFailure } from '../support/fakes.js';

// 2027-01-15T08:00:00Z
const AT = 1_800_000_000;
const DAY = '2027-01-15';

const event = (type: AuditEventType, extra: Partial<AuditEvent> = {}): AuditEvent => ({
  type,
  client_id: 'c1',
  registration_method: 'open',
  client_id_issued_at: AT,
  occurred_at: AT,
  ...extra,
});

describe('counterUpdatesFor (the counting rule)', () => {
  it.each<[AuditEventType, string, number | undefined]>([
    ['client.registered', 'registered#open', 1],
    ['client.updated', 'updated#open', undefined],
    ['client.secret_rotated', 'secret_rotated#open', undefined],
    ['client.deleted_by_client', 'deleted_by_client#open', -1],
    ['client.deleted_by_operator', 'deleted_by_operator#open', -1],
    ['client.expired', 'expired#open', -1],
  ])('%s: +1 on its day, active clients %s', (type, dayCounter, active) => {
    expect(counterUpdatesFor(event(type))).toEqual([
      { item: `day#${DAY}`, deltas: { [dayCounter]: 1 }, at: AT },
      ...(active === undefined
        ? []
        : [{ item: 'active', deltas: { 'active#open': active }, at: AT }]),
    ]);
  });

  it('counts by registration method, a client without one as open, on the UTC day it happened', () => {
    const late = AT + 16 * 3600; // 2027-01-16T00:00:00Z
    expect(
      counterUpdatesFor(event('client.registered', { registration_method: 'software_statement' })),
    ).toContainEqual({ item: 'active', deltas: { 'active#software_statement': 1 }, at: AT });
    const { registration_method: _, ...withoutMethod } = event('client.expired', {
      occurred_at: late,
    });
    expect(counterUpdatesFor(withoutMethod)).toEqual([
      { item: 'day#2027-01-16', deltas: { 'expired#open': 1 }, at: late },
      { item: 'active', deltas: { 'active#open': -1 }, at: late },
    ]);
  });
});

describe('isoDay', () => {
  it('gives each instant its UTC day, whatever day the instant before had', () => {
    const midnight = 1_800_057_600; // 2027-01-16T00:00:00Z
    for (const [at, day] of [
      [midnight - 1, '2027-01-15'],
      [midnight, '2027-01-16'],
      [midnight - 0.5, '2027-01-15'],
      [midnight + 86_399.5, '2027-01-16'],
      [midnight + 86_400, '2027-01-17'],
      [AT, DAY],
      [0, '1970-01-01'],
      [-1, '1969-12-31'],
    ] as const) {
      expect(isoDay(at), String(at)).toBe(day);
    }
  });
});

describe('mergeCounterUpdates', () => {
  it('makes one update per item, summing deltas and dropping what cancels out', () => {
    const updates = [
      event('client.registered', { occurred_at: AT + 5 }),
      event('client.registered'),
      event('client.deleted_by_client', { client_id: 'c2' }),
      event('client.registered', { registration_method: 'initial_access_token' }),
      event('client.expired', { registration_method: 'initial_access_token' }),
    ].flatMap(counterUpdatesFor);
    expect(mergeCounterUpdates(updates)).toEqual([
      {
        item: `day#${DAY}`,
        deltas: {
          'registered#open': 2,
          'deleted_by_client#open': 1,
          'registered#initial_access_token': 1,
          'expired#initial_access_token': 1,
        },
        at: AT,
      },
      { item: 'active', deltas: { 'active#open': 1 }, at: AT },
    ]);
    const cancelled = [event('client.registered'), event('client.expired')].flatMap(
      counterUpdatesFor,
    );
    expect(mergeCounterUpdates(cancelled).map((u) => u.item)).toEqual([`day#${DAY}`]);
  });
});

describe('statsReport', () => {
  it('lists every requested day, zeros included, with totals and non-zero methods', () => {
    const report = statsReport(
      {
        active: { 'active#open': 3, 'active#initial_access_token': 0 },
        countingSince: AT - 100,
        days: { [DAY]: { 'registered#open': 2, 'expired#open': 1, 'registered#other': 1 } },
      },
      ['2027-01-14', DAY],
    );
    expect(report).toEqual({
      active_clients: 3,
      active_clients_by_registration_method: { open: 3 },
      per_day: [
        {
          day: '2027-01-14',
          registered: 0,
          updated: 0,
          secret_rotated: 0,
          deleted_by_client: 0,
          deleted_by_operator: 0,
          expired: 0,
        },
        {
          day: DAY,
          registered: 3,
          updated: 0,
          secret_rotated: 0,
          deleted_by_client: 0,
          deleted_by_operator: 0,
          expired: 1,
          by_registration_method: { open: { registered: 2, expired: 1 }, other: { registered: 1 } },
        },
      ],
      counting_since: AT - 100,
    });
  });

  it('names the last N UTC days, today last', () => {
    expect(lastDays(AT, 3)).toEqual(['2027-01-13', '2027-01-14', DAY]);
  });
});

describe('admin statistics', () => {
  const setup = () => {
    const clock = new FakeClock(AT);
    const directory = new MemoryClientRepository();
    const statistics = new MemoryClientStatistics();
    const admin = new AdminService(
      new ClientLifecycle(directory, clock, NO_EXPIRY),
      directory,
      statistics,
    );
    return { clock, directory, statistics, admin };
  };

  it('reads the counters, never the clients', async () => {
    const { directory, statistics, admin } = setup();
    await statistics.add(
      mergeCounterUpdates(
        [event('client.registered'), event('client.registered')].flatMap(counterUpdatesFor),
      ),
    );
    const page = vi.spyOn(directory, 'page');
    const stats = await admin.stats(7);
    expect(page).not.toHaveBeenCalled();
    expect(stats.active_clients).toBe(2);
    expect(stats.per_day).toHaveLength(7);
    expect(stats.per_day.at(-1)).toMatchObject({ day: DAY, registered: 2 });
    expect(stats.counting_since).toBe(AT);
  });

  it('recounts the active clients a bounded step at a time, then replaces the counters', async () => {
    const { directory, statistics, admin, clock } = setup();
    // Counters that drifted: a method no longer present, and a wrong count.
    await statistics.add([
      { item: 'active', deltas: { 'active#open': -4, 'active#gone': 2 }, at: AT - 10 },
    ]);
    const total = 5_000 + 7;
    for (let i = 0; i < total; i++) {
      await directory.create(
        auditedClient({
          clientId: `c${String(i).padStart(5, '0')}`,
          registrationMethod: i < 7 ? 'initial_access_token' : 'open',
        }),
      );
    }
    const page = vi.spyOn(directory, 'page');
    const first = await admin.recount(undefined);
    expect(first).toMatchObject({ counted: 5_000, next_cursor: expect.any(String) });
    expect(page).toHaveBeenCalledTimes(10);
    expect((await admin.stats(1)).active_clients).toBe(-2); // untouched until the last step
    clock.advance(60);
    const last = await admin.recount((first as { next_cursor: string }).next_cursor);
    expect(last).toEqual({
      counted: total,
      active_clients_by_registration_method: { open: 5_000, initial_access_token: 7 },
      recounted_at: AT + 60,
    });
    const stats = await admin.stats(1);
    expect(stats.active_clients_by_registration_method).toEqual({
      open: 5_000,
      initial_access_token: 7,
    });
    expect(stats).toMatchObject({ counting_since: AT - 10, recounted_at: AT + 60 });
  });

  it('refuses a recount cursor that does not hold counts', async () => {
    const { admin } = setup();
    const forged = Buffer.from(JSON.stringify({ page: 'x', counters: { pk: 1 } })).toString(
      'base64url',
    );
    expect((await oauthFailure(admin.recount(forged))).error).toBe('invalid_request');
    expect((await oauthFailure(admin.recount('not-a-cursor'))).error).toBe('invalid_request');
  });
});

describe('local counting off the request path', () => {
  it('writes once per turn of the event loop, merges what arrives while a write is in flight, and reads wait for it', async () => {
    const inner = new MemoryClientStatistics();
    const writes: CounterUpdate[][] = [];
    let release = () => {};
    vi.spyOn(inner, 'add').mockImplementation(async (updates) => {
      writes.push([...updates]);
      await new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    const statistics = new CoalescingClientStatistics(inner);
    const registered = counterUpdatesFor(event('client.registered'));
    await statistics.add(registered); // returns at once: the write runs in the background
    await statistics.add(registered);
    expect(writes).toHaveLength(0); // the turn's other changes join the write
    await vi.waitFor(() => expect(writes).toHaveLength(1));
    expect(writes[0]).toEqual([
      { item: `day#${DAY}`, deltas: { 'registered#open': 2 }, at: AT },
      { item: 'active', deltas: { 'active#open': 2 }, at: AT },
    ]);
    for (let i = 0; i < 5; i++) await statistics.add(registered);
    const read = statistics.read([DAY]);
    expect(writes).toHaveLength(1);
    release();
    await vi.waitFor(() => expect(writes).toHaveLength(2));
    expect(writes[1]).toEqual([
      { item: `day#${DAY}`, deltas: { 'registered#open': 5 }, at: AT },
      { item: 'active', deltas: { 'active#open': 5 }, at: AT },
    ]);
    release();
    await read;
    expect(writes).toHaveLength(2);
  });

  it('in memory mode too: registrations are counted in one batch, never on their request path, and a read sees every one', async () => {
    const add = vi.spyOn(MemoryClientStatistics.prototype, 'add');
    try {
      const stores = memoryStores(new FakeClock(AT));
      for (let i = 0; i < 5; i++) {
        await stores.repository.create(auditedClient({ clientId: `c${i}` }));
      }
      expect(add).not.toHaveBeenCalled();
      const snapshot = await stores.statistics.read([DAY]);
      expect(add).toHaveBeenCalledTimes(1);
      expect(snapshot.active).toEqual({ 'active#open': 5 });
      expect(snapshot.days[DAY]).toEqual({ 'registered#open': 5 });
    } finally {
      add.mockRestore();
    }
  });
});
