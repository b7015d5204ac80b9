// biome-ignore-all lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type RequestListener,
  type ServerResponse,
} from 'node:http';
import { createServer as createTlsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  DynamoDBRecord,
} from 'aws-lambda';
import type { LocalApp } from '../../local/app.js';
import { startEmbeddedStore } from '../../local/embedded-store.js';
import { allows, keyPolicyAllows, leadingKeys, type PolicyStatement } from './iam-policy.js';
import { startKmsServer } from './kms-server.js';
import { secretsManagerStandIn } from './secrets-manager-stand-in.js';
import { matchesFilter, streamed } from './table-stream.js';
import { STACK_UPSTREAM } from './upstream-client.js';

type Resource = { Type: string; Properties: any };
export type Template = { Resources: Record<string, Resource>; Outputs?: Record<string, any> };

export const STACK_NAME = 'ServerlessDcr';
const TABLE_NAME = 'dcr-stack';
const ACCOUNT = '000000000000';
/** The ARN a KMS key of the template has locally. */
const keyArn = (logicalId: string) => `arn:aws:kms:local:${ACCOUNT}:key/${logicalId}`;
/** The ARN a role of the template has locally. */
const roleArn = (logicalId: string) => `arn:aws:iam::${ACCOUNT}:role/${logicalId}`;

const RUNTIME = new URL('./lambda-runtime.mjs', import.meta.url);

type Invoke = (event: unknown, context: unknown) => Promise<unknown>;

/**
 * One function's execution environment: a worker thread with exactly the function's environment,
 * which imports the bundle natively (as Lambda does, not through vitest) once.
 */
async function startFunction(bundle: string, env: Record<string, string>) {
  const worker = new Worker(RUNTIME, {
    workerData: { bundle: pathToFileURL(bundle).href },
    env,
    stdout: false,
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.on(
      'message',
      (message: { ready?: true; id?: number; result?: unknown; error?: string }) => {
        if (message.ready) return resolve();
        const call = pending.get(message.id as number);
        pending.delete(message.id as number);
        if (message.error !== undefined) call?.reject(new Error(message.error));
        else call?.resolve(message.result);
      },
    );
  });
  // An environment that dies (crash, timeout) fails its invocations in flight, as Lambda does.
  worker.on('exit', (code) => {
    for (const call of pending.values()) call.reject(new Error(`the function exited (${code})`));
    pending.clear();
  });
  let next = 0;
  const invoke: Invoke = (event, context) =>
    new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, event, context });
    });
  return { invoke, stop: () => worker.terminate() };
}

export const readTemplate = (cdkOut: string, stackName = STACK_NAME): Template =>
  JSON.parse(readFileSync(join(cdkOut, `${stackName}.template.json`), 'utf8'));

const ofType = (template: Template, type: string) =>
  Object.entries(template.Resources).filter(([, r]) => r.Type === type);

/** The ARN a generated secret of the template has locally. */
const secretArn = (logicalId: string) =>
  `arn:aws:secretsmanager:local:000000000000:secret:${logicalId}-AbCdEf`;

const PSEUDO: Record<string, string> = {
  'AWS::Region': 'local',
  'AWS::AccountId': '000000000000',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::Partition': 'aws',
};

/** Resolves the intrinsic functions a function's environment uses, against the local stand-ins. */
function resolve(value: unknown, template: Template): string {
  if (typeof value === 'string') return value;
  const ref = (value as { Ref?: string }).Ref;
  const type = ref && template.Resources[ref]?.Type;
  if (type === 'AWS::DynamoDB::GlobalTable') return TABLE_NAME;
  if (type === 'AWS::Events::EventBus') return 'dcr-audit-local';
  if (type === 'AWS::SecretsManager::Secret') return secretArn(ref as string);
  if (type === 'AWS::Cognito::UserPool') return 'local_UserPool';
  if (type === 'AWS::Cognito::UserPoolClient') return 'local-user-pool-client';
  if (ref && PSEUDO[ref]) return PSEUDO[ref];
  const getAtt = (value as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
  if (getAtt && template.Resources[getAtt[0]]?.Type === 'AWS::KMS::Key') return keyArn(getAtt[0]);
  if (getAtt && template.Resources[getAtt[0]]?.Type === 'AWS::IAM::Role') return roleArn(getAtt[0]);
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join) return join[1].map((part) => resolve(part, template)).join(join[0]);
  throw new Error(`cannot resolve ${JSON.stringify(value)} for a local run`);
}

/** A statement with its resources resolved where the stand-ins know them (secrets' ARNs). */
function resolveResources(statement: PolicyStatement, template: Template): PolicyStatement {
  const resources = [statement.Resource].flat().map((r) => {
    try {
      return resolve(r, template);
    } catch {
      return r; // a table or key ARN: the gates of those services do not look at it
    }
  });
  return { ...statement, Resource: resources };
}

/** Intrinsics resolved wherever the stand-ins know them (principals, conditions), else kept. */
function resolveDeep(value: unknown, template: Template): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveDeep(v, template));
  if (value === null || typeof value !== 'object') return value;
  if (Object.keys(value).some((k) => k === 'Ref' || k.startsWith('Fn::'))) {
    try {
      return resolve(value, template);
    } catch {
      return value;
    }
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveDeep(v, template)]));
}

/** The KMS keys of the template and their key policies, by their local ARN. */
export function keyPolicies(template: Template): Map<string, PolicyStatement[]> {
  return new Map(
    ofType(template, 'AWS::KMS::Key').map(([id, key]) => [
      keyArn(id),
      resolveDeep(key.Properties.KeyPolicy.Statement, template) as PolicyStatement[],
    ]),
  );
}

