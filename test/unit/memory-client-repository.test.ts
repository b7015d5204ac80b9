import { describe, expect, it } from 'vitest';
import { MemoryClientRepository } from '../../lambdas/adapters/memory/memory-client-repository.js';
import type { ClientRecord } from '../../lambdas/core/clients/ports.js';
import { auditedClient } from '../support/fakes.js';

describe('the memory client repository', () => {
  it('keeps its own copy: changing what was stored or what was read changes nothing stored', async () => {
    const repository = new MemoryClientRepository();
    const record = auditedClient({
      metadata: { ...auditedClient().metadata, contacts: ['a@example.com'] },
    });
    await repository.create(record);
    (record.metadata.contacts as string[]).push('mallory@example.com');
    (record.lastChange as { sourceIp?: string }).sourceIp = '203.0.113.9';
    const read = (await repository.get('c1')) as ClientRecord;
    expect(read.metadata.contacts).toEqual(['a@example.com']);
    expect(read.lastChange).toEqual({ at: 1_800_000_000, sourceIp: '192.0.2.1' });
    (read.metadata.grant_types as string[]).length = 0;
    expect((await repository.get('c1'))?.metadata.grant_types).toEqual(['client_credentials']);
  });

  it('stores a member named __proto__ as a member, never as the prototype', async () => {
    const repository = new MemoryClientRepository();
    const metadata = JSON.parse('{"__proto__": {"polluted": true}, "client_name": "x"}');
    await repository.create(auditedClient({ metadata }));
    const read = (await repository.get('c1')) as ClientRecord;
    expect(Object.getPrototypeOf(read.metadata)).toBe(Object.prototype);
    expect(Object.hasOwn(read.metadata, '__proto__')).toBe(true);
    expect((read.metadata as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.stringify(read.metadata)).toBe('{"__proto__":{"polluted":true},"client_name":"x"}');
  });
});
