import { Duration, Validations } from 'aws-cdk-lib';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { DeployedLambda } from './deployed-lambda.js';

export interface AuditTrailProps {
  readonly table: TableV2;
  /** The function that turns stream records into audit events and counters. */
  readonly function: DeployedLambda;
}

/**
 * Client changes → audit events and statistics: the table's stream (client items, refresh token
 * families' creation and first rotation, spent assertions and exchanged tokens, the stored
 * trusted issuers' changes, filtered before
 * Lambda is invoked) feeds the audit function, which puts events on this bus
 * for operators to route and adds them to the statistics items. A batch that still fails after
 * the retries is recorded on the failures queue (shard and sequence numbers, for 14 days).
 */
export class AuditTrail extends Construct {
  readonly bus: EventBus;
  /** The stream batches the audit function gave up on; an alarm watches it. */
  readonly failures: Queue;

  constructor(scope: Construct, id: string, props: AuditTrailProps) {
    super(scope, id);
    this.bus = new EventBus(this, 'Bus', { description: 'serverless-dcr client audit events' });
    this.bus.grantPutEventsTo(props.function.role);
    props.function.function.addEnvironment('DCR_AUDIT_BUS_NAME', this.bus.eventBusName);
    this.failures = new Queue(this, 'Failures', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.failures).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'this queue is itself the dead-letter destination of the audit stream; an operator reads it',
    });
    props.function.function.addEventSource(
      new DynamoEventSource(props.table, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        bisectBatchOnError: true,
        retryAttempts: 10,
        onFailure: new SqsDlq(this.failures),
        filters: [
          FilterCriteria.filter({
            dynamodb: { Keys: { pk: { S: FilterRule.beginsWith('client#') } } },
          }),
          // Client health: a refresh token family created, and its first rotation (generation
          // 2); later rotations, the bulk of refresh traffic, never invoke the function.
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('INSERT'),
            dynamodb: { Keys: { pk: { S: FilterRule.beginsWith('grant#') } } },
          }),
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('MODIFY'),
            dynamodb: {
              Keys: { pk: { S: FilterRule.beginsWith('grant#') } },
              NewImage: { generation: { N: FilterRule.isEqual('2') } },
            },
          }),
          // The operator's changes to stored trusted issuers, each one an audit event.
          FilterCriteria.filter({
            dynamodb: { Keys: { pk: { S: FilterRule.beginsWith('trusted-issuer#') } } },
          }),
          // Tokens of federated subjects and token exchanges: the items those grants write
          // carry their audit events (their TTL removals never invoke the function).
          ...['federated#', 'exchange#'].map((prefix) =>
            FilterCriteria.filter({
              eventName: FilterRule.isEqual('INSERT'),
              dynamodb: { Keys: { pk: { S: FilterRule.beginsWith(prefix) } } },
            }),
          ),
        ],
      }),
    );
    Validations.of(props.function.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'dynamodb:ListStreams, granted with stream read, supports no resource-level permission',
    });
  }
}