/** What the KMS gate needs beyond the roles' policies: each key's policy and each caller's role. */
export interface KeyAuthority {
  readonly policies: ReadonlyMap<string, readonly PolicyStatement[]>;
  /** Caller (a function's logical id) → its role's ARN. */
  readonly roles: ReadonlyMap<string, string>;
}

/**
 * The secrets the template creates, with generated values (as Secrets Manager would generate
 * them), and the operator's upstream client secret the e2e configuration names.
 */
function templateSecrets(template: Template): Map<string, string> {
  const secrets = new Map<string, string>([
    [STACK_UPSTREAM.clientSecretArn, STACK_UPSTREAM.clientSecret],
  ]);
  for (const [id] of ofType(template, 'AWS::SecretsManager::Secret')) {
    secrets.set(secretArn(id), randomBytes(48).toString('base64url').slice(0, 64));
  }
  return secrets;
}

export interface StackFunction {
  readonly logicalId: string;
  /** Its role's ARN (what KMS sees as `aws:PrincipalArn`). */
  readonly roleArn: string;
  /** Its role's Allow statements (actions and their conditions). */
  readonly statements: readonly PolicyStatement[];
  /** The bundled entry file in cdk.out. */
  readonly bundle: string;
  readonly environment: Record<string, string>;
}

/** Every Lambda function of the template: its bundle in cdk.out and its resolved environment. */
export function stackFunctions(cdkOut: string, template = readTemplate(cdkOut)): StackFunction[] {
  return ofType(template, 'AWS::Lambda::Function').map(([logicalId, fn]) => {
    const assetHash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
    const [file, exported] = String(fn.Properties.Handler).split('.');
    if (exported !== 'handler')
      throw new Error(`${logicalId}: unexpected handler ${fn.Properties.Handler}`);
    const environment = Object.fromEntries(
      Object.entries(fn.Properties.Environment?.Variables ?? {}).map(([k, v]) => [
        k,
        resolve(v, template),
      ]),
    );
    const role = fn.Properties.Role['Fn::GetAtt'][0] as string;
    const statements = ofType(template, 'AWS::IAM::Policy')
      .filter(([, p]) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === role))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement)
      .filter((statement: PolicyStatement) => statement.Effect === 'Allow')
      .map((statement: PolicyStatement) => resolveResources(statement, template));
    return {
      logicalId,
      roleArn: roleArn(role),
      statements,
      bundle: join(cdkOut, `asset.${assetHash}`, `${file}.mjs`),
      environment,
    };
  });
}

/** A call the IAM gate let through, for the AWS stand-in behind it. */
export interface UpstreamRequest {
  /** The API operation (X-Amz-Target), e.g. PutItem. */
  readonly operation: string;
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}
export interface UpstreamReply {
  readonly status: number;
  readonly headers: OutgoingHttpHeaders;
  readonly body: Buffer;
}
/** An AWS stand-in, as the IAM gate reaches it. */
export type Upstream = (request: UpstreamRequest) => Promise<UpstreamReply>;

/** The function a SigV4-signed call comes from: its access key id is its logical id. */
const callerOf = (authorization: string | undefined) =>
  String(authorization ?? '').match(/Credential=([^/]+)\//)?.[1] ?? '';

/** A stand-in that listens on a loopback endpoint. */
export const httpUpstream =
  (endpoint: string): Upstream =>
  (request) =>
    new Promise((resolve, reject) => {
      const target = new URL(endpoint);
      const forward = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: request.method,
          path: request.path,
          headers: request.headers,
        },
        (upstreamRes) => {
          const chunks: Buffer[] = [];
          upstreamRes.on('data', (c: Buffer) => chunks.push(c));
          upstreamRes.on('error', reject);
          upstreamRes.on('end', () =>
            resolve({
              status: upstreamRes.statusCode ?? 502,
              headers: upstreamRes.headers,
              body: Buffer.concat(chunks),
            }),
          );
        },
      );
      forward.on('error', reject);
      forward.end(request.body);
    });

/** EventBridge (PutEvents) as far as the audit function needs it: every entry accepted. */
const eventBridgeUpstream: Upstream = async (request) => {
  if (request.operation !== 'PutEvents') throw new Error(`no ${request.operation} here`);
  const { Entries = [] } = JSON.parse(request.body.toString('utf8')) as {
    Entries?: { Detail?: string }[];
  };
  // As the local server's audit lines: the tests' secret hygiene check reads them.
  for (const entry of Entries) process.stdout.write(`{"audit":${entry.Detail ?? 'null'}}\n`);
  return {
    status: 200,
    headers: { 'content-type': 'application/x-amz-json-1.1' },
    body: Buffer.from(
      JSON.stringify({
        FailedEntryCount: 0,
        Entries: Entries.map(() => ({ EventId: randomUUID() })),
      }),
    ),
  };
};

/**
 * Stands between the functions and a local AWS stand-in and enforces IAM as AWS would: each
 * function signs with its own access key id (its logical id), and a call its role's policies do
 * not allow, conditions included (the partition keys a DynamoDB call names), is refused with
 * AccessDeniedException.
 */
