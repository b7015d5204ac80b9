import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { HttpApi, HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { Construct } from 'constructs';
import { ENDPOINTS, SIGNING_ENDPOINTS } from '../lambdas/wiring.js';
import { ClientTable } from './constructs/client-table.js';
import { EndpointFunction } from './constructs/endpoint-function.js';
import { type SigningAlgorithm, SigningKey } from './constructs/signing-key.js';
import { ENDPOINT_ROUTES } from './endpoints.js';

export interface ServerlessDcrStackProps extends StackProps {
  /** Keep the table when the stack is deleted. Default: true. */
  readonly retainData?: boolean;
  /** Access token signing algorithm. Default: RS256. */
  readonly signingAlgorithm?: SigningAlgorithm;
}

/** The whole server: an HTTP API whose routes each reach their own function, and one table. */
export class ServerlessDcrStack extends Stack {
  constructor(scope: Construct, id: string, props: ServerlessDcrStackProps = {}) {
    super(scope, id, props);
    const { table } = new ClientTable(this, 'Clients', { retain: props.retainData ?? true });
    const signingKey = new SigningKey(this, 'SigningKey', {
      ...(props.signingAlgorithm && { algorithm: props.signingAlgorithm }),
    });

    // $default stage: the API's URL has no path, so it is a clean issuer.
    const api = new HttpApi(this, 'Api', { createDefaultStage: true });

    for (const endpoint of ENDPOINTS) {
      const signs = SIGNING_ENDPOINTS.has(endpoint);
      const { function: fn } = new EndpointFunction(this, `Endpoint-${endpoint}`, {
        endpoint,
        environment: {
          DCR_TABLE_NAME: table.tableName,
          ...(signs && { DCR_KMS_KEY_ID: signingKey.key.keyArn }),
        },
      });
      if (endpoint !== 'discovery' && endpoint !== 'jwks') table.grantReadWriteData(fn);
      if (signs) signingKey.grantPublicKey(fn);
      if (endpoint === 'token') signingKey.grantSign(fn);

      const integration = new HttpLambdaIntegration(`${endpoint}-integration`, fn);
      const { methods, paths } = ENDPOINT_ROUTES[endpoint];
      for (const path of paths) {
        api.addRoutes({
          path,
          methods: [...methods.map((m) => HttpMethod[m]), HttpMethod.OPTIONS],
          integration,
        });
      }
    }

    new CfnOutput(this, 'Issuer', { value: api.apiEndpoint, description: 'The OAuth issuer URL' });
    new CfnOutput(this, 'TableName', { value: table.tableName });
    new CfnOutput(this, 'SigningKeyArn', { value: signingKey.key.keyArn });
  }
}
