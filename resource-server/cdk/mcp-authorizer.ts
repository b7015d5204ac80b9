import { existsSync } from 'node:fs';
import { Duration } from 'aws-cdk-lib';
import {
  HttpLambdaAuthorizer,
  HttpLambdaResponseType,
} from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';

export interface McpAuthorizerProps {
  /** The authorization server's issuer identifier. */
  readonly issuer: string;
  /** The protected resource's canonical URL (the tokens' audience). */
  readonly resource: string;
  /** Scopes every request must carry. */
  readonly scopes?: readonly string[];
  /** Refuse Bearer tokens: DPoP-bound only. */
  readonly dpopRequired?: boolean;
  /** Check the MCP DPoP profile's `content_digest` (the integration compares the body). */
  readonly dpopContentDigest?: boolean;
}

/** Bundled locally by esbuild as ESM for Node 22+, with a require() for CommonJS dependencies. */
export const ESM_BUNDLING = {
  format: OutputFormat.ESM,
  target: 'node22',
  minify: true,
  sourceMap: true,
  mainFields: ['module', 'main'],
  banner:
    "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
};

const kitRoot = new URL('..', import.meta.url).pathname;
const projectRoot = new URL('../..', import.meta.url).pathname;
/**
 * This checkout as the project the bundles are made in; where the package was installed as a
 * dependency it has no lock file (npm never packs package-lock.json), and CDK takes the app's
 * project instead: the lock file it finds up from the working directory, and that one's folder.
 */
const bundlingProject = existsSync(`${projectRoot}package-lock.json`)
  ? { projectRoot, depsLockFilePath: `${projectRoot}package-lock.json` }
  : {};

/**
 * A Lambda request authorizer for API Gateway HTTP API routes, verifying this issuer's RFC 9068
 * access tokens (Bearer and DPoP) with the resource-server kit. The route's integration receives
 * the caller in `requestContext.authorizer.lambda` (`sub`, `client_id`, `scope`, `token_type`,
 * `jkt`, `content_digest`). Results are never cached: a DPoP proof is good for one request.
 */
export class McpAuthorizer extends Construct {
  readonly function: NodejsFunction;
  /** Pass as `authorizer` to `HttpApi.addRoutes`. */
  readonly authorizer: HttpLambdaAuthorizer;

  constructor(scope: Construct, id: string, props: McpAuthorizerProps) {
    super(scope, id);
    this.function = new NodejsFunction(this, 'Function', {
      entry: `${kitRoot}lambda-authorizer-handler.ts`,
      handler: 'handler',
      ...bundlingProject,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(10),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        RS_ISSUER: props.issuer,
        RS_RESOURCE: props.resource,
        RS_SCOPES: (props.scopes ?? []).join(' '),
        RS_DPOP_REQUIRED: String(props.dpopRequired ?? false),
        RS_DPOP_CONTENT_DIGEST: String(props.dpopContentDigest ?? false),
      },
      bundling: ESM_BUNDLING,
    });
    this.authorizer = new HttpLambdaAuthorizer('McpAuthorizer', this.function, {
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      identitySource: ['$request.header.Authorization'],
      // Off: a cached answer would accept a replayed DPoP proof, and outlive a revocation.
      resultsCacheTtl: Duration.seconds(0),
    });
  }
}