export async function startIamGate(
  upstream: Upstream,
  service: 'dynamodb' | 'kms' | 'events' | 'secretsmanager',
  policies: ReadonlyMap<string, readonly PolicyStatement[]>,
  denied: string[],
  /** Every allowed call, by the function that made it (what an operation costs in AWS). */
  calls: AwsCall[] = [],
  /** KMS: the template's key policies, which must allow a call on their key as well. */
  keyAuthority?: KeyAuthority,
) {
  return serveOnLoopback((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const caller = callerOf(req.headers.authorization);
      const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      const action = `${service}:${operation}`;
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      const keys = service === 'dynamodb' ? leadingKeys(operation, body) : undefined;
      // Secrets and keys: the policy must name the very secret or key (resource-level).
      const resource =
        service === 'secretsmanager'
          ? String(body.SecretId ?? '')
          : service === 'kms'
            ? String(body.KeyId ?? '')
            : undefined;
      const context = {
        'dynamodb:LeadingKeys': keys,
        // KMS conditions on the encryption context (the wrapping key's policy has them).
        ...Object.fromEntries(
          Object.entries((service === 'kms' && body.EncryptionContext) || {}).map(([k, v]) => [
            `kms:EncryptionContext:${k}`,
            [String(v)],
          ]),
        ),
      };
      const identityAllows = () => allows(policies.get(caller) ?? [], action, context, resource);
      // A key of the template: its key policy decides, delegating to IAM where it trusts the
      // account. (Keys from outside the template, such as retained ones, have IAM only here.)
      const keyPolicy = resource === undefined ? undefined : keyAuthority?.policies.get(resource);
      const allowed =
        keyPolicy === undefined
          ? identityAllows()
          : keyPolicyAllows(
              keyPolicy,
              { arn: keyAuthority?.roles.get(caller) ?? caller, account: ACCOUNT },
              action,
              context,
              identityAllows,
            );
      if (!allowed) {
        denied.push(
          `${caller} ${action}${keys ? ` on ${keys.join(', ')}` : ''}${resource ? ` on ${resource}` : ''}`,
        );
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(
          JSON.stringify({
            __type: 'AccessDeniedException',
            message: `${caller} may not ${action}`,
          }),
        );
        return;
      }
      calls.push({ caller, action });
      upstream({
        operation,
        method: req.method ?? 'POST',
        path: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks),
      }).then(
        (reply) => {
          res.writeHead(reply.status, reply.headers);
          res.end(reply.body);
        },
        () => res.destroy(),
      );
    });
  });
}

/** One AWS API call a function made: its logical id and `service:Operation`. */
export interface AwsCall {
  readonly caller: string;
  readonly action: string;
}

/**
 * What CloudFormation does with the template's custom resources on a first deploy: invokes the
 * function each one's ServiceToken names with a Create request, and waits for its answer on the
 * pre-signed ResponseURL (here a loopback one). A FAILED answer fails the "deploy".
 */
async function createCustomResources(
  template: Template,
  invoke: (functionId: string, event: unknown) => Promise<unknown>,
) {
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (
      resource.Type !== 'AWS::CloudFormation::CustomResource' &&
      !resource.Type.startsWith('Custom::')
    )
      continue;
    const [functionId, attribute] = resource.Properties.ServiceToken?.['Fn::GetAtt'] ?? [];
    if (template.Resources[functionId]?.Type !== 'AWS::Lambda::Function' || attribute !== 'Arn') {
      throw new Error(
        `${id}: only custom resources served by the template's functions are emulated`,
      );
    }
    const answers: Record<string, unknown>[] = [];
    const responder = await serveOnLoopback((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'PUT') answers.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(req.method === 'PUT' ? 200 : 405);
        res.end();
      });
    });
    const { ServiceToken: _token, ...properties } = resource.Properties;
    try {
      await invoke(functionId, {
        RequestType: 'Create',
        ServiceToken: `arn:aws:lambda:local:000000000000:function:${functionId}`,
        ResponseURL: `${responder.endpoint}/cloudformation-response/${id}`,
        StackId: `arn:aws:cloudformation:local:000000000000:stack/${STACK_NAME}/local`,
        RequestId: randomUUID(),
        LogicalResourceId: id,
        ResourceType: resource.Type,
        ResourceProperties: { ServiceToken: 'local', ...properties },
      });
    } finally {
      await responder.close();
    }
    if (answers.length !== 1 || answers[0]?.Status !== 'SUCCESS') {
      throw new Error(`${id}: the custom resource was not created: ${JSON.stringify(answers)}`);
    }
  }
}

