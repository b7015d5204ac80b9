import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';

export interface CleanupScheduleProps {
  readonly function: NodejsFunction;
  /** EventBridge schedule expression, e.g. `rate(1 hour)`. */
  readonly schedule: string;
}

/** Runs the cleanup function on a schedule; overlapping runs are safe, so no locking. */
export class CleanupSchedule extends Construct {
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: CleanupScheduleProps) {
    super(scope, id);
    this.rule = new Rule(this, 'Rule', {
      description: 'serverless-dcr: delete expired clients and token records',
      schedule: Schedule.expression(props.schedule),
      targets: [
        new LambdaFunction(props.function, { retryAttempts: 2, maxEventAge: Duration.hours(1) }),
      ],
    });
  }
}
