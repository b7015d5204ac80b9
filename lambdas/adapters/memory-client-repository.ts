import type { ClientRecord, ClientRepository, Deletion } from '../core/ports.js';
import { concurrentUpdate } from './client-repository-errors.js';

/**
 * In-memory repository with the same conditional semantics as the DynamoDB one: for unit tests
 * and for measuring the cost of the code alone in benchmarks.
 */
export class MemoryClientRepository implements ClientRepository {
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
    if (this.items.get(record.clientId)?.version !== record.version - 1) throw concurrentUpdate();
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

  async delete(clientId: string, _deletion: Deletion): Promise<void> {
    this.items.delete(clientId);
  }
}
