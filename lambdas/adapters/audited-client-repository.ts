import { type AuditEvent, auditEventFor, type ClientChange } from '../core/audit.js';
import type { ClientRecord, ClientRepository, Clock, Deletion } from '../core/ports.js';

export type AuditSink = (event: AuditEvent) => void;

/** Writes audit events as JSON lines (stdout by default). */
export const jsonLines =
  (write: (line: string) => void = (line) => process.stdout.write(line)): AuditSink =>
  (event) =>
    write(`${JSON.stringify({ audit: event })}\n`);

/**
 * Local mode has no DynamoDB stream: this repository reports each client change to the same
 * mapping (auditEventFor) the stream function uses in AWS, with the images a stream would carry.
 */
export class AuditedClientRepository implements ClientRepository {
  constructor(
    private readonly inner: ClientRepository,
    private readonly clock: Clock,
    private readonly sink: AuditSink,
  ) {}

  /** The sweep's deletions are expiries; the sweeper reports them here. */
  readonly expired = (record: ClientRecord): void => {
    this.emit({ kind: 'REMOVE', oldImage: record, at: this.clock.now() });
  };

  get(clientId: string) {
    return this.inner.get(clientId);
  }

  async create(record: ClientRecord): Promise<void> {
    await this.inner.create(record);
    this.emit({ kind: 'INSERT', newImage: record, at: this.clock.now() });
  }

  async replace(record: ClientRecord): Promise<void> {
    const before = await this.inner.get(record.clientId);
    await this.inner.replace(record);
    this.emit({
      kind: 'MODIFY',
      ...(before && { oldImage: before }),
      newImage: record,
      at: this.clock.now(),
    });
  }

  async delete(clientId: string, deletion: Deletion): Promise<void> {
    const before = await this.inner.get(clientId);
    await this.inner.delete(clientId, deletion);
    if (before) {
      this.emit({ kind: 'REMOVE', oldImage: { ...before, deletion }, at: this.clock.now() });
    }
  }

  touch(...args: Parameters<ClientRepository['touch']>) {
    return this.inner.touch(...args);
  }

  private emit(change: ClientChange): void {
    const event = auditEventFor(change);
    if (event) this.sink(event);
  }
}
