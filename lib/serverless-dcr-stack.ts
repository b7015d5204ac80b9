import { CfnOutput, Duration, Stack, type StackProps, Token } from 'aws-cdk-lib';
import { type ITableV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, type Role } from 'aws-cdk-lib/aws-iam';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { TABLE_SCHEMA } from '../lambdas/adapters/table-schema.js';
import { defaultRegistrationAccess } from '../lambdas/config.js';
import { type DeployedFunction, environmentFor, type SettingName } from '../lambdas/settings.js';
import { ENDPOINTS, type Endpoint } from '../lambdas/wiring.js';
import { readDeployment } from './config.js';
import { Alarms } from './constructs/alarms.js';
import { AuditTrail } from './constructs/audit-trail.js';
import { CleanupSchedule } from './constructs/cleanup.js';
import { ClientTable } from './constructs/client-table.js';
import { DcrApi } from './constructs/dcr-api.js';
import { EndpointFunction } from './constructs/endpoint-function.js';
import { InteractiveLogin } from './constructs/interactive-login.js';
import { KeyRotationSchedule } from './constructs/key-rotation.js';
import { SigningKey } from './constructs/signing-key.js';
import { WrappingKey } from './constructs/wrapping-key.js';
import { DEFAULT_ROUTE_ENDPOINT, ENDPOINT_PATHS, IAM_ENDPOINTS } from './endpoints.js';
import { KEY_ROTATION, wrappedAccess } from './wrapped-signing.js';

/**
 * A partition key pattern (IAM `StringLike`): every item of one type (docs/architecture.md "Storage"), or one
 * partition by its exact key (`stats#software`, which a Query names).
 */
type KeyPattern = `${string}#*` | `stats#${string}`;

/**
 * DynamoDB actions that name their items' keys (a Query of the table: its partition), so IAM
 * can condition them on `LeadingKeys`.
 */
type ItemAction = 'GetItem' | 'BatchGetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'Query';

export interface Access {
  /** Item actions on the table, each on exactly the partition keys this function owns. */
  readonly items?: Partial<Record<ItemAction, readonly KeyPattern[]>>;
  /** Query on the expiry index: cleanup's only way to find what has expired. */
  readonly queryExpiryIndex?: true;
  /** Scan of the whole table: the operator's listing, search and stats. */
  readonly scan?: true;
  /** KMS: the signing key (kms mode), or the wrapping key (wrapped mode, lib/wrapped-signing). */
  readonly key?: 'sign' | 'publicKey' | 'unwrap' | 'generate';
}

/**
 * What each function may do, and nothing more: DynamoDB actions on the items it owns (one row
 * per action: the key patterns it may touch), and its use of the signing key. The stack grants
 * exactly this table; the stack tests read it back from the template.
 */
export const ACCESS: Record<Endpoint | 'cleanup' | 'audit', Access> = {
  discovery: {},
  jwks: { key: 'publicKey' },
  // GetItem: the software_id kill switch (is the software blocked?); GetItem + UpdateItem on an
  // initial access token: its check and its counted use (and place given back when the
  // client's own write fails); UpdateItem: the anonymous registration counters and the active
  // clients per software_id (abuse control; one atomic add each).
  register: {
    items: {
      GetItem: ['blocked#*', 'iat#*'],
      PutItem: ['client#*'],
      UpdateItem: ['iat#*', 'ratelimit#*', 'software#*'],
    },
  },
  // UpdateItem: the deletion marker written just before DeleteItem (audit reads it).
  'client-configuration': {
    items: {
      GetItem: ['client#*'],
      PutItem: ['client#*'],
      UpdateItem: ['client#*'],
      DeleteItem: ['client#*'],
    },
  },
  // PutItem: used client assertion ids; UpdateItem: the client's "last used" (token issuance
  // counts as use).
  // Codes are spent (UpdateItem) and read back on a refusal; grants (refresh token families)
  // are created, read, rotated and revoked.
  token: {
    items: {
      GetItem: ['client#*', 'code#*', 'grant#*'],
      PutItem: ['assertion#*', 'grant#*'],
      UpdateItem: ['client#*', 'code#*', 'grant#*'],
    },
    key: 'sign',
  },
  // Introspection reads revocations and refresh token families, revocation writes them (a
  // family's revocation is an update); both record used assertion ids, and count the
  // authenticated client's use ("last used").
  introspect: {
    items: {
      GetItem: ['client#*', 'revoked#*', 'grant#*'],
      PutItem: ['assertion#*'],
      UpdateItem: ['client#*'],
    },
    key: 'publicKey',
  },
  revoke: {
    items: {
      GetItem: ['client#*', 'grant#*'],
      PutItem: ['assertion#*', 'revoked#*'],
      UpdateItem: ['client#*', 'grant#*'],
    },
    key: 'publicKey',
  },
  // Reads the client asking, stores the authorization code it is given (the code's hash).
  authorize: {
    items: { GetItem: ['client#*'], PutItem: ['code#*'] },
  },
  // Deletes whatever has expired; reads and moves its own cursor.
  cleanup: {
    items: {
      GetItem: ['cleanup#*'],
      PutItem: ['cleanup#*'],
      // Day statistics expire too (their TTL puts them in the expiry index).
      DeleteItem: [
        'client#*',
        'revoked#*',
        'assertion#*',
        'stats#*',
        'code#*',
        'grant#*',
        'iat#*',
        'ratelimit#*',
        'software#*',
      ],
    },
    queryExpiryIndex: true,
  },
  // BatchGetItem: the statistics items (stats read a bounded number of items, never a scan);
  // UpdateItem on them: a recount of the active clients.
  // PutItem/DeleteItem on blocked#*: the software_id kill switch (block, unblock).
  admin: {
    items: {
      GetItem: ['client#*'],
      BatchGetItem: ['stats#*'],
      PutItem: ['blocked#*', 'client#*', 'iat#*'],
      UpdateItem: ['client#*', 'stats#*'],
      DeleteItem: ['blocked#*', 'client#*', 'iat#*'],
      // The software_ids with the most active clients: one partition of counters.
      Query: ['stats#software'],
    },
    scan: true,
    // The clients expiring soon (GET /admin/expiring-clients): keys from the expiry index.
    queryExpiryIndex: true,
  },
  // Reads the stream (granted by its event source); writes only counters: atomic adds to the
  // statistics items, and the places departed clients give back under the active-client caps
  // (their initial access token's, their software_id's).
  audit: { items: { UpdateItem: ['iat#*', 'software#*', 'stats#*'] } },
};

