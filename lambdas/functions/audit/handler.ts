import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { DynamoDbClientStatistics } from '../../adapters/dynamodb/dynamodb-client-statistics.js';
import { DynamoDbFederatedSubjects } from '../../adapters/dynamodb/dynamodb-federated-subjects.js';
import { DynamoDbInitialAccessTokens } from '../../adapters/dynamodb/dynamodb-initial-access-tokens.js';
import { DynamoDbSoftwareClientCounts } from '../../adapters/dynamodb/dynamodb-software-client-counts.js';
import {
  clientChanges,
  familyChanges,
  tokenEvents,
  trustedIssuerChanges,
} from '../../adapters/dynamodb/dynamodb-stream.js';
import { documentClient } from '../../aws/dynamodb.js';
import { MetricUnit, metricsFor } from '../../aws/metrics.js';
import { loadConfig } from '../../config.js';
import {
  type FederatedTokenEvent,
  subjectUpdates,
} from '../../core/federation/federated-tokens.js';
import {
  type TrustedIssuerEvent,
  trustedIssuerEventFor,
} from '../../core/federation/issuer-audit.js';
import { type AuditEvent, auditEventFor } from '../../core/operator/audit.js';
import {
  familyCounterUpdates,
  noteRegistrations,
  type RepeatedRegistrationEvent,
} from '../../core/operator/client-health.js';
import { countEvents, mergeCounterUpdates } from '../../core/operator/client-statistics.js';
import { releasePlaces } from '../../core/registration/client-caps.js';
import { logger } from '../../log.js';

const metrics = metricsFor('audit');

/** PutEvents takes at most 10 entries per call. */
const BATCH = 10;

const config = loadConfig(process.env);
const busName = config.auditBusName;
if (!busName) throw new Error('invalid configuration: DCR_AUDIT_BUS_NAME is required');
const eventBridge = new EventBridgeClient({});
const dynamo = documentClient();
const statistics = new DynamoDbClientStatistics(dynamo, config.tableName);
const federatedSubjects = new DynamoDbFederatedSubjects(dynamo, config.tableName);
const caps = {
  initialAccessTokens: new DynamoDbInitialAccessTokens(dynamo, config.tableName),
  softwareCounts: new DynamoDbSoftwareClientCounts(dynamo, config.tableName),
};

/** Puts events on the bus, 10 per call; any refused entry fails the batch. */
async function publish(
  events: readonly (
    | AuditEvent
    | RepeatedRegistrationEvent
    | FederatedTokenEvent
    | TrustedIssuerEvent
  )[],
) {
  for (let i = 0; i < events.length; i += BATCH) {
    const entries = events.slice(i, i + BATCH).map((audit) => ({
      EventBusName: busName,
      Source: 'serverless-dcr',
      DetailType: audit.type,
      Detail: JSON.stringify(audit),
      Time: new Date(audit.occurred_at * 1000),
    }));
    const result = await eventBridge.send(new PutEventsCommand({ Entries: entries }));
    if (result.FailedEntryCount) {
      throw new Error(`EventBridge refused ${result.FailedEntryCount} audit events`);
    }
  }
}

/**
 * The table's stream → audit events on the EventBridge bus: registered, updated, secret rotated,
 * deleted by the client or the operator, expired (TTL or cleanup), and registrations repeating
 * identical metadata (`registration.repeated`); the batch's counters (refresh token families
 * created and first used, too)
 * (one atomic UpdateItem ADD per statistics item it touches), the tokens issued for trusted
 * issuers' assertions and by token exchange (`token.workload_identity`, `token.id_jag`,
 * `token.exchanged`, from the items those grants write) with each federated subject's summary
 * (one UpdateItem per subject and batch), the operator's changes to stored trusted issuers
 * (`trusted_issuer.created|updated|deleted`), and the places departed clients
 * held under the active-client caps given back (client-caps.ts). A failure fails the batch, so
 * Lambda retries it: events are at least once (consumers key on client_id + occurred_at), and a
 * batch retried after its counters were written counts twice. A batch that still fails after
 * the retries is named on the on-failure queue (its records stay in the stream for 24 hours).
 */
export const handler = async (event: DynamoDBStreamEvent) => {
  const changes = clientChanges(event);
  const events = changes.flatMap((change) => auditEventFor(change) ?? []);
  await publish(events);
  await countEvents(statistics, events);
  // Registrations repeating identical metadata (client-health.ts): noted once counted, so a
  // retried batch notes them again rather than never.
  const repeated = await noteRegistrations(statistics, events);
  await publish(repeated);
  // Refresh token families created and first used, per client (client health).
  const families = mergeCounterUpdates(familyCounterUpdates(familyChanges(event)));
  if (families.length > 0) await statistics.add(families);
  await releasePlaces(changes, caps);
  // Tokens of federated subjects and exchanges: published, then summed per subject.
  const tokens = tokenEvents(event);
  await publish(tokens);
  await federatedSubjects.record(subjectUpdates(tokens));
  // The operator's changes to stored trusted issuers: who may mint tokens here.
  const issuers = trustedIssuerChanges(event).flatMap(
    (change) => trustedIssuerEventFor(change) ?? [],
  );
  await publish(issuers);
  const count = events.length + repeated.length + tokens.length + issuers.length;
  metrics.addMetric('AuditEvents', MetricUnit.Count, count);
  metrics.publishStoredMetrics();
  logger.info('audit events published', {
    count,
    records: event.Records.length,
  });
};
