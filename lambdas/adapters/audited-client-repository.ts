import type { ClientRecord, ClientRepository, Deletion } from '../core/clients/ports.js';
import type { Clock } from '../core/clock.js';
import type { FederatedTokenEvent } from '../core/federation/federated-tokens.js';
import type { TrustedIssuerEvent } from '../core/federation/issuer-audit.js';
import { type AuditEvent, auditEventFor, type ClientChange } from '../core/operator/audit.js';
import {
  noteRegistration,
  type RepeatedRegistrationEvent,
} from '../core/operator/client-health.js';
import { countEvents } from '../core/operator/client-statistics.js';
import type { ClientStatistics } from '../core/operator/ports.js';
import { type CapHolders, releasePlaces } from '../core/registration/client-caps.js';
import { logger } from '../log.js';

export type AuditSink = (
  event: AuditEvent | RepeatedRegistrationEvent | FederatedTokenEvent | TrustedIssuerEvent,
) => void;

/** Writes audit events as JSON lines (stdout by default). */
export const jsonLines =
  (write: (line: string) => void = (line) => process.stdout.write(line)): AuditSink =>
  (event) =>
    write(`${JSON.stringify({ audit: event })}\n`);

/**
 * Where the changes go: the statistics always, the audit sink when configured, and the places
 * under the active-client caps that departed clients give back.
 */
export interface ChangeListeners {
  readonly statistics: ClientStatistics;
  readonly sink?: AuditSink;
  readonly caps?: CapHolders;
}

/**
 * Local mode has no DynamoDB stream: this repository reports each client change to the same
 * mapping (auditEventFor) and counting rule the stream function uses in AWS, with the images a
 * stream would carry. The change is made first; a failed count is logged, never the caller's
 * failure (in AWS it happens after the response, too).
 */
export class AuditedClientRepository implements ClientRepository {
  constructor(
    private readonly inner: ClientRepository,
    private readonly clock: Clock,
    private readonly listeners: ChangeListeners,
  ) {}

  /** The sweep's deletions are expiries; the sweeper reports them here. */
  readonly expired = (record: ClientRecord): Promise<void> =>
    this.emit({ kind: 'REMOVE', oldImage: record, at: this.clock.now() });

  get(clientId: string) {
    return this.inner.get(clientId);
  }

  /** The change first, then its report: chained, not awaited (no suspended frame per client). */
  create(record: ClientRecord): Promise<void> {
    return this.inner
      .create(record)
      .then(() => this.emit({ kind: 'INSERT', newImage: record, at: this.clock.now() }));
  }

  async replace(record: ClientRecord): Promise<void> {
    const before = await this.inner.get(record.clientId);
    await this.inner.replace(record);
    await this.emit({
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
      await this.emit({ kind: 'REMOVE', oldImage: { ...before, deletion }, at: this.clock.now() });
    }
  }

  touch(...args: Parameters<ClientRepository['touch']>) {
    return this.inner.touch(...args);
  }

  private async emit(change: ClientChange): Promise<void> {
    const { caps, sink, statistics } = this.listeners;
    // Only a departure gives places back.
    if (caps && change.kind === 'REMOVE') {
      await releasePlaces([change], caps).catch((error: Error) =>
        logger.error('active-client places not given back', { error }),
      );
    }
    const event = auditEventFor(change);
    if (!event) return;
    sink?.(event);
    // try/catch rather than .catch(): no extra promise and handler on every change.
    try {
      await countEvents(statistics, [event]);
    } catch (error) {
      logger.error('statistics not updated', { error, event: event.type });
    }
    let repeated: RepeatedRegistrationEvent | undefined;
    try {
      repeated = await noteRegistration(statistics, event);
    } catch (error) {
      logger.error('registration runs not updated', { error });
    }
    if (repeated !== undefined) sink?.(repeated);
  }
}
