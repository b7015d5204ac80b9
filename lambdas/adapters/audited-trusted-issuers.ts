import type { ChangeOrigin } from '../core/clients/ports.js';
import type { Clock } from '../core/clock.js';
import { trustedIssuerEventFor } from '../core/federation/issuer-audit.js';
import type { StoredTrustedIssuer, TrustedIssuerStore } from '../core/federation/ports.js';
import type { RegistryArchive } from '../core/operator/registry-archive.js';
import type { AuditSink } from './audited-client-repository.js';
import { recordOf } from './dynamodb/dynamodb-trusted-issuers.js';

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

  /**
   * The archive, its restored trusted issuers audited as created (an import writes them as it
   * writes any item; in AWS the stream sees their insertion).
   */
  auditing(archive: RegistryArchive): RegistryArchive {
    return {
      page: (cursor, scanLimit) => archive.page(cursor, scanLimit),
      restore: async (item) => {
        const written = await archive.restore(item);
        if (written && item.pk.startsWith('trusted-issuer#')) this.emit(undefined, recordOf(item));
        return written;
      },
    };
  }

  private emit(before: StoredTrustedIssuer | undefined, after: StoredTrustedIssuer | undefined) {
    const event = trustedIssuerEventFor({
      ...(before && { before }),
      ...(after && { after }),
      at: this.clock.now(),
    });
    if (event) this.sink(event);
  }
}
