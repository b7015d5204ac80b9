import { CustomResource, Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';

export interface KeyRotationProps {
  /** The key-rotation function. */
  readonly function: NodejsFunction;
  /** A new signing key every this many hours. */
  readonly hours: number;
}

/**
 * When the wrapped mode's keys are made: a custom resource makes the first one at deploy
 * (CloudFormation invokes the rotation function itself, no provider framework), and a schedule
 * makes the next ones. Overlapping or retried runs add one key (a pending key stops them).
 */
export class KeyRotationSchedule extends Construct {
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: KeyRotationProps) {
    super(scope, id);
    this.rule = new Rule(this, 'Rule', {
      description: 'serverless-dcr: make the next access token signing key (wrapped mode)',
      schedule: Schedule.rate(Duration.hours(props.hours)),
      targets: [
        new LambdaFunction(props.function, { retryAttempts: 2, maxEventAge: Duration.hours(1) }),
      ],
    });
    new CustomResource(this, 'InitialKey', {
      serviceToken: props.function.functionArn,
      resourceType: 'Custom::SigningKeyring',
      // A function that never answers (failing at init) would otherwise hold the deploy for
      // CloudFormation's default hour. Making a key takes seconds; ten minutes leave room for
      // Lambda's two retries of an asynchronous invocation (after 1 and 2 minutes).
      serviceTimeout: Duration.minutes(10),
    });
  }
}
