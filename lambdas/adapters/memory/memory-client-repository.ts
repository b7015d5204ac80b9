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
 * In-memory repository with the same conditional semantics as the DynamoDB one: for unit tests
 * and for measuring the cost of the code alone in benchmarks.
 */
export class MemoryClientRepository implements ClientRepository, ClientDirectory {
  private readonly items = new Map<string, ClientRecord>();

  async create(record: ClientRecord): Promise<void> {
    if (this.items.has(record.clientId)) throw new Error('client_id collision');
    this.items.set(record.clientId, structuredClone(record));
  }

  async get(clientId: string): Promise<ClientRecord | undefined> {
    const record = this.items.get(clientId);
    return record && structuredClone(record);
  }

  async replace(record: ClientRecord): Promise<void> {
    const stored = this.items.get(record.clientId);
    if (stored?.version !== record.version - 1 || stored.lastUsedAt !== record.lastUsedAt) {
      throw concurrentUpdate();
    }
    this.items.set(record.clientId, structuredClone(record));
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
      .map((id) => structuredClone(this.items.get(id) as ClientRecord))
      .filter((r) => matches(r, filter));
    const next = start + slice.length;
    return { records, ...(next < ids.length && { cursor: encodeCursor({ offset: next }) }) };
  }

  async expiring(from: number, to: number, limit: number): Promise<ClientRecord[]> {
    return [...this.items.values()]
      .filter((r) => r.activeUntil !== undefined && r.activeUntil >= from && r.activeUntil <= to)
      .sort((a, b) => (a.activeUntil as number) - (b.activeUntil as number))
      .slice(0, limit)
      .map((r) => structuredClone(r));
  }

  async delete(clientId: string, _deletion: Deletion): Promise<void> {
    this.items.delete(clientId);
  }
}