/**
 * `dynamodb:LeadingKeys` holds the partition key of the items a request names; it is
 * multivalued and must be used with `ForAllValues` (DynamoDB Developer Guide, "Using IAM policy
 * conditions for fine-grained access control"). `ForAllValues` "also returns true if there are
 * no context keys in the request" (IAM User Guide, "Single-valued vs. multivalued context
 * keys"), so `Null: false` insists on a key: an action that names none (Scan, an index Query)
 * cannot slip through a conditioned grant.
 */
const ownedKeys = (patterns: readonly string[]) => ({
  'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...patterns] },
  Null: { 'dynamodb:LeadingKeys': 'false' },
});

/**
 * One statement per set of owned keys, on the table itself. Two reads stay unconditioned. Scan
 * names no key: the Developer Guide leaves it out of its LeadingKeys examples "because Scan
 * returns all items regardless of the leading keys"; only the admin function has it. Cleanup's
 * Query names the index's partition key (`expiryDay`), not the table's, and AWS documents
 * LeadingKeys only as "the first key attribute of a table"; it is scoped to the expiry index
 * instead, which is KEYS_ONLY and holds only expiring items, whose deletes are conditioned.
 */
function grantTable(role: Role, table: ITableV2, access: Access): void {
  const byKeys = new Map<string, string[]>();
  for (const [action, patterns] of Object.entries(access.items ?? {})) {
    const keys = [...patterns].sort().join(' ');
    byKeys.set(keys, [...(byKeys.get(keys) ?? []), `dynamodb:${action}`]);
  }
  for (const [keys, actions] of byKeys) {
    role.addToPolicy(
      new PolicyStatement({
        actions,
        resources: [table.tableArn],
        conditions: ownedKeys(keys.split(' ')),
      }),
    );
  }
  if (access.scan) {
    role.addToPolicy(
      new PolicyStatement({ actions: ['dynamodb:Scan'], resources: [table.tableArn] }),
    );
  }
  if (access.queryExpiryIndex) {
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
    const { config, texts } = readDeployment(this.node);
    const logRetention = config.logRetentionDays as RetentionDays;

    const multiRegion = config.replicaRegions.length > 0;
    if (multiRegion) this.checkReplicaRegions(config.replicaRegions);
    // A replica region's stack (docs/deployment.md "Multi-region"): the global table's replica here, a
    // replica of the primary's multi-Region key, and no background work (the primary runs it).
    const primaryRegion = config.primaryRegion;
    if (primaryRegion !== undefined) this.checkReplicaRegions([primaryRegion], 'dcr:primaryRegion');
    const primaryKeyArn = primaryRegion === undefined ? undefined : config.primaryKeyArn;
    const table: ITableV2 =
      config.primaryTableName !== undefined
        ? TableV2.fromTableName(this, 'Clients', config.primaryTableName)
        : new ClientTable(this, 'Clients', {
            retain: config.retainData,
            replicaRegions: config.replicaRegions,
          }).table;
    // Generation 1 keeps the original construct id; each rotation adds a key beside the old one.
    const generation = config.signingKeyGeneration;
    // Wrapped mode: no asymmetric KMS key; a symmetric one wraps the rotating signing keys.
    const wrapped = config.signingMode === 'wrapped';
    const wrappingKey = wrapped
      ? new WrappingKey(this, 'WrappingKey', {
          multiRegion,
          ...(primaryKeyArn && { replicaOf: primaryKeyArn }),
        })
      : undefined;
    const signingKey = wrapped
      ? undefined
      : new SigningKey(this, generation === 1 ? 'SigningKey' : `SigningKeyGen${generation}`, {
          algorithm: config.signingAlgorithm,
          multiRegion,
          ...(primaryKeyArn && { replicaOf: primaryKeyArn }),
          ...(generation > 1 && { aliasName: `serverless-dcr-signing-gen${generation}` }),
        });
    this.api = new DcrApi(this, 'Http', {
      throttleRateLimit: config.throttleRateLimit,
      throttleBurstLimit: config.throttleBurstLimit,
      logRetention,
      ...(config.domainName &&
        config.certificateArn && {
          customDomain: {
            domainName: config.domainName,
            certificateArn: config.certificateArn,
            ...(config.mtlsDomainName &&
              config.mtlsTruststoreUri && {
                mtls: {
                  domainName: config.mtlsDomainName,
                  certificateArn: config.mtlsCertificateArn ?? config.certificateArn,
                  truststoreUri: config.mtlsTruststoreUri,
                  ...(config.mtlsTruststoreVersion && {
                    truststoreVersion: config.mtlsTruststoreVersion,
                  }),
                },
              }),
          },
        }),
    });
    const mtls = this.api.mtlsOrigin !== undefined;

    // Users sign in at the operator's provider, or at a Cognito user pool made here, or nowhere
    // (dcr:cognitoLogin=false without an upstream: no authorization endpoint at all).
    const login =
      config.upstreamIssuer !== undefined || config.cognitoLogin
        ? new InteractiveLogin(this, 'Login', {
            issuer: this.api.issuer,
            ...(config.upstreamIssuer !== undefined &&
              config.upstreamClientId !== undefined && {
                upstream: {
                  issuer: config.upstreamIssuer,
                  clientId: config.upstreamClientId,
                  ...(config.upstreamClientSecretArn && {
                    clientSecretArn: config.upstreamClientSecretArn,
                  }),
                },
              }),
            upstreamScopes: config.upstreamScopes,
            ...(config.cognitoDomainPrefix && { cognitoDomainPrefix: config.cognitoDomainPrefix }),
            retain: config.retainData,
          })
        : undefined;

    // Each setting's value for the functions (none of them a secret): from its `dcr:` key (or
    // the deployment's default), or what only the stack knows: names, ARNs, issuer, region.
    const values: Partial<Record<SettingName, string>> = {
      ...texts,
      tableName: table.tableName,
      ...(this.api.configuredIssuer && { issuer: this.api.configuredIssuer }),
      // The mutual TLS domain verifies client certificates against the truststore and passes
      // them on: tls_client_auth and certificate-bound tokens (RFC 8705) become possible.
      ...(mtls && { tlsClientAuth: 'on' }),
      // Discovery advertises the authorization endpoint when users can sign in.
      ...login?.settings,
      registrationAccess:
        texts.registrationAccess ?? [...defaultRegistrationAccess(mtls)].join(','),
      ...(signingKey && { kmsKeyId: signingKey.key.keyArn }),
      ...(wrappingKey && { kmsWrappingKeyId: wrappingKey.key.keyArn }),
      // Multi-region: refresh token families, codes and initial access tokens made here are
      // pinned to this region (docs/deployment.md "Multi-region").
      ...((multiRegion || primaryRegion !== undefined) && { region: this.region }),
      // Discovery publishes the endpoints' aliases on the mutual TLS domain (RFC 8705 §5).
      ...(this.api.mtlsOrigin !== undefined && { mtlsOrigin: this.api.mtlsOrigin }),
    };
    // No sign-in: no authorize function, no route to it.
    const endpoints = ENDPOINTS.filter((name) => login !== undefined || name !== 'authorize');

    const functions: Record<string, EndpointFunction> = {};
    // Cleanup, audit and key rotation run in the primary region only.
    const background = primaryRegion === undefined;
    const names: DeployedFunction[] = [
      ...endpoints,
      ...(background ? (['cleanup', 'audit'] as const) : []),
      ...(wrapped && background ? [KEY_ROTATION] : []),
    ];
    for (const name of names) {
      const access = wrapped
        ? wrappedAccess(name, ACCESS[name as keyof typeof ACCESS])
        : ACCESS[name as keyof typeof ACCESS];
      const fn = new EndpointFunction(this, `Function-${name}`, {
        entry: name,
        logRetention,
        tracing: config.tracing,
        environment: environmentFor(name, access.key !== undefined, values),
        ...(name === 'cleanup' && { timeout: Duration.minutes(5), memorySize: 512 }),
        ...(name === KEY_ROTATION && { timeout: Duration.minutes(1) }),
      });
      grantTable(fn.role, table, access);
      if (name === 'authorize') login?.grantRead(fn.role);
      if (access.key === 'sign') signingKey?.grantSign(fn.role);
      if (access.key === 'publicKey') signingKey?.grantPublicKey(fn.role);
      if (access.key === 'unwrap') wrappingKey?.grantUnwrap(fn.role);
      if (access.key === 'generate') wrappingKey?.grantGenerate(fn.role);
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

    for (const endpoint of endpoints) {
      this.api.route(
        endpoint,
        (functions[endpoint] as EndpointFunction).function,
        ENDPOINT_PATHS[endpoint],
        IAM_ENDPOINTS.has(endpoint),
      );
    }
    this.api.routeDefault((functions[DEFAULT_ROUTE_ENDPOINT] as EndpointFunction).function);

    if (wrapped && background) {
      new KeyRotationSchedule(this, 'KeyRotation', {
        function: (functions[KEY_ROTATION] as EndpointFunction).function,
        hours: config.keyRotationHours,
      });
    }

    if (background) {
      new CleanupSchedule(this, 'Cleanup', {
        function: (functions.cleanup as EndpointFunction).function,
        schedule: config.cleanupSchedule,
      });
    }
    const audit =
      background && table instanceof TableV2
        ? new AuditTrail(this, 'Audit', { table, function: functions.audit as EndpointFunction })
        : undefined;

    new Alarms(this, 'Alarms', {
      api: this.api.api,
      table,
      functions: Object.fromEntries(Object.entries(functions).map(([k, v]) => [k, v.function])),
      ...(audit && { auditFailures: audit.failures }),
      ...(config.alarmEmail && { email: config.alarmEmail }),
    });

    new CfnOutput(this, 'Issuer', { value: this.api.issuer, description: 'The OAuth issuer URL' });
    // The DNS records to create: each custom domain's name → its own regional domain name.
    if (this.api.domain) {
      new CfnOutput(this, 'DomainTarget', {
        value: this.api.domain.regionalDomainName,
        description: `CNAME (or Route 53 alias) target of ${config.domainName}`,
      });
    }
    if (this.api.mtlsDomain && this.api.mtlsOrigin !== undefined) {
      new CfnOutput(this, 'MtlsOrigin', {
        value: this.api.mtlsOrigin,
        description: 'Mutual TLS (RFC 8705): the host of the mtls_endpoint_aliases',
      });
      new CfnOutput(this, 'MtlsDomainTarget', {
        value: this.api.mtlsDomain.regionalDomainName,
        description: `CNAME (or Route 53 alias) target of ${config.mtlsDomainName}`,
      });
    }
    new CfnOutput(this, 'TableName', { value: table.tableName });
    if (signingKey) new CfnOutput(this, 'SigningKeyArn', { value: signingKey.key.keyArn });
    if (wrappingKey) new CfnOutput(this, 'WrappingKeyArn', { value: wrappingKey.key.keyArn });
    if (audit) new CfnOutput(this, 'AuditBusName', { value: audit.bus.eventBusName });
    if (login) {
      new CfnOutput(this, 'LoginCallbackUrl', {
        value: login.callbackUrl,
        description: 'The redirect URI to register at the upstream OpenID Provider',
      });
    }
    if (login?.userPool) {
      new CfnOutput(this, 'CognitoUserPoolId', {
        value: login.userPool.userPoolId,
        description: 'Add the users who may sign in here (no self sign-up)',
      });
    }
    new CfnOutput(this, 'AdminApiUrl', {
      value: `${this.api.issuer}/admin`,
      description: 'The operator API (IAM: execute-api:Invoke, SigV4); use dcr-admin --sigv4',
    });
  }

  /**
   * A global table and multi-Region keys need the stack's region at synth (TableV2 names each
   * replica's region; the functions are told theirs), and it must not be one of the replicas.
   */
  private checkReplicaRegions(regions: readonly string[], key = 'dcr:replicaRegions'): void {
    if (Token.isUnresolved(this.region)) {
      throw new Error(
        `invalid deployment configuration: ${key}: needs the stack’s region at synth: set AWS_REGION (or CDK_DEFAULT_REGION)`,
      );
    }
    if (regions.includes(this.region)) {
      throw new Error(
        `invalid deployment configuration: ${key}: must not ${key === 'dcr:replicaRegions' ? 'contain' : 'be'} the stack’s own region ${this.region}`,
      );
    }
  }
}
