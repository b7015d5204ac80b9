import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, type Role } from 'aws-cdk-lib/aws-iam';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { TABLE_SCHEMA } from '../lambdas/adapters/table-schema.js';
import { ENDPOINTS, type Endpoint } from '../lambdas/wiring.js';
import { deploymentConfig } from './config.js';
import { Alarms } from './constructs/alarms.js';
import { AuditTrail } from './constructs/audit-trail.js';
import { CleanupSchedule } from './constructs/cleanup.js';
import { ClientTable } from './constructs/client-table.js';
import { DcrApi } from './constructs/dcr-api.js';
import { EndpointFunction } from './constructs/endpoint-function.js';
import { SigningKey } from './constructs/signing-key.js';
import { DEFAULT_ROUTE_ENDPOINT, ENDPOINT_PATHS, IAM_ENDPOINTS } from './endpoints.js';

/**
 * What each function may do, and nothing more: DynamoDB actions on the table (and its index),
 * and its use of the signing key.
 */
const ACCESS: Record<
  Endpoint | 'cleanup' | 'audit',
  { table: string[]; key?: 'sign' | 'publicKey' }
> = {
  discovery: { table: [] },
  jwks: { table: [], key: 'publicKey' },
  register: { table: ['dynamodb:PutItem'] },
  // UpdateItem: the deletion marker written just before DeleteItem (audit reads it).
  'client-configuration': {
    table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  },
  // PutItem: used client assertion ids (and, for revoke, revoked token ids); UpdateItem: the
  // client's "last used" (token issuance counts as use).
  token: { table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], key: 'sign' },
  introspect: { table: ['dynamodb:GetItem', 'dynamodb:PutItem'], key: 'publicKey' },
  revoke: { table: ['dynamodb:GetItem', 'dynamodb:PutItem'], key: 'publicKey' },
  cleanup: {
    table: ['dynamodb:Query', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem'],
  },
  // BatchGetItem: the statistics items (stats read a bounded number of items, never a scan).
  admin: {
    table: [
      'dynamodb:Scan',
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    ],
  },
  // Reads the stream (granted by its event source); AuditTrail grants its counters' UpdateItem,
  // on the statistics items' keys only.
  audit: { table: [] },
};

/** Item actions on the table itself; Query only on the expiry index. No wildcards. */
function grantTable(role: Role, table: TableV2, actions: string[]): void {
  const items = actions.filter((a) => a !== 'dynamodb:Query');
  if (items.length > 0) {
    role.addToPolicy(new PolicyStatement({ actions: items, resources: [table.tableArn] }));
  }
  if (actions.includes('dynamodb:Query')) {
    role.addToPolicy(
      new PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [`${table.tableArn}/index/${TABLE_SCHEMA.expiryIndex.name}`],
      }),
    );
  }
}

/**
 * The whole server: an HTTP API whose routes each reach their own function, one table, the
 * signing key, the scheduled cleanup and the alarms. Configured by `dcr:*` context keys.
 */
