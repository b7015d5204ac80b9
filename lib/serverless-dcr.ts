import { resolve } from 'node:path';
import { CfnOutput, Duration, Stack, Token } from 'aws-cdk-lib';
import { type ITableV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, type Role } from 'aws-cdk-lib/aws-iam';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { TABLE_SCHEMA } from '../lambdas/adapters/dynamodb/table-schema.js';
import { defaultRegistrationAccess } from '../lambdas/config.js';
import {
  type Access,
  accessOf,
  DEPLOYED_FUNCTIONS,
  type DeployedFunction,
  descriptorOf,
  ENDPOINTS,
} from '../lambdas/functions.js';
import { environmentFor, type SettingName } from '../lambdas/settings.js';
import { type DeploymentConfig, parseDeployment } from './config.js';
import { Alarms } from './constructs/alarms.js';
import { AuditTrail } from './constructs/audit-trail.js';
import { CleanupSchedule } from './constructs/cleanup.js';
import { ClientTable } from './constructs/client-table.js';
import { DcrApi } from './constructs/dcr-api.js';
import { DeployedLambda } from './constructs/deployed-lambda.js';
import { InteractiveLogin } from './constructs/interactive-login.js';
import { KeyRotationSchedule } from './constructs/key-rotation.js';
import { SigningKey } from './constructs/signing-key.js';
import { WrappingKey } from './constructs/wrapping-key.js';
import { regionProblems } from './deploy-rules.js';
import type { ServerlessDcrProps } from './serverless-dcr-props.js';

export type { ServerlessDcrProps };

/** The operator's logo's name in the bundles of the functions that serve it. */
const SERVICE_LOGO_FILE = 'service-logo';

/** API Gateway's path syntax: `{name}` where the router writes `:name`. */
const apiPath = (path: string) => path.replace(/:([A-Za-z]+)/g, '{$1}');

/** The KMS keys of a deployment: the asymmetric signing key, or (wrapped mode) the wrapping key. */
interface Keys {
  readonly signingKey?: SigningKey;
  readonly wrappingKey?: WrappingKey;
}

type Functions = Partial<Record<DeployedFunction, DeployedLambda>>;

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

/** A function's use of the KMS key its access names (and the retained keys' public halves). */
function grantKey(
  role: Role,
  access: Access,
  { signingKey, wrappingKey }: Keys,
  previousSigningKeyArns: readonly string[],
): void {
  if (access.key === 'sign') signingKey?.grantSign(role);
  if (access.key === 'publicKey') signingKey?.grantPublicKey(role);
  if (access.key === 'unwrap') wrappingKey?.grantUnwrap(role);
  if (access.key === 'generate') wrappingKey?.grantGenerate(role);
  if (access.key && previousSigningKeyArns.length > 0) {
    // The retained keys' policies already name these roles (same stack, same roles).
    role.addToPolicy(
      new PolicyStatement({
        actions: ['kms:GetPublicKey'],
        resources: [...previousSigningKeyArns],
      }),
    );
  }
}

/**
 * The whole server: an HTTP API whose routes each reach their own function, one table, the
 * signing key, the scheduled cleanup and the alarms; each function as lambdas/functions.ts
 * describes it. Configured by typed props, the deployment's settings (lambdas/settings.ts), checked
 * at synth with the rules and messages `cdk.json`'s `dcr:*` keys get; the server's region is its
 * stack's. One per stack (its KMS alias and Cognito domain are named after the deployment).
 */
export class ServerlessDcr extends Construct {
  readonly api: DcrApi;
  /** The OAuth issuer URL (the API's own, or `https://<domainName>`). */
  readonly issuer: string;
  readonly table: ITableV2;
  private readonly region: string;

