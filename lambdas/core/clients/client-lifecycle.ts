import type { Clock } from '../clock.js';
import { OAuthError } from '../errors.js';
import {
  DEFAULT_REGISTRATION_ACCESS,
  DEFAULT_TIERS,
  documentClientUnderPolicy,
  type RegistrationPolicySettings,
} from '../registration/registration-policy.js';
import { MAX_IDENTIFIER_LENGTH } from './client-metadata.js';
import type {
  ClientRecord,
  ClientRepository,
  MetadataDocumentResult,
  MetadataDocumentSource,
} from './ports.js';

export interface LifecycleSettings {
  /** Longest a client lives after registration (caps its expires_at); 0 = no cap. */
  readonly clientMaxLifetimeSeconds: number;
  /** A client unused this long after its last use expires; 0 = never. */
  readonly clientIdleLifetimeSeconds: number;
  /** A client never used this long after registration expires; 0 = never. */
  readonly clientUnusedLifetimeSeconds: number;
  /** "Last used" is written at most once per this interval per client. */
  readonly lastUsedWriteIntervalSeconds: number;
  /** Lifetime of each newly issued client secret; 0 = secrets never expire. */
  readonly clientSecretLifetimeSeconds: number;
  /** The registration policy, which binds document clients as the `open` way (defaults: its own). */
  readonly registrationAccess?: RegistrationPolicySettings['registrationAccess'];
  readonly registrationTiers?: RegistrationPolicySettings['registrationTiers'];
}

/** registrationMethod of a client described by a Client ID Metadata Document (never stored). */
export const METADATA_DOCUMENT = 'metadata_document';

/** An https URL with a path: a Client ID Metadata Document's client_id (never a registered id). */
export const isMetadataDocumentUrl = (clientId: string): boolean => clientId.startsWith('https://');

type Timing = Pick<ClientRecord, 'clientIdIssuedAt' | 'expiresAt' | 'lastUsedAt'>;

/**
 * When a client stops existing: the earliest of its absolute expiry (expires_at, capped), the
 * idle limit after its last use, and the limit for a client never used at all. Every read path
 * asks this, so an expired client is gone at once; the stored item carries the same instant as
 * its TTL, so DynamoDB (and the cleanup) remove it eventually.
 */
export class ClientLifecycle {
  constructor(
    readonly repository: ClientRepository,
    readonly clock: Clock,
    private readonly settings: LifecycleSettings,
    /** Client ID Metadata Documents; absent = an https URL is no client_id here. */
    private readonly documents?: MetadataDocumentSource,
  ) {}

  /**
   * The client an authorization or public-client token request names: a registered client that
   * is active, or (an https URL) the client its Client ID Metadata Document describes. Why a
   * document cannot be used is said, since the user should learn it.
   */
  async resolve(clientId: string): Promise<MetadataDocumentResult | undefined> {
    if (this.documents && isMetadataDocumentUrl(clientId)) {
      const resolved = await this.documents.resolve(clientId);
      if (!('client' in resolved)) return resolved;
      const admitted = documentClientUnderPolicy(resolved.client.metadata, {
        registrationAccess: this.settings.registrationAccess ?? DEFAULT_REGISTRATION_ACCESS,
        registrationTiers: this.settings.registrationTiers ?? DEFAULT_TIERS,
      });
      return 'problem' in admitted
        ? admitted
        : { client: { ...resolved.client, metadata: admitted.metadata } };
    }
    const client = await this.findActive(clientId);
    return client && { client };
  }

  /** The absolute expiry granted for a requested `expires_at` (capped by the maximum lifetime). */
  grantedExpiry(requested: number | undefined, issuedAt: number): number | undefined {
    const max = this.settings.clientMaxLifetimeSeconds;
    if (max === 0) return requested;
    return Math.min(requested ?? Number.POSITIVE_INFINITY, issuedAt + max);
  }

  /** `client_secret_expires_at` of a secret issued now (registration, update, rotation); 0 = never. */
  secretExpiry(issuedAt: number): number {
    const lifetime = this.settings.clientSecretLifetimeSeconds;
    return lifetime === 0 ? 0 : issuedAt + lifetime;
  }