/** Serves a request listener over http on a free loopback port. */
export async function serveOnLoopback(listener: RequestListener) {
  const server = createHttpServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The table as the template defines it, for the embedded store to create. */
function tableDefinition(template: Template): Omit<CreateTableCommandInput, 'TableName'> {
  const [[, table]] = ofType(template, 'AWS::DynamoDB::GlobalTable') as [[string, Resource]];
  const p = table.Properties;
  return {
    BillingMode: p.BillingMode,
    AttributeDefinitions: p.AttributeDefinitions,
    KeySchema: p.KeySchema,
    GlobalSecondaryIndexes: (p.GlobalSecondaryIndexes ?? []).map((index: any) => ({
      IndexName: index.IndexName,
      KeySchema: index.KeySchema,
      Projection: index.Projection,
    })),
  };
}

/** A Lambda request authorizer of the template, as a route uses it. */
interface Authorizer {
  readonly functionId: string;
  /** The request headers that must be present (`$request.header.<name>`), lower-case. */
  readonly identityHeaders: readonly string[];
}

interface Route {
  readonly routeKey: string;
  /** The route's method, or ANY. */
  readonly method: string;
  /** API Gateway admits only SigV4-signed requests (IAM authorization). */
  readonly iam: boolean;
  readonly authorizer?: Authorizer;
  readonly pattern?: RegExp;
  readonly params: string[];
  readonly functionId: string;
}

/** The function an intrinsic names by `Fn::GetAtt [id, Arn]` (inside an `Fn::Join` or not). */
const functionNamed = (value: unknown, template: Template) => {
  const id = JSON.stringify(value).match(/"Fn::GetAtt":\["([^"]+)","Arn"\]/)?.[1];
  if (!id || template.Resources[id]?.Type !== 'AWS::Lambda::Function')
    throw new Error(`names no function of the template: ${JSON.stringify(value)}`);
  // API Gateway may invoke it only with a resource-based permission for apigateway.amazonaws.com.
  const permitted = ofType(template, 'AWS::Lambda::Permission').some(
    ([, p]) =>
      p.Properties.Principal === 'apigateway.amazonaws.com' &&
      p.Properties.Action === 'lambda:InvokeFunction' &&
      p.Properties.FunctionName?.['Fn::GetAtt']?.[0] === id,
  );
  if (!permitted) throw new Error(`${id}: API Gateway has no permission to invoke it`);
  return id;
};

/**
 * A route's Lambda request authorizer, as far as it is emulated: payload 2.0, simple responses
 * and no caching (a cached answer is keyed by the identity sources only, which is not emulated).
 */
function authorizerOf(id: string, template: Template): Authorizer {
  const a = template.Resources[id];
  if (a?.Type !== 'AWS::ApiGatewayV2::Authorizer') throw new Error(`${id}: no authorizer`);
  const p = a.Properties;
  if (
    p.AuthorizerType !== 'REQUEST' ||
    p.AuthorizerPayloadFormatVersion !== '2.0' ||
    p.EnableSimpleResponses !== true ||
    (p.AuthorizerResultTtlInSeconds ?? 300) !== 0
  )
    throw new Error(`${id}: only uncached REQUEST authorizers with simple responses are emulated`);
  return {
    functionId: functionNamed(p.AuthorizerUri, template),
    identityHeaders: (p.IdentitySource ?? []).map((source: string) => {
      const header = source.match(/^\$request\.header\.(.+)$/)?.[1];
      if (!header) throw new Error(`${id}: identity source ${source} is not emulated`);
      return header.toLowerCase();
    }),
  };
}

/** Route key → function, through the integration each route targets. */
function routes(template: Template): Route[] {
  const integrations = new Map(
    ofType(template, 'AWS::ApiGatewayV2::Integration').map(([id, r]) => [
      id,
      functionNamed(r.Properties.IntegrationUri, template),
    ]),
  );
  return ofType(template, 'AWS::ApiGatewayV2::Route').map(([, r]) => {
    const routeKey = r.Properties.RouteKey as string;
    const integrationId = r.Properties.Target['Fn::Join'][1][1].Ref as string;
    const functionId = integrations.get(integrationId) as string;
    const type = r.Properties.AuthorizationType ?? 'NONE';
    if (!['NONE', 'AWS_IAM', 'CUSTOM'].includes(type)) throw new Error(`${routeKey}: ${type}`);
    const iam = type === 'AWS_IAM';
    const authorizer =
      type === 'CUSTOM' ? authorizerOf(r.Properties.AuthorizerId.Ref, template) : undefined;
    const common = { routeKey, iam, ...(authorizer && { authorizer }), functionId };
    if (routeKey === '$default') return { ...common, method: 'ANY', params: [] };
    const [method, path] = routeKey.split(' ') as [string, string];
    const params: string[] = [];
    const source = path
      .split('/')
      .map((segment) => {
        const [, param, greedy] = segment.match(/^\{(\w+)(\+?)\}$/) ?? [];
        if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        params.push(param);
        return greedy ? '(.+)' : '([^/]+)';
      })
      .join('/');
    return { ...common, method, pattern: new RegExp(`^${source}$`), params };
  });
}

const TEXT_TYPES = /^(text\/|application\/(json|x-www-form-urlencoded))/i;

/** What the Lambda service sets in every function's environment, pointed at local stand-ins. */
export const lambdaRuntimeEnv = (endpoints: {
  dynamodb: string;
  kms: string;
  events?: string;
  secretsManager?: string;
}) => ({
  AWS_REGION: 'local',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
  AWS_ENDPOINT_URL_KMS: endpoints.kms,
  ...(endpoints.events && { AWS_ENDPOINT_URL_EVENTBRIDGE: endpoints.events }),
  ...(endpoints.secretsManager && { AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.secretsManager }),
  // The tests log at DEBUG (and check the lines for secrets); benchmarks stay silent.
  POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});

export interface StackServerOptions {
  readonly cdkOut: string;
  /** The stack of the cloud assembly to run (default STACK_NAME, what test/e2e runs on). */
  readonly stackName?: string;
  /** Operator settings on top of the template's environment (as dcr:* context would set). */
  readonly env?: Record<string, string>;
  readonly port?: number;
  readonly dataDir?: string;
  readonly tls: { readonly key: string; readonly cert: string };
  /**
   * The contents (PEM) of the S3 objects the template names as truststores, by `s3://` URI: a
   * custom domain with mutual TLS cannot be created without its truststore.
   */
  readonly truststores?: Record<string, string>;
  /**
   * Fault injection: asked after each DynamoDB call the store has applied; when it says yes, the
   * calling function's execution environment dies there, mid-request (as a crash or a timeout
   * ends it: the invocation fails, API Gateway answers 500), and a fresh one replaces it.
   */
  readonly crashAfter?: (call: StoreCall) => boolean;
}

/** A DynamoDB call as the store applied it: which function made it, the operation, its input. */
export interface StoreCall {
  readonly functionId: string;
  readonly operation: string;
  readonly input: string;
}

/** A custom domain of the template, and the truststore (PEM) its mutual TLS verifies with. */
interface CustomDomain {
  readonly name: string;
  readonly truststore?: string;
}

/**
 * The template's custom domains, each served through its API mapping to the `$default` stage
 * (no mapping key: the whole API), with the truststore its mutual TLS verifies client
 * certificates against, if it has one.
 */
function customDomains(template: Template, truststores: Record<string, string> = {}) {
  const domains = new Map(ofType(template, 'AWS::ApiGatewayV2::DomainName'));
  const mapped = ofType(template, 'AWS::ApiGatewayV2::ApiMapping').map(([id, mapping]) => {
    const { DomainName, Stage, ApiMappingKey } = mapping.Properties;
    const domain = domains.get(DomainName?.Ref);
    if (!domain) throw new Error(`${id}: maps no custom domain of the template`);
    if (ApiMappingKey !== undefined) throw new Error(`${id}: mapping keys are not emulated`);
    const stageName =
      typeof Stage === 'string' ? Stage : template.Resources[Stage?.Ref]?.Properties.StageName;
    if (stageName !== '$default') throw new Error(`${id}: maps another stage than $default`);
    const uri = domain.Properties.MutualTlsAuthentication?.TruststoreUri;
    const name = String(domain.Properties.DomainName);
    const truststore = uri === undefined ? undefined : truststores[uri];
    // API Gateway refuses to create the domain when it cannot read the truststore.
    if (uri !== undefined && truststore === undefined)
      throw new Error(`${name}: no truststore ${JSON.stringify(uri)}`);
    return {
      domainId: DomainName.Ref as string,
      domain: { name, ...(truststore && { truststore }) },
    };
  });
  for (const id of domains.keys()) {
    // A domain with no mapping reaches no API: nothing to serve, and a template bug.
    if (!mapped.some((m) => m.domainId === id)) throw new Error(`${id}: no API mapping`);
  }
  return mapped.map(({ domain }): CustomDomain => domain);
}

/** Colon-separated lower-case hex pairs, as API Gateway writes a certificate's serial number. */
const serialNumber = (hex: string) =>
  (hex.length % 2 === 1 ? `0${hex}` : hex).toLowerCase().match(/../g)?.join(':') ?? '';

/** A distinguished name, most specific RDN first and comma-separated (RFC 2253 order). */
const distinguishedName = (lines: string) => lines.split('\n').reverse().join(',');

/**
 * `requestContext.authentication` of a request on a mutual TLS custom domain: the certificate
 * the handshake verified, in the fields of payload v2 (the PEM and some of its parts).
 */
function clientCertAuthentication(req: IncomingMessage) {
  const x509 = (req.socket as TLSSocket).getPeerX509Certificate();
  if (!x509) throw new Error('a mutual TLS request without a verified certificate');
  return {
    clientCert: {
      clientCertPem: x509.toString(),
      subjectDN: distinguishedName(x509.subject),
      issuerDN: distinguishedName(x509.issuer),
      serialNumber: serialNumber(x509.serialNumber),
      validity: { notBefore: x509.validFrom, notAfter: x509.validTo },
    },
  };
}

/** Which function each of the table stream's event source mappings invokes, with its filters. */
function streamConsumers(template: Template) {
  const [[, table]] = ofType(template, 'AWS::DynamoDB::GlobalTable') as [[string, Resource]];
  const viewType = table.Properties.StreamSpecification?.StreamViewType;
  return ofType(template, 'AWS::Lambda::EventSourceMapping').map(([id, mapping]) => {
    const [source, attribute] = mapping.Properties.EventSourceArn['Fn::GetAtt'] ?? [];
    if (
      template.Resources[source]?.Type !== 'AWS::DynamoDB::GlobalTable' ||
      attribute !== 'StreamArn'
    )
      throw new Error(`${id}: only the table's stream is emulated here`);
    if (viewType !== 'NEW_AND_OLD_IMAGES') throw new Error(`${id}: stream view ${viewType}`);
    return {
      functionId: mapping.Properties.FunctionName.Ref as string,
      patterns: (mapping.Properties.FilterCriteria?.Filters ?? []).map((f: { Pattern: string }) =>
        JSON.parse(f.Pattern),
      ) as unknown[],
    };
  });
}

/** The context object Lambda passes a function with each invocation. */
const lambdaContext = (functionId: string, requestId: string) => ({
  awsRequestId: requestId,
  functionName: functionId,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionId}`,
  memoryLimitInMB: '256',
  logGroupName: `/aws/lambda/${functionId}`,
  logStreamName: 'local',
  callbackWaitsForEmptyEventLoop: true,
});

/** Invokes a function of the template with an event (and the request's id, if it has one). */
type InvokeFunction = (functionId: string, event: unknown, requestId?: string) => Promise<unknown>;

/**
 * A route's Lambda request authorizer, as API Gateway runs it (payload 2.0, simple responses):
 * a request without an identity source is 401 and never reaches the authorizer; the authorizer
 * gets the request without its body; `isAuthorized: false` is 403; what it allows, the
 * integration gets its `context` as `requestContext.authorizer.lambda`. Undefined: allowed.
 */
async function authorize(
  authorizer: Authorizer,
  event: APIGatewayProxyEventV2,
  invoke: InvokeFunction,
): Promise<{ status: number; message: string } | undefined> {
  const identitySource = authorizer.identityHeaders.map((h) => event.headers[h]);
  if (identitySource.some((value) => value === undefined))
    return { status: 401, message: 'Unauthorized' };
  const { body: _body, isBase64Encoded: _encoded, ...request } = event;
  const decision = (await invoke(
    authorizer.functionId,
    {
      ...request,
      type: 'REQUEST',
      routeArn: `arn:aws:execute-api:local:000000000000:local/$default/${event.routeKey.replace(' ', '')}`,
      identitySource,
    },
    event.requestContext.requestId,
  )) as { isAuthorized?: unknown; context?: Record<string, unknown> };
  if (decision.isAuthorized !== true) return { status: 403, message: 'Forbidden' };
  Object.assign(event.requestContext, { authorizer: { lambda: decision.context ?? {} } });
  return undefined;
}

export interface HttpApiOptions {
  readonly tls: { readonly key: string; readonly cert: string };
  /** The API's own endpoint's port (default: any free one). */
  readonly port?: number;
  /** The template's custom domains (`customDomains`), each served on a port of its own. */
  readonly domains?: readonly CustomDomain[];
  /** An issuer with a path: a custom domain's routes match below it. */
  readonly issuer?: string;
}

/**
 * The template's HTTP API, as API Gateway serves it: each route (method and path, `$default`
 * last) invokes its integration's function with a payload v2 event, behind IAM authorization
 * or a Lambda request authorizer where the route has one. Served over https on 127.0.0.1: each
 * custom domain on a port of its own, the one with a truststore doing mutual TLS.
 */
export async function serveHttpApi(
  template: Template,
  invoke: InvokeFunction,
  options: HttpApiOptions,
) {
  const domains = options.domains ?? [];
  const table = routes(template);
  const issuerPath = options.issuer ? new URL(options.issuer).pathname.replace(/\/$/, '') : '';

  /** A request on one endpoint: a custom domain (by its name), or the API's own. */
  const serve = async (
    req: IncomingMessage,
    res: ServerResponse,
    domainName: string,
    mutualTls: boolean,
  ) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const target = req.url ?? '/';
    const queryAt = target.indexOf('?');
    const rawPath = queryAt === -1 ? target : target.slice(0, queryAt);
    // A custom domain's API mapping: routes match below the issuer's path.
    const routedPath =
      issuerPath && rawPath.startsWith(`${issuerPath}/`)
        ? rawPath.slice(issuerPath.length)
        : rawPath;
    const method = req.method ?? 'GET';
    let route: Route | undefined;
    let match: RegExpMatchArray | null = null;
    for (const candidate of table) {
      const methodMatches = candidate.method === 'ANY' || candidate.method === method;
      match = candidate.pattern && methodMatches ? routedPath.match(candidate.pattern) : null;
      if (match) {
        route = candidate;
        break;
      }
    }
    route ??= table.find((r) => r.routeKey === '$default');
    if (!route) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"message":"Not Found"}');
      return;
    }
    const headers: Record<string, string> = {};
    const cookies: string[] = [];
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      // Payload v2: Cookie headers become `cookies` (one entry per cookie), not a header.
      if (name === 'cookie') {
        for (const line of [value].flat()) {
          cookies.push(...line.split(/;\s*/).filter((c) => c.length > 0));
        }
        continue;
      }
      headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    // IAM routes: API Gateway verifies the SigV4 signature and names the caller; there is no
    // IAM here, so a SigV4-shaped Authorization header stands for a verified one.
    const caller = headers.authorization?.match(/^AWS4-HMAC-SHA256 Credential=([^/]+)\//)?.[1];
    if (route.iam && !caller) {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end('{"message":"Forbidden"}');
      return;
    }
    const text = TEXT_TYPES.test(headers['content-type'] ?? '');
    const event: APIGatewayProxyEventV2 = {
      version: '2.0',
      routeKey: route.routeKey,
      rawPath,
      rawQueryString: queryAt === -1 ? '' : target.slice(queryAt + 1),
      headers,
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        // The domain the request came through (with custom domains, execute-api is off).
        domainName,
        domainPrefix: 'local',
        http: {
          method,
          path: rawPath,
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: headers['user-agent'] ?? '',
        },
        requestId: randomUUID(),
        routeKey: route.routeKey,
        ...(mutualTls && { authentication: clientCertAuthentication(req) }),
        ...(route.iam && {
          authorizer: {
            iam: { accessKey: caller, userArn: `arn:aws:iam::000000000000:user/${caller}` },
          },
        }),
        stage: '$default',
        time: new Date().toUTCString(),
        timeEpoch: Date.now(),
      },
      ...(route.params.length > 0 && {
        pathParameters: Object.fromEntries(
          route.params.map((p, i) => [p, decodeURIComponent(match?.[i + 1] ?? '')]),
        ),
      }),
      ...(cookies.length > 0 && { cookies }),
      isBase64Encoded: body.length > 0 && !text,
      ...(body.length > 0 && { body: text ? body.toString('utf8') : body.toString('base64') }),
    };
    if (route.authorizer) {
      const refused = await authorize(route.authorizer, event, invoke);
      if (refused) {
        res.writeHead(refused.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: refused.message }));
        return;
      }
    }
    const result = (await invoke(
      route.functionId,
      event,
      event.requestContext.requestId,
    )) as APIGatewayProxyStructuredResultV2;
    // The result's `cookies` become Set-Cookie headers, one each.
    res.writeHead(result.statusCode ?? 200, {
      ...(result.headers as Record<string, string>),
      ...(result.cookies && result.cookies.length > 0 && { 'set-cookie': result.cookies }),
    });
    res.end(
      result.body === undefined
        ? undefined
        : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8'),
    );
  };

  const listener =
    (domainName: () => string, mutualTls: boolean) =>
    (req: IncomingMessage, res: ServerResponse) => {
      serve(req, res, domainName(), mutualTls).catch((error: Error) => {
        // A handler that throws is what API Gateway reports as 500 Internal Server Error.
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: 'Internal Server Error', detail: error.message }));
      });
    };
  // Each custom domain on a loopback port of its own (its address, as DNS would give it), else
  // the API's execute-api endpoint. The issuer's domain (or execute-api) is the app's port.
  const servers: Server[] = [];
  const origins: Record<string, string> = {};
  let main: { port: number; origin: string } | undefined;
  for (const domain of domains.length > 0 ? domains : [undefined]) {
    let name = domain?.name ?? '';
    const mutualTls = domain?.truststore !== undefined;
    // Mutual TLS: a handshake without a certificate the truststore verifies fails, so no
    // request without one reaches a route. Other domains ask for no certificate at all.
    const server = createTlsServer(
      {
        key: options.tls.key,
        cert: options.tls.cert,
        ...(mutualTls && { ca: domain.truststore, requestCert: true, rejectUnauthorized: true }),
      },
      listener(() => name, mutualTls),
    );
    const isMain = main === undefined && !mutualTls;
    // API Gateway accepts any number of connections at once; Node's default backlog (511)
    // would drop the handshakes of a 500-request burst on a busy machine.
    await new Promise<void>((resolve) =>
      server.listen(
        { port: isMain ? (options.port ?? 0) : 0, host: '127.0.0.1', backlog: 4096 },
        resolve,
      ),
    );
    const { port } = server.address() as AddressInfo;
    const origin = `https://127.0.0.1:${port}`;
    if (domain) origins[domain.name] = origin;
    else name = new URL(origin).host;
    if (isMain) main = { port, origin };
    servers.push(server);
  }
  if (main === undefined) throw new Error('every domain does mutual TLS: none serves the issuer');
  return {
    /** The issuer's domain's (or the API's own) origin and port. */
    origin: main.origin,
    port: main.port,
    /** Each custom domain's name → the loopback origin that serves it. */
    domains: origins,
    close: () =>
      Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      ).then(() => undefined),
  };
}