  constructor(scope: Construct, id: string, props: ServerlessDcrProps = {}) {
    super(scope, id);
    this.region = Stack.of(this).region;
    const { config, texts } = parseDeployment(props);
    this.checkRegions(config);
    const table = this.clientTable(config);
    this.table = table;
    const keys = this.keys(config);
    this.api = this.httpApi(config);
    this.issuer = this.api.issuer;
    const login = this.interactiveLogin(config);
    const values = this.functionSettings(config, texts, table, keys, login);
    const functions = this.functions(config, table, keys, login, values);
    this.route(functions);
    const audit = this.backgroundWork(config, table, functions);
    new Alarms(this, 'Alarms', {
      api: this.api.api,
      table,
      functions: Object.fromEntries(Object.entries(functions).map(([k, v]) => [k, v.function])),
      ...(audit && { auditFailures: audit.failures }),
      ...(config.alarmEmail && { email: config.alarmEmail }),
    });
    this.outputs(config, table, keys, login, audit);
  }

  /** Cleanup, audit and key rotation run in the primary region only. */
  private isPrimary(config: DeploymentConfig): boolean {
    return config.primaryRegion === undefined;
  }

  private checkRegions(config: DeploymentConfig): void {
    const problems = regionProblems(config, this.region);
    if (problems.length > 0) {
      throw new Error(`invalid deployment configuration: ${problems.join('; ')}`);
    }
    if (config.replicaRegions.length > 0) this.checkReplicaRegions(config.replicaRegions);
    // A replica region's stack (docs/deployment.md "Multi-region"): the global table's replica here, a
    // replica of the primary's multi-Region key, and no background work (the primary runs it).
    if (config.primaryRegion !== undefined) {
      this.checkReplicaRegions([config.primaryRegion], 'dcr:primaryRegion');
    }
  }

  private clientTable(config: DeploymentConfig): ITableV2 {
    return config.primaryTableName !== undefined
      ? TableV2.fromTableName(this, 'Clients', config.primaryTableName)
      : new ClientTable(this, 'Clients', {
          retain: config.retainData,
          replicaRegions: config.replicaRegions,
        }).table;
  }

  private keys(config: DeploymentConfig): Keys {
    const multiRegion = config.replicaRegions.length > 0;
    const primaryKeyArn = config.primaryRegion === undefined ? undefined : config.primaryKeyArn;
    // Wrapped mode: no asymmetric KMS key; a symmetric one wraps the rotating signing keys.
    if (config.signingMode === 'wrapped') {
      return {
        wrappingKey: new WrappingKey(this, 'WrappingKey', {
          multiRegion,
          ...(primaryKeyArn && { replicaOf: primaryKeyArn }),
        }),
      };
    }
    // Generation 1 keeps the original construct id; each rotation adds a key beside the old one.
    const generation = config.signingKeyGeneration;
    return {
      signingKey: new SigningKey(
        this,
        generation === 1 ? 'SigningKey' : `SigningKeyGen${generation}`,
        {
          algorithm: config.signingAlgorithm,
          multiRegion,
          ...(primaryKeyArn && { replicaOf: primaryKeyArn }),
          ...(generation > 1 && { aliasName: `serverless-dcr-signing-gen${generation}` }),
        },
      ),
    };
  }

