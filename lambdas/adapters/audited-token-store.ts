import {
  type AssertionTokenEvent,
  type ExchangeTokenEvent,
  type FederatedSubjects,
  type FederatedTokenEvent,
  subjectUpdates,
} from '../core/federation/federated-tokens.js';
import type { TokenStore } from '../core/tokens/ports.js';
import { logger } from '../log.js';
import type { AuditSink } from './audited-client-repository.js';

/**
 * Local mode has no DynamoDB stream: this token store reports the audit events that the items
 * of spent assertions and exchanged tokens carry, once written, as the audit function does in
 * AWS — to the audit sink, and into the federated subjects' summaries. A failed summary is
 * logged, never the request's failure (in AWS it happens after the response).
 */
export class AuditedTokenStore implements TokenStore {
  constructor(
    private readonly inner: TokenStore,
    private readonly listeners: {
      readonly subjects: FederatedSubjects;
      readonly sink?: AuditSink;
    },
  ) {}

  revoke(...args: Parameters<TokenStore['revoke']>) {
    return this.inner.revoke(...args);
  }

  isRevoked(...args: Parameters<TokenStore['isRevoked']>) {
    return this.inner.isRevoked(...args);
  }

  useAssertionId(...args: Parameters<TokenStore['useAssertionId']>) {
    return this.inner.useAssertionId(...args);
  }

  useDpopProof(...args: Parameters<TokenStore['useDpopProof']>) {
    return this.inner.useDpopProof(...args);
  }

  async useIssuerAssertion(
    issuer: string,
    jti: string,
    expiresAt: number,
    event: AssertionTokenEvent,
  ): Promise<boolean> {
    const used = await this.inner.useIssuerAssertion(issuer, jti, expiresAt, event);
    if (used) await this.emit(event);
    return used;
  }

  async recordExchange(event: ExchangeTokenEvent): Promise<void> {
    await this.inner.recordExchange(event);
    await this.emit(event);
  }

  private async emit(event: FederatedTokenEvent): Promise<void> {
    this.listeners.sink?.(event);
    await this.listeners.subjects
      .record(subjectUpdates([event]))
      .catch((error: Error) => logger.error('federated subjects not updated', { error }));
  }
}