/**
 * A stack that is functions behind an HTTP API and nothing else (examples/mcp-server's): each
 * bundle from cdk.out in an execution environment of its own, with its environment from the
 * template, served by `serveHttpApi`. No AWS service is stood in: its functions call none.
 */
export async function startHttpApiStack(options: {
  readonly cdkOut: string;
  readonly stackName: string;
  readonly tls: { readonly key: string; readonly cert: string };
  readonly port?: number;
}) {
  const template = readTemplate(options.cdkOut, options.stackName);
  const functions = new Map<string, Awaited<ReturnType<typeof startFunction>>>();
  for (const fn of stackFunctions(options.cdkOut, template)) {
    const env = { AWS_REGION: 'local', AWS_LAMBDA_FUNCTION_NAME: fn.logicalId, ...fn.environment };
    functions.set(fn.logicalId, await startFunction(fn.bundle, env));
  }
  const api = await serveHttpApi(
    template,
    (functionId, event, requestId = randomUUID()) => {
      const fn = functions.get(functionId);
      if (!fn) throw new Error(`no function ${functionId}`);
      return fn.invoke(event, lambdaContext(functionId, requestId));
    },
    {
      tls: options.tls,
      domains: customDomains(template),
      ...(options.port !== undefined && { port: options.port }),
    },
  );
  return {
    origin: api.origin,
    close: async () => {
      await api.close();
      await Promise.all([...functions.values()].map((f) => f.stop()));
    },
  };
}