  private httpApi(config: DeploymentConfig): DcrApi {
    return new DcrApi(this, 'Http', {
      throttleRateLimit: config.throttleRateLimit,
      throttleBurstLimit: config.throttleBurstLimit,
      logRetention: config.logRetentionDays as RetentionDays,
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
  }

  /**
   * Users sign in at the operator's provider, or at a Cognito user pool made here, or nowhere
   * (dcr:cognitoLogin=false without an upstream: no authorization endpoint at all).
   */
  private interactiveLogin(config: DeploymentConfig): InteractiveLogin | undefined {
    if (config.upstreamIssuer === undefined && !config.cognitoLogin) return undefined;
    return new InteractiveLogin(this, 'Login', {
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
    });
  }

  /**
   * Each setting's value for the functions (none of them a secret): from its `dcr:` key (or
   * the deployment's default), or what only the stack knows: names, ARNs, issuer, region.
   */
  private functionSettings(
    config: DeploymentConfig,
    texts: Partial<Record<SettingName, string>>,
    table: ITableV2,
    { signingKey, wrappingKey }: Keys,
    login: InteractiveLogin | undefined,
  ): Partial<Record<SettingName, string>> {
    const mtls = this.api.mtlsOrigin !== undefined;
    const pinned = config.replicaRegions.length > 0 || config.primaryRegion !== undefined;
    return {
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
      ...(pinned && { region: this.region }),
      // Discovery publishes the endpoints' aliases on the mutual TLS domain (RFC 8705 §5).
      ...(this.api.mtlsOrigin !== undefined && { mtlsOrigin: this.api.mtlsOrigin }),
    };
  }

  /** Whether this deployment has the function: sign-in, region and signing mode decide. */
  private deploys(config: DeploymentConfig, name: DeployedFunction, signIn: boolean): boolean {
    const fn = descriptorOf(name);
    if (fn.signIn && !signIn) return false;
    if (fn.background && !this.isPrimary(config)) return false;
    return !fn.wrappedOnly || config.signingMode === 'wrapped';
  }

  /** One function per descriptor this deployment has, its role granted exactly its access. */
  private functions(
    config: DeploymentConfig,
    table: ITableV2,
    keys: Keys,
    login: InteractiveLogin | undefined,
    values: Partial<Record<SettingName, string>>,
  ): Functions {
    const functions: Functions = {};
    for (const name of DEPLOYED_FUNCTIONS) {
      if (!this.deploys(config, name, login !== undefined)) continue;
      const { signIn, memorySize, timeoutSeconds } = descriptorOf(name);
      const access = accessOf(name, config.signingMode === 'wrapped');
      const environment = environmentFor(name, access.key !== undefined, values);
      // The logo file travels in the bundle (Lambda's working directory), not in a variable.
      const logo = environment.DCR_SERVICE_LOGO;
      if (logo !== undefined) environment.DCR_SERVICE_LOGO = SERVICE_LOGO_FILE;
      const fn = new DeployedLambda(this, `Function-${name}`, {
        entry: name,
        logRetention: config.logRetentionDays as RetentionDays,
        tracing: config.tracing,
        environment,
        ...(logo !== undefined && { files: { [SERVICE_LOGO_FILE]: resolve(logo) } }),
        ...(timeoutSeconds !== undefined && { timeout: Duration.seconds(timeoutSeconds) }),
        ...(memorySize !== undefined && { memorySize }),
      });
      grantTable(fn.role, table, access);
      if (signIn) login?.grantRead(fn.role);
      grantKey(fn.role, access, keys, config.previousSigningKeyArns);
      functions[name] = fn;
    }
    return functions;
  }

  /** Each endpoint's paths to its function (IAM where its descriptor says); the rest by default. */
  private route(functions: Functions): void {
    const routed = ENDPOINTS.flatMap((name) => {
      const fn = functions[name];
      return fn === undefined ? [] : [{ name, fn, ...descriptorOf(name) }];
    });
    for (const { name, fn, paths = [], iam = false } of routed) {
      this.api.route(name, fn.function, paths.map(apiPath), iam);
    }
    const fallback = routed.find((endpoint) => endpoint.defaultRoute);
    if (fallback) this.api.routeDefault(fallback.fn.function);
  }

  /** The schedules of key rotation and cleanup, and the audit trail from the table's stream. */
  private backgroundWork(
    config: DeploymentConfig,
    table: ITableV2,
    functions: Functions,
  ): AuditTrail | undefined {
    const rotation = functions['key-rotation'];
    if (rotation) {
      new KeyRotationSchedule(this, 'KeyRotation', {
        function: rotation.function,
        hours: config.keyRotationHours,
      });
    }
    if (functions.cleanup) {
      new CleanupSchedule(this, 'Cleanup', {
        function: functions.cleanup.function,
        schedule: config.cleanupSchedule,
      });
    }
    return functions.audit && table instanceof TableV2
      ? new AuditTrail(this, 'Audit', { table, function: functions.audit })
      : undefined;
  }

  private outputs(
    config: DeploymentConfig,
    table: ITableV2,
    { signingKey, wrappingKey }: Keys,
    login: InteractiveLogin | undefined,
    audit: AuditTrail | undefined,
  ): void {
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
