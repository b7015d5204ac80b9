import type {
  ClientDirectory,
  ClientFilter,
  ClientPage,
  ClientRecord,
  ClientRepository,
  Deletion,
} from '../../core/clients/ports.js';
import { decodeCursor, encodeCursor } from '../../core/cursor.js';
import { matches } from '../client-filter.js';
import { concurrentUpdate } from '../client-repository-errors.js';

/**
 * A deep copy of a record: plain data (what DynamoDB stores), so a walk over its members is
 * enough, at a fraction of structuredClone's cost. A `__proto__` member stays a member.
 */
function copyOf<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyOf) as T;
  const copy: Record<string, unknown> = {};
  // for…in over own members: no array of names per object copied.
  for (const name in value) {
    if (!Object.hasOwn(value, name)) continue;
    const member = copyOf((value as Record<string, unknown>)[name]);
    if (name === '__proto__') {
      Object.defineProperty(copy, name, {
        value: member,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      copy[name] = member;
    }
  }
  return copy as T;
}

/**
 * In-memory repository with the same conditional semantics as the DynamoDB one: for unit tests
 * and for measuring the cost of the code alone in benchmarks.
 */
export class MemoryClientRepository implements ClientRepository, ClientDirectory {
  private readonly items = new Map<string, ClientRecord>();

  async create(record: ClientRecord): Promise<void> {
    if (this.items.has(record.clientId)) throw new Error('client_id collision');
    this.items.set(record.clientId, copyOf(record));
  }

  async get(clientId: string): Promise<ClientRecord | undefined> {
    const record = this.items.get(clientId);
    return record && copyOf(record);
  }

  async replace(record: ClientRecord): Promise<void> {
    const stored = this.items.get(record.clientId);
    if (stored?.version !== record.version - 1 || stored.lastUsedAt !== record.lastUsedAt) {
      throw concurrentUpdate();
    }
    this.items.set(record.clientId, copyOf(record));
  }

  async touch(
    clientId: string,
    lastUsedAt: number,
    activeUntil: number | undefined,
    notUsedSince: number,
  ): Promise<void> {
    const record = this.items.get(clientId);
    if (!record || (record.lastUsedAt !== undefined && record.lastUsedAt >= notUsedSince)) return;
    const { activeUntil: _, ...rest } = record;
    this.items.set(clientId, {
      ...rest,
      lastUsedAt,
      ...(activeUntil !== undefined && { activeUntil }),
    });
  }

  async page(
    filter: ClientFilter,
    cursor: string | undefined,
    scanLimit: number,
  ): Promise<ClientPage> {
    const ids = [...this.items.keys()].sort();
    const start = cursor === undefined ? 0 : decodeCursor<{ offset: number }>(cursor).offset;
    const slice = ids.slice(start, start + scanLimit);
    const records = slice
      .map((id) => copyOf(this.items.get(id) as ClientRecord))
      .filter((r) => matches(r, filter));
    const next = start + slice.length;
    return { records, ...(next < ids.length && { cursor: encodeCursor({ offset: next }) }) };
  }

  async expiring(from: number, to: number, limit: number): Promise<ClientRecord[]> {
    return [...this.items.values()]
      .filter((r) => r.activeUntil !== undefined && r.activeUntil >= from && r.activeUntil <= to)
      .sort((a, b) => (a.activeUntil as number) - (b.activeUntil as number))
      .slice(0, limit)
      .map((r) => copyOf(r));
  }

  async delete(clientId: string, _deletion: Deletion): Promise<void> {
    this.items.delete(clientId);
  }
}
