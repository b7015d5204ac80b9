import type { ChangeOrigin } from '../core/clients/ports.js';
import type { Clock } from '../core/clock.js';
import { trustedIssuerEventFor } from '../core/federation/issuer-audit.js';
import type { StoredTrustedIssuer, TrustedIssuerStore } from '../core/federation/ports.js';
import type { AuditSink } from './audited-client-repository.js';

/**
 * Local mode has no DynamoDB stream: this store reports each change of a stored trusted issuer,
 * once made, to the same mapping (trustedIssuerEventFor) the audit function applies to the
 * stream in AWS, with the images a stream would carry.
 */
export class AuditedTrustedIssuers implements TrustedIssuerStore {
  constructor(
    private readonly inner: TrustedIssuerStore,
    private readonly clock: Clock,
    private readonly sink: AuditSink,
  ) {}

  get(issuer: string) {
    return this.inner.get(issuer);
  }

  page(...args: Parameters<TrustedIssuerStore['page']>) {
    return this.inner.page(...args);
  }

  async put(record: StoredTrustedIssuer): Promise<StoredTrustedIssuer | undefined> {
    const replaced = await this.inner.put(record);
    this.emit(replaced, record);
    return replaced;
  }

  async remove(issuer: string, removed: ChangeOrigin): Promise<StoredTrustedIssuer | undefined> {
    const record = await this.inner.remove(issuer, removed);
    if (record) this.emit(record, undefined);
    return record;
  }

  /** An issuer an import restored (written as the archive writes any item). */
  readonly restored = (record: StoredTrustedIssuer): void => this.emit(undefined, record);

  private emit(before: StoredTrustedIssuer | undefined, after: StoredTrustedIssuer | undefined) {
    const event = trustedIssuerEventFor({
      ...(before && { before }),
      ...(after && { after }),
      at: this.clock.now(),
    });
    if (event) this.sink(event);
  }
}