export class ServerlessDcrStack extends Stack {
  readonly api: DcrApi;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);
    const config = deploymentConfig(this.node);
    const logRetention = config.logRetentionDays as RetentionDays;

    const { table } = new ClientTable(this, 'Clients', { retain: config.retainData });
    // Generation 1 keeps the original construct id; each rotation adds a key beside the old one.
    const generation = config.signingKeyGeneration;
    const signingKey = new SigningKey(
      this,
      generation === 1 ? 'SigningKey' : `SigningKeyGen${generation}`,
      {
        algorithm: config.signingAlgorithm,
        ...(generation > 1 && { aliasName: `serverless-dcr-signing-gen${generation}` }),
      },
    );
    this.api = new DcrApi(this, 'Http', {
      throttleRateLimit: config.throttleRateLimit,
      throttleBurstLimit: config.throttleBurstLimit,
      logRetention,
      ...(config.domainName &&
        config.certificateArn && {
          customDomain: {
            domainName: config.domainName,
            certificateArn: config.certificateArn,
            ...(config.mtlsTruststoreUri && { mtlsTruststoreUri: config.mtlsTruststoreUri }),
            ...(config.mtlsTruststoreVersion && {
              mtlsTruststoreVersion: config.mtlsTruststoreVersion,
            }),
          },
        }),
    });

    // The same settings reach every function; none of them is a secret.
    const environment: Record<string, string> = {
      DCR_TABLE_NAME: table.tableName,
      DCR_ACCESS_TOKEN_LIFETIME_SECONDS: String(config.accessTokenLifetimeSeconds),
      DCR_CLIENT_MAX_LIFETIME_SECONDS: String(config.clientMaxLifetimeSeconds),
      DCR_CLIENT_SECRET_LIFETIME_SECONDS: String(config.clientSecretLifetimeSeconds),
      DCR_CLIENT_IDLE_LIFETIME_SECONDS: String(config.clientIdleLifetimeSeconds),
      DCR_CLIENT_UNUSED_LIFETIME_SECONDS: String(config.clientUnusedLifetimeSeconds),
      DCR_LAST_USED_WRITE_INTERVAL_SECONDS: String(config.lastUsedWriteIntervalSeconds),
      ...(this.api.configuredIssuer && { DCR_ISSUER: this.api.configuredIssuer }),
      ...(config.allowedScopes.length > 0 && {
        DCR_ALLOWED_SCOPES: config.allowedScopes.join(' '),
      }),
      ...(config.resources.length > 0 && { DCR_RESOURCES: config.resources.join(' ') }),
      ...(config.defaultAudience && { DCR_DEFAULT_AUDIENCE: config.defaultAudience }),
      ...(config.introspectorClientIds.length > 0 && {
        DCR_INTROSPECTOR_CLIENT_IDS: config.introspectorClientIds.join(' '),
      }),
    };

    const functions: Record<string, EndpointFunction> = {};
    for (const name of [...ENDPOINTS, 'cleanup', 'audit'] as const) {
      const access = ACCESS[name];
      const fn = new EndpointFunction(this, `Function-${name}`, {
        entry: name,
        logRetention,
        tracing: config.tracing,
        environment: {
          ...environment,
          ...(access.key && { DCR_KMS_KEY_ID: signingKey.key.keyArn }),
          ...(access.key &&
            config.previousSigningKeyArns.length > 0 && {
              DCR_KMS_PREVIOUS_KEY_IDS: config.previousSigningKeyArns.join(' '),
            }),
        },
        ...(name === 'cleanup' && { timeout: Duration.minutes(5), memorySize: 512 }),
      });
      grantTable(fn.role, table, access.table);
      if (access.key === 'sign') signingKey.grantSign(fn.role);
      if (access.key === 'publicKey') signingKey.grantPublicKey(fn.role);
      if (access.key && config.previousSigningKeyArns.length > 0) {
        // The retained keys' policies already name these roles (same stack, same roles).
        fn.role.addToPolicy(
          new PolicyStatement({
            actions: ['kms:GetPublicKey'],
            resources: config.previousSigningKeyArns,
          }),
        );
      }
      functions[name] = fn;
    }

    for (const endpoint of ENDPOINTS) {
      this.api.route(
        endpoint,
        (functions[endpoint] as EndpointFunction).function,
        ENDPOINT_PATHS[endpoint],
        IAM_ENDPOINTS.has(endpoint),
      );
    }
    this.api.routeDefault((functions[DEFAULT_ROUTE_ENDPOINT] as EndpointFunction).function);

    new CleanupSchedule(this, 'Cleanup', {
      function: (functions.cleanup as EndpointFunction).function,
      schedule: config.cleanupSchedule,
    });

    const audit = new AuditTrail(this, 'Audit', {
      table,
      function: functions.audit as EndpointFunction,
    });

    new Alarms(this, 'Alarms', {
      api: this.api.api,
      table,
      functions: Object.fromEntries(Object.entries(functions).map(([k, v]) => [k, v.function])),
      auditFailures: audit.failures,
      ...(config.alarmEmail && { email: config.alarmEmail }),
    });

    new CfnOutput(this, 'Issuer', { value: this.api.issuer, description: 'The OAuth issuer URL' });
    new CfnOutput(this, 'TableName', { value: table.tableName });
    new CfnOutput(this, 'SigningKeyArn', { value: signingKey.key.keyArn });
    new CfnOutput(this, 'AuditBusName', { value: audit.bus.eventBusName });
    new CfnOutput(this, 'AdminApiUrl', {
      value: `${this.api.issuer}/admin`,
      description: 'The operator API (IAM: execute-api:Invoke, SigV4); use dcr-admin --sigv4',
    });
  }
}
