import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import {
  type FederatedTokenEvent,
  storedTokenEvent,
} from '../../core/federation/federated-tokens.js';
import type { TrustedIssuerChange } from '../../core/federation/issuer-audit.js';
import type { ClientChange } from '../../core/operator/audit.js';
import type { FamilyChange } from '../../core/operator/client-health.js';
import { toRecord } from './dynamodb-client-repository.js';
import { recordOf as trustedIssuerOf } from './dynamodb-trusted-issuers.js';

type Image = Record<string, AttributeValue>;

/** The client changes in a DynamoDB stream batch (other items — tokens, cursor — are skipped). */
export function clientChanges(event: DynamoDBStreamEvent): ClientChange[] {
  const changes: ClientChange[] = [];
  for (const record of event.Records) {
    const data = record.dynamodb;
    const kind = record.eventName;
    if (!data || !kind || !data.Keys?.pk?.S?.startsWith('client#')) continue;
    const image = (value: unknown) =>
      value === undefined ? undefined : toRecord(unmarshall(value as Image));
    const oldImage = image(data.OldImage);
    const newImage = image(data.NewImage);
    changes.push({
      kind,
      ...(oldImage && { oldImage }),
      ...(newImage && { newImage }),
      at: Math.floor(data.ApproximateCreationDateTime ?? Date.now() / 1000),
    });
  }
  return changes;
}

/**
 * The refresh token families created or rotated in a stream batch (the audit function's filter
 * passes only creations and first rotations; revocation tombstones have no client and are skipped).
 */
export function familyChanges(event: DynamoDBStreamEvent): FamilyChange[] {
  const changes: FamilyChange[] = [];
  for (const record of event.Records) {
    const data = record.dynamodb;
    if (!data?.Keys?.pk?.S?.startsWith('grant#') || !data.NewImage) continue;
    const after = unmarshall(data.NewImage as Image);
    const before = data.OldImage && unmarshall(data.OldImage as Image);
    if (typeof after.clientId !== 'string' || typeof after.generation !== 'number') continue;
    changes.push({
      clientId: after.clientId,
      ...(typeof before?.generation === 'number' && { before: before.generation }),
      after: after.generation,
      at: Math.floor(data.ApproximateCreationDateTime ?? Date.now() / 1000),
    });
  }
  return changes;
}

/** Items that carry a token's audit event: a spent assertion's `jti`, an exchanged token's record. */
const TOKEN_EVENT_ITEMS = ['federated#', 'exchange#'];

/**
 * The audit events of tokens issued for assertions and by token exchange: carried by the items
 * those grants write (INSERTs only; their TTL removals are no events).
 */
export function tokenEvents(event: DynamoDBStreamEvent): FederatedTokenEvent[] {
  const events: FederatedTokenEvent[] = [];
  for (const record of event.Records) {
    const data = record.dynamodb;
    const pk = data?.Keys?.pk?.S;
    if (record.eventName !== 'INSERT' || !data?.NewImage || pk === undefined) continue;
    if (!TOKEN_EVENT_ITEMS.some((prefix) => pk.startsWith(prefix))) continue;
    const found = storedTokenEvent(data.NewImage.event?.S);
    if (found) events.push(found);
  }
  return events;
}

/** The changes of the operator's stored trusted issuers in a stream batch, with their images. */
export function trustedIssuerChanges(event: DynamoDBStreamEvent): TrustedIssuerChange[] {
  const changes: TrustedIssuerChange[] = [];
  for (const record of event.Records) {
    const data = record.dynamodb;
    if (!data?.Keys?.pk?.S?.startsWith('trusted-issuer#')) continue;
    const image = (value: unknown) =>
      value === undefined ? undefined : trustedIssuerOf(unmarshall(value as Image));
    const before = image(data.OldImage);
    const after = image(data.NewImage);
    changes.push({
      ...(before && { before }),
      ...(after && { after }),
      at: Math.floor(data.ApproximateCreationDateTime ?? Date.now() / 1000),
    });
  }
  return changes;
}