export interface StackApp extends LocalApp {
  /**
   * Each custom domain's name → the loopback origin that serves it (what DNS would resolve the
   * name to); empty without custom domains.
   */
  readonly domains: Readonly<Record<string, string>>;
  /** The AWS calls its functions made, in order (tests may clear it). */
  readonly awsCalls: AwsCall[];
  /**
   * Invokes the function whose logical id starts with `Function<name>` (as EventBridge or
   * CloudFormation would, e.g. the key rotation's scheduled event) and returns its result.
   */
  invoke(name: string, event: unknown): Promise<unknown>;
  /**
   * Replaces the function's execution environment by a fresh (cold) one, as when the next
   * request reaches another container: nothing it held in memory carries over.
   */
  coldStart(name: string): Promise<void>;
}

/**
 * The synthesized stack, run as API Gateway and Lambda would run it: each route invokes the
 * bundled handler from cdk.out, loaded with that function's environment from the template, with
 * an API Gateway v2 event; the bundled SDK clients reach the embedded store, a KMS-compatible
 * test server and an EventBridge stand-in through AWS_ENDPOINT_URL_*. The table's stream (which
 * the embedded store lacks) is emulated around the store and feeds the functions its event
 * source mappings name, through their filters. Served over https on 127.0.0.1, as API Gateway is:
 * each custom domain on a port of its own, the one with a truststore doing mutual TLS.
 */
