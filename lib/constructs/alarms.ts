import { Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { type ITableV2, Operation } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface AlarmsProps {
  readonly api: HttpApi;
  readonly table: ITableV2;
  readonly functions: Readonly<Record<string, IFunction>>;
  /** Where the audit stream's failed batches go: any message there is an audit gap. */
  /** The audit trail's failures queue (none in a replica region's stack). */
  readonly auditFailures?: IQueue;
  /** Subscribed to the alarm topic when set. */
  readonly email?: string;
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * What an operator must hear about: the API answering 5xx, functions failing or throttled,
 * DynamoDB throttling, token signing unavailable (KMS throttled or the key unusable), and audit
 * batches given up on (events and counts missing until an operator replays them).
 */
export class Alarms extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    this.topic = new Topic(this, 'Topic', { enforceSSL: true });
    if (props.email) this.topic.addSubscription(new EmailSubscription(props.email));

    const serverErrors = new MathExpression({
      expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      usingMetrics: {
        errors: props.api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
        requests: props.api.metricCount({ period: FIVE_MINUTES, statistic: 'Sum' }),
      },
      label: 'API 5xx %',
      period: FIVE_MINUTES,
    });
    this.alarm('Api5xxRate', serverErrors, 1, 'More than 1% of API responses were 5xx');

    for (const [name, fn] of Object.entries(props.functions)) {
      this.alarm(`${name}-Errors`, fn.metricErrors({ period: FIVE_MINUTES }), 1, `${name} failed`);
      this.alarm(
        `${name}-Throttles`,
        fn.metricThrottles({ period: FIVE_MINUTES }),
        1,
        `${name} was throttled by Lambda`,
      );
    }

    this.alarm(
      'DynamoDbThrottles',
      props.table.metricThrottledRequestsForOperations({
        // The operations this server performs.
        operations: [
          Operation.GET_ITEM,
          Operation.PUT_ITEM,
          Operation.DELETE_ITEM,
          Operation.QUERY,
        ],
        period: FIVE_MINUTES,
      }),
      1,
      'DynamoDB throttled requests',
    );

    // Emitted by the token function (embedded metric format) when it answers 503: KMS throttled
    // or the signing key disabled (that case also logs "signing key unusable").
    const signingUnavailable = new Metric({
      namespace: 'ServerlessDcr',
      metricName: 'Rejections',
      dimensionsMap: {
        service: 'serverless-dcr',
        endpoint: 'token',
        error: 'temporarily_unavailable',
      },
      period: FIVE_MINUTES,
      statistic: 'Sum',
    });
    this.alarm('SigningUnavailable', signingUnavailable, 1, 'Token issuance answered 503');

    if (props.auditFailures) {
      this.alarm(
        'AuditFailures',
        props.auditFailures.metricApproximateNumberOfMessagesVisible({
          period: FIVE_MINUTES,
          statistic: 'Maximum',
        }),
        1,
        'The audit function gave up on stream records: audit events and statistics are missing',
      );
    }
  }

  private alarm(id: string, metric: IMetric, threshold: number, description: string) {
    const alarm = new Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}
