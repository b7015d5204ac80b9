import { Validations } from 'aws-cdk-lib';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import type { EndpointFunction } from './endpoint-function.js';

export interface AuditTrailProps {
  readonly table: TableV2;
  /** The function that turns stream records into audit events. */
  readonly function: EndpointFunction;
}

/**
 * Client changes → audit events: the table's stream (client items only, filtered before Lambda
 * is invoked) feeds the audit function, which puts events on this bus for operators to route.
 */
export class AuditTrail extends Construct {
  readonly bus: EventBus;

  constructor(scope: Construct, id: string, props: AuditTrailProps) {
    super(scope, id);
    this.bus = new EventBus(this, 'Bus', { description: 'serverless-dcr client audit events' });
    this.bus.grantPutEventsTo(props.function.role);
    props.function.function.addEnvironment('DCR_AUDIT_BUS_NAME', this.bus.eventBusName);
    props.function.function.addEventSource(
      new DynamoEventSource(props.table, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        bisectBatchOnError: true,
        retryAttempts: 10,
        filters: [
          FilterCriteria.filter({
            dynamodb: { Keys: { pk: { S: FilterRule.beginsWith('client#') } } },
          }),
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