  /** Whether the client's current secret has expired (it can then only be replaced). */
  secretExpired(record: Pick<ClientRecord, 'clientSecretExpiresAt'>, now: number): boolean {
    return record.clientSecretExpiresAt !== 0 && record.clientSecretExpiresAt <= now;
  }

  /** The instant the client expires, all rules considered; undefined = never. */
  activeUntil(record: Timing): number | undefined {
    const { clientIdleLifetimeSeconds: idle, clientUnusedLifetimeSeconds: unused } = this.settings;
    const inactivity =
      record.lastUsedAt !== undefined
        ? idle > 0
          ? record.lastUsedAt + idle
          : undefined
        : unused > 0
          ? record.clientIdIssuedAt + unused
          : undefined;
    const candidates = [record.expiresAt, inactivity].filter((t): t is number => t !== undefined);
    return candidates.length > 0 ? Math.min(...candidates) : undefined;
  }

  /** A client that exists and has not expired, whatever DynamoDB TTL has done yet. */
  async findActive(clientId: string): Promise<ClientRecord | undefined> {
    const record = await this.find(clientId);
    return record && this.isActive(record) ? record : undefined;
  }

  /**
   * The stored record as it is — deleted (marked) or expired included — for the one caller that
   * must see a deletion interrupted between its marker and its removal (RFC 7592 delete).
   */
  find(clientId: string): Promise<ClientRecord | undefined> {
    // Identifiers come from outside (Basic, forms, assertions, paths): one over the bound is no
    // client, and never reaches the store (DynamoDB refuses keys over 2048 bytes with an error).
    if (
      typeof clientId !== 'string' ||
      clientId === '' ||
      clientId.length > MAX_IDENTIFIER_LENGTH
    ) {
      return Promise.resolve(undefined);
    }
    return this.repository.get(clientId);
  }

  /** Not deleted (marked) and not expired. */
  isActive(record: ClientRecord): boolean {
    if (record.deletion !== undefined) return false;
    const until = this.activeUntil(record);
    return until === undefined || until > this.clock.now();
  }

  /**
   * Writes `change(read)` in place of `read` (the repository's replace, conditional on the
   * version and the last use read). When the only thing that changed since the read is a use (a
   * token issued meanwhile, which does not bump the version), builds again from the fresh record
   * so the use is kept; a real conflict (another update, a deletion) is the repository's 409.
   */
  async replace<T extends { record: ClientRecord }>(
    read: ClientRecord,
    change: (current: ClientRecord) => T,
  ): Promise<T> {
    let current = read;
    for (let attempt = 1; ; attempt++) {
      const changed = change(current);
      try {
        await this.repository.replace(changed.record);
        return changed;
      } catch (error) {
        const conflict = error instanceof OAuthError && error.status === 409;
        const used = conflict && attempt < 3 ? await this.usedSince(current) : undefined;
        if (used === undefined) throw error;
        current = used;
      }
    }
  }

  /** The fresh record when the client was only used (not changed, not deleted) since `read`. */
  private async usedSince(read: ClientRecord): Promise<ClientRecord | undefined> {
    const latest = await this.repository.get(read.clientId);
    const onlyUsed =
      latest !== undefined &&
      this.isActive(latest) &&
      latest.version === read.version &&
      latest.lastUsedAt !== read.lastUsedAt;
    return onlyUsed ? latest : undefined;
  }

  /**
   * Counts a successful use (a token issued): moves the idle expiry forward, writing at most once
   * per interval per client, however many tokens it gets.
   */
  async markUsed(record: ClientRecord): Promise<void> {
    // A metadata document client is never stored: nothing to keep alive.
    if (record.registrationMethod === METADATA_DOCUMENT) return;
    const now = this.clock.now();
    const interval = this.settings.lastUsedWriteIntervalSeconds;
    if (record.lastUsedAt !== undefined && now - record.lastUsedAt < interval) return;
    const activeUntil = this.activeUntil({ ...record, lastUsedAt: now });
    await this.repository.touch(record.clientId, now, activeUntil, now - interval);
  }
}
