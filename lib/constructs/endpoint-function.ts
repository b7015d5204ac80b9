import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface EndpointFunctionProps {
  /** Folder under lambdas/ holding handler.ts. */
  readonly endpoint: string;
  readonly environment: Record<string, string>;
  /** Default 256 MB. */
  readonly memorySize?: number;
  /** Default 10 s. */
  readonly timeout?: Duration;
  /** Default one month. */
  readonly logRetention?: RetentionDays;
}

/** Lambda runtime: the newest Node.js that aws-cdk-lib offers (never below 22). */
export const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;

const projectRoot = new URL('../..', import.meta.url).pathname;

/**
 * One endpoint's function: bundled locally by esbuild (no Docker) as minified ESM with the
 * AWS SDK v3 included, ARM64, with its own log group.
 */
export class EndpointFunction extends Construct {
  readonly function: NodejsFunction;

  constructor(scope: Construct, id: string, props: EndpointFunctionProps) {
    super(scope, id);
    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.function = new NodejsFunction(this, 'Function', {
      entry: `${projectRoot}lambdas/${props.endpoint}/handler.ts`,
      handler: 'handler',
      projectRoot,
      depsLockFilePath: `${projectRoot}package-lock.json`,
      runtime: LAMBDA_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      logGroup,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'serverless-dcr',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        minify: true,
        sourceMap: true,
        mainFields: ['module', 'main'],
        externalModules: [],
        // Bundled CommonJS dependencies call require(); ESM output has none of its own.
        banner:
          "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
      },
    });
  }
}
