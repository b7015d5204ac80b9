import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { contextValues } from './config.js';
import type { DcrApi } from './constructs/dcr-api.js';
import { ServerlessDcr, type ServerlessDcrProps } from './serverless-dcr.js';

/**
 * The stack `cdk deploy` makes (bin/app.ts): the `ServerlessDcr` construct, configured by the
 * `dcr:*` context keys (cdk.json, `-c dcr:<key>=<value>`).
 */
export class ServerlessDcrStack extends Stack {
  readonly server: ServerlessDcr;
  readonly api: DcrApi;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);
    // Context values arrive as cdk.json holds them or as `-c` text; the construct parses every
    // value whatever its form. Its id `Default` adds nothing to its resources' logical ids, so
    // they are what they were when the stack built them itself.
    this.server = new ServerlessDcr(
      this,
      'Default',
      contextValues(this.node) as ServerlessDcrProps,
    );
    this.api = this.server.api;
  }
}
