import type { ClientRecord, RequestOrigin } from '../clients/ports.js';
import type { Writable } from '../writable.js';

export type AuditEventType =
  | 'client.registered'
  | 'client.updated'
  | 'client.secret_rotated'
  | 'client.deleted_by_client'
  | 'client.deleted_by_operator'
  | 'client.expired';

/** One change of a client item, as a DynamoDB stream record (or the local store) reports it. */
export interface ClientChange {
  readonly kind: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly oldImage?: ClientRecord;
  readonly newImage?: ClientRecord;
  /** When the change happened (integer seconds). */
  readonly at: number;
}

/** What the audit trail says about a client change. Never a secret, hash or token. */
export interface AuditEvent {
  readonly type: AuditEventType;
  readonly client_id: string;
  readonly client_name?: string;
  readonly software_id?: string;
  readonly registration_method?: string;
  /** The initial access token that registered the client. */
  readonly initial_access_token_id?: string;
  /**
   * What the client's access tokens must be bound to, when they must: its DPoP key
   * (`dpop_bound_access_tokens`) or its certificate (RFC 8705). Absent: Bearer is allowed.
   */
  readonly token_binding?: 'dpop' | 'certificate';
  /** The registered metadata's fingerprint (client-health.ts): identical registrations share it. */
  readonly metadata_fingerprint?: string;
  readonly source_ip?: string;
  /** Who acted, on the operator's changes: the IAM principal's ARN, or `admin-token` locally. */
  readonly actor?: string;
  readonly client_id_issued_at: number;
  readonly occurred_at: number;
}

function tokenBinding({ metadata }: ClientRecord): AuditEvent['token_binding'] {
  if (
    metadata.token_endpoint_auth_method === 'tls_client_auth' ||
    metadata.tls_client_certificate_bound_access_tokens
  )
    return 'certificate';
  return metadata.dpop_bound_access_tokens ? 'dpop' : undefined;
}

function event(
  type: AuditEventType,
  record: ClientRecord,
  at: number,
  origin: RequestOrigin = {},
): AuditEvent {
  // Members assigned in order, only when present (a conditional spread allocates an object per
  // member, on every registration).
  const { metadata } = record;
  const built: Partial<Writable<AuditEvent>> = {
    type,
    client_id: record.clientId,
  };
  if (metadata.client_name !== undefined) built.client_name = metadata.client_name;
  if (metadata.software_id !== undefined) built.software_id = metadata.software_id;
  if (record.registrationMethod !== undefined)
    built.registration_method = record.registrationMethod;
  if (record.initialAccessTokenId !== undefined)
    built.initial_access_token_id = record.initialAccessTokenId;
  const binding = tokenBinding(record);
  if (binding !== undefined) built.token_binding = binding;
  if (record.metadataFingerprint !== undefined)
    built.metadata_fingerprint = record.metadataFingerprint;
  if (origin.sourceIp !== undefined) built.source_ip = origin.sourceIp;
  if (origin.actor !== undefined) built.actor = origin.actor;
  // Last, after the optional members, as the events have always been written.
  built.client_id_issued_at = record.clientIdIssuedAt;
  built.occurred_at = at;
  return built as AuditEvent;
}

/**
 * The audit event for a client change, or undefined for changes that are not events: a use
 * (last used, expiry moved) or the deletion marker written just before a delete. A removal with
 * no deletion marker is an expiry: DynamoDB TTL or the cleanup took it.
 */
export function auditEventFor(change: ClientChange): AuditEvent | undefined {
  const { oldImage: before, newImage: after, at } = change;
  if (change.kind === 'INSERT' && after) {
    return event('client.registered', after, at, after.lastChange);
  }
  if (change.kind === 'REMOVE' && before) {
    const deletion = before.deletion;
    if (!deletion) return event('client.expired', before, at);
    const type =
      deletion.by === 'operator' ? 'client.deleted_by_operator' : 'client.deleted_by_client';
    return event(type, before, at, deletion);
  }
  if (change.kind === 'MODIFY' && before && after) {
    if (after.deletion) return undefined;
    const origin = after.lastChange;
    if (before.secretHash && after.secretHash && before.secretHash !== after.secretHash) {
      return event('client.secret_rotated', after, at, origin);
    }
    if (before.version !== after.version) return event('client.updated', after, at, origin);
  }
  return undefined;
}