export async function startStackServer(options: StackServerOptions): Promise<StackApp> {
  const template = readTemplate(options.cdkOut, options.stackName);
  const domains = customDomains(template, options.truststores);
  // Each KMS key of the template, asymmetric (KeySpec) or symmetric (none).
  const keys = Object.fromEntries(
    ofType(template, 'AWS::KMS::Key').map(([id, key]) => [
      keyArn(id),
      key.Properties.KeySpec ?? 'SYMMETRIC_DEFAULT',
    ]),
  );
  const store = await startEmbeddedStore(
    TABLE_NAME,
    options.dataDir && join(options.dataDir, 'dynamodb'),
    { definition: tableDefinition(template) },
  );
  const kms = await startKmsServer(keys);
  const definitions = stackFunctions(options.cdkOut, template);
  const policies = new Map(definitions.map((fn) => [fn.logicalId, fn.statements]));
  const denied: string[] = [];
  const awsCalls: AwsCall[] = [];
  // The bundled handlers run in worker threads and reach DynamoDB over HTTP: for these tests
  // only, the store's request listener is served on a loopback port (npm start never is).
  const storeServer = await serveOnLoopback(store.listener);
  const streamFailures: string[] = [];
  const functions = new Map<string, Awaited<ReturnType<typeof startFunction>>>();
  const consumers = streamConsumers(template);
  const deliver = async (record: DynamoDBRecord) => {
    for (const { functionId, patterns } of consumers) {
      if (patterns.length > 0 && !patterns.some((p) => matchesFilter(p, record))) continue;
      // A failing consumer fails the run (as its alarm would page), never the writer.
      await functions
        .get(functionId)
        ?.invoke({ Records: [record] }, lambdaContext(functionId, randomUUID()))
        .catch((error: Error) => streamFailures.push(`${functionId}: ${error.message}`));
    }
  };
  const stored = streamed(httpUpstream(storeServer.endpoint), {
    store: store.client,
    tableName: TABLE_NAME,
    keyAttributes: (tableDefinition(template).KeySchema ?? []).map(
      (k) => k.AttributeName as string,
    ),
    onRecord: deliver,
  });
  const crashing: Upstream = async (request) => {
    const reply = await stored(request);
    const functionId = callerOf(request.headers.authorization);
    const call = { functionId, operation: request.operation, input: request.body.toString('utf8') };
    if (options.crashAfter?.(call)) await restartFunction(functionId);
    return reply;
  };
  const dynamoGate = await startIamGate(crashing, 'dynamodb', policies, denied, awsCalls);
  const kmsGate = await startIamGate(
    httpUpstream(kms.endpoint),
    'kms',
    policies,
    denied,
    awsCalls,
    {
      policies: keyPolicies(template),
      roles: new Map(definitions.map((fn) => [fn.logicalId, fn.roleArn])),
    },
  );
  const eventsGate = await startIamGate(eventBridgeUpstream, 'events', policies, denied, awsCalls);
  const secretsGate = await startIamGate(
    secretsManagerStandIn(templateSecrets(template)),
    'secretsmanager',
    policies,
    denied,
    awsCalls,
  );
  // What the Lambda service provides (credentials of the function's own role), then the
  // function's environment from the template.
  const runtimeEnv = lambdaRuntimeEnv({
    dynamodb: dynamoGate.endpoint,
    kms: kmsGate.endpoint,
    events: eventsGate.endpoint,
    secretsManager: secretsGate.endpoint,
  });
  const environments = new Map<string, { bundle: string; env: Record<string, string> }>();
  for (const fn of definitions) {
    const env = {
      ...runtimeEnv,
      AWS_ACCESS_KEY_ID: fn.logicalId,
      // As Lambda sets it: the configuration knows it runs in Lambda (no development login).
      AWS_LAMBDA_FUNCTION_NAME: fn.logicalId,
      ...fn.environment,
      ...options.env,
    };
    environments.set(fn.logicalId, { bundle: fn.bundle, env });
    functions.set(fn.logicalId, await startFunction(fn.bundle, env));
  }
  /** The environment dies mid-request; the next invocation gets a fresh (cold) one. */
  async function restartFunction(functionId: string) {
    const dying = functions.get(functionId);
    const definition = environments.get(functionId);
    if (!dying || !definition) throw new Error(`no function ${functionId}`);
    functions.set(functionId, await startFunction(definition.bundle, definition.env));
    await dying.stop();
  }
  /** The logical id of the function `name` (`token`, `key-rotation`) names. */
  const logicalIdOf = (name: string) => {
    const found = definitions.filter((fn) =>
      fn.logicalId.startsWith(`Function${name.replace(/-/g, '')}Function`),
    );
    if (found.length !== 1) throw new Error(`no single function ${name}`);
    return (found[0] as StackFunction).logicalId;
  };
  const invokeFunction: InvokeFunction = (functionId, event, requestId = randomUUID()) => {
    const fn = functions.get(functionId);
    if (!fn) throw new Error(`no function ${functionId}`);
    return fn.invoke(event, lambdaContext(functionId, requestId));
  };
  await createCustomResources(template, invokeFunction);

  const api = await serveHttpApi(template, invokeFunction, {
    tls: options.tls,
    domains,
    ...(options.port !== undefined && { port: options.port }),
    ...(options.env?.DCR_ISSUER && { issuer: options.env.DCR_ISSUER }),
  });
  return {
    issuer: options.env?.DCR_ISSUER ?? api.origin,
    port: api.port,
    domains: api.domains,
    awsCalls,
    invoke: (name, event) => invokeFunction(logicalIdOf(name), event),
    coldStart: (name) => restartFunction(logicalIdOf(name)),
    close: async () => {
      await api.close();
      await Promise.all([...functions.values()].map((f) => f.stop()));
      await Promise.all([
        dynamoGate.close(),
        kmsGate.close(),
        eventsGate.close(),
        secretsGate.close(),
      ]);
      await Promise.all([kms.close(), storeServer.close()]);
      await store.close();
      // A call the template's IAM would refuse is a deployment bug, even if a test passed.
      if (denied.length > 0)
        throw new Error(`calls IAM would deny: ${[...new Set(denied)].join('; ')}`);
      // So is a stream batch its consumer fails on (in AWS: retries, then the failures queue).
      if (streamFailures.length > 0)
        throw new Error(`stream records a consumer failed on: ${streamFailures.join('; ')}`);
    },
  };
}
