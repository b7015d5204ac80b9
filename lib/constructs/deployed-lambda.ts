import { existsSync } from 'node:fs';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, type CfnFunction, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { environmentProblem } from '../deploy-rules.js';

export interface DeployedLambdaProps {
  /** Folder under lambdas/functions/ holding handler.ts. */
  readonly entry: string;
  readonly environment: Record<string, string>;
  readonly logRetention: RetentionDays;
  /** Default 256 MB. */
  readonly memorySize?: number;
  /** Default 10 s. */
  readonly timeout?: Duration;
  /** Active X-Ray tracing. Default false. */
  readonly tracing?: boolean;
  /** Files copied into the bundle: name in the bundle (the function's working directory) → path. */
  readonly files?: Readonly<Record<string, string>>;
}

const quoted = (path: string) => `'${path.replaceAll("'", `'\\''`)}'`;

/** Lambda runtime: the newest Node.js that aws-cdk-lib offers (never below 22). */
export const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;

const projectRoot = new URL('../..', import.meta.url).pathname;
/**
 * This checkout as the project the bundles are made in; where the package was installed as a
 * dependency it has no lock file (npm never packs package-lock.json), and CDK takes the app's
 * project instead: the lock file it finds up from the working directory, and that one's folder.
 */
const bundlingProject = existsSync(`${projectRoot}package-lock.json`)
  ? { projectRoot, depsLockFilePath: `${projectRoot}package-lock.json` }
  : {};

/** The AWS SDK's event-stream codec, left out of the bundles. */
const SDK_EVENT_STREAMS = '@smithy/core/event-streams';

/** What the bundles import in place of the SDK's default credential chain. */
const LAMBDA_CREDENTIALS = './lambdas/aws/lambda-credentials.ts';

/**
 * One function: bundled locally by esbuild (no Docker) as minified ESM with source maps and the
 * AWS SDK v3 inside, ARM64, with its own log group.
 */
export class DeployedLambda extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: DeployedLambdaProps) {
    super(scope, id);
    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Its own role, with no managed policy: it may write its own log group and, below, exactly
    // what the stack grants it.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    });
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    this.function = new NodejsFunction(this, 'Function', {
      entry: `${projectRoot}lambdas/functions/${props.entry}/handler.ts`,
      handler: 'handler',
      ...bundlingProject,
      runtime: LAMBDA_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: props.tracing ? Tracing.ACTIVE : Tracing.DISABLED,
      logGroup,
      role: this.role,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'serverless-dcr',
        POWERTOOLS_METRICS_NAMESPACE: 'ServerlessDcr',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        minify: true,
        // The settings table's documentation lines fold away (lambdas/settings.ts).
        define: { SETTINGS_DOCS: 'false' },
        // Source maps beside each bundle, for readable stack traces (NODE_OPTIONS above): their
        // mappings and names only. The sources' text is for debuggers, not stack traces; without
        // it a map is about a third of the size, which the first stack trace of a container
        // reads and parses (Node loads a map then, not at start).
        sourceMap: true,
        sourcesContent: false,
        mainFields: ['module', 'main'],
        // The SDK bundled, but for its event-stream codec (~20 KB minified, ~7 KB gzipped), which
        // the SDK imports on first use of an event-stream member: the clients the functions use
        // have none (test/unit/dependencies.test.ts), so it is never asked for.
        externalModules: [SDK_EVENT_STREAMS],
        // The SDK's credential chain as Lambda needs it (lambdas/aws/lambda-credentials.ts);
        // the path is relative to the project root, where the bundling runs.
        esbuildArgs: {
          '--alias': [`@aws-sdk/credential-provider-node=${LAMBDA_CREDENTIALS}`],
        },
        // Bundled CommonJS dependencies call require(); ESM output has none of its own.
        banner:
          "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
        ...(props.files && {
          commandHooks: {
            beforeBundling: () => [],
            beforeInstall: () => [],
            afterBundling: (_: string, outputDir: string) =>
              Object.entries(props.files ?? {}).map(
                ([name, path]) => `cp ${quoted(path)} ${quoted(`${outputDir}/${name}`)}`,
              ),
          },
        }),
      },
    });
    // Lambda refuses an environment over 4 KB: a large inline setting fails the synth instead.
    // Checked once the stack is complete (constructs add variables after this one is made).
    this.node.addValidation({
      validate: () => {
        const { environment } = this.function.node.defaultChild as CfnFunction;
        const resolved = Stack.of(this).resolve(environment) as
          | { variables?: Record<string, unknown> }
          | undefined;
        const problem = environmentProblem(this.node.id, resolved?.variables ?? {});
        return problem === undefined ? [] : [problem];
      },
    });
    if (props.tracing) {
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions',
      });
    }
  }
}
