/**
 * What the operations cost in AWS, from the calls the `aws` part counted on the synthesized stack
 * (test/stack/aws-calls.test.ts) and list prices. A model, not a bill: it states its assumptions
 * (item sizes, latencies that make up each invocation's billed duration) beside its figures.
 */

// List prices, us-east-1, on-demand, first tier of each (free tiers left out). Checked on
// 2026-12-07 against the pages named (bench/README.md cites each source and its date); not
// fetched by this script.

/**
 * DynamoDB on-demand, per write request unit: $0.625 per million since the 50 % cut of
 * 2024-11-01 (https://aws.amazon.com/dynamodb/pricing/on-demand/).
 */
export const DYNAMODB_WRITE_UNIT = 0.625 / 1e6;
/** DynamoDB on-demand, per read request unit: $0.125 per million (same page and cut). */
export const DYNAMODB_READ_UNIT = 0.125 / 1e6;
/** KMS, per request with an RSA 2048 key, Sign included: $0.03 per 10,000 (https://aws.amazon.com/kms/pricing/). */
export const KMS_RSA_2048_REQUEST = 0.03 / 1e4;
/** KMS, per asymmetric request with any other key (ECC_NIST_P256: ES256): $0.15 per 10,000 (same page). */
export const KMS_OTHER_ASYMMETRIC_REQUEST = 0.15 / 1e4;
/** KMS, per symmetric request (the wrapped mode's Decrypt): $0.03 per 10,000 (same page). */
export const KMS_SYMMETRIC_REQUEST = 0.03 / 1e4;
/**
 * KMS, per key and month, prorated hourly (same page). A key with automatic rotation (the
 * wrapped mode's wrapping key) costs $1 more a month for each of its first two rotations (a
 * year apart): $1 in the first year, up to $3 from the third.
 */
export const KMS_KEY_MONTH = 1;
/** Lambda, per request: $0.20 per million, x86 and Arm alike (https://aws.amazon.com/lambda/pricing/). */
export const LAMBDA_REQUEST = 0.2 / 1e6;
/**
 * Lambda on Arm (the functions' architecture: lib/constructs/deployed-lambda.ts), per GB-second,
 * first 7.5 billion GB-seconds a month (same page; x86 would be $0.0000166667).
 */
export const LAMBDA_ARM_GB_SECOND = 0.0000133334;
/** API Gateway HTTP API, per request up to 512 KB, first 300 million a month (https://aws.amazon.com/api-gateway/pricing/). */
export const HTTP_API_REQUEST = 1 / 1e6;
/** EventBridge, per custom event published, 64 KB chunks (the audit events) (https://aws.amazon.com/eventbridge/pricing/). */
export const EVENTBRIDGE_EVENT = 1 / 1e6;
/** Secrets Manager, per secret and month (the cookie key) (https://aws.amazon.com/secrets-manager/pricing/). */
export const SECRET_MONTH = 0.4;
/**
 * CloudWatch Logs, per GB ingested, Standard class, first tier (Lambda's logs are tiered from
 * 10 TB a month) (https://aws.amazon.com/cloudwatch/pricing/).
 */
export const LOGS_INGESTED_GB = 0.5;
/** CloudWatch, per custom metric (the EMF metrics) and month, first 10,000 (same page). */
export const CUSTOM_METRIC_MONTH = 0.3;

// Assumptions of the model.

/** Memory of the API functions (lambdas/functions.ts: the default of lib/constructs/deployed-lambda.ts). */
export const FUNCTION_MEMORY_GB = 256 / 1024;
/** An invocation's own work (event, routing, validation, logging), ms, before its AWS calls. */
export const INVOCATION_MS = 3;
/** One DynamoDB call in the function's region, ms (calls are sequential on these paths). */
export const DYNAMODB_CALL_MS = 5;
/** One KMS Sign, ms (RSA 2048 in the region). */
export const KMS_SIGN_MS = 15;
/** One RS256 signature in the function itself (the wrapped mode) at 256 MB (a fraction of a vCPU), ms. */
export const LOCAL_SIGN_MS = 8;
/**
 * Log bytes a function invocation ingests: Lambda's START, END and REPORT lines (~0.35 KB), the
 * one `request` line (~0.45 KB) and the EMF metrics line (~0.4 KB). An estimate from the lines'
 * shapes, not a measurement.
 */
export const LOG_BYTES_PER_INVOCATION = 1200;
/** API Gateway's access log line per request (`jsonWithStandardFields`), an estimate. */
export const ACCESS_LOG_BYTES = 300;
/**
 * Custom metrics the functions publish (lambdas/aws/lambda-handler.ts: `Latency` and the success
 * count per endpoint, `Rejections` per endpoint and error code seen): about 30 in a month.
 */
export const CUSTOM_METRICS = 30;
/**
 * Items are under 1 KB (one write unit a write) and read strongly consistent (one read unit a
 * read, as up to 4 KB): what client, grant and counter items are.
 */

/** An operation's counted calls, as the `aws` part reports them. */
export interface CountedCalls {
  readonly operation: string;
  /** `<function> <service>:<Action>` → how many, the audit function's included. */
  readonly calls: Record<string, number>;
}

const READ_ACTIONS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan']);
const WRITE_ACTIONS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);

export interface OperationCost {
  readonly operation: string;
  /** Dollars per million operations, by what is billed. */
  readonly perMillion: {
    readonly api: number;
    readonly lambda: number;
    readonly dynamodb: number;
    readonly kms: number;
    readonly events: number;
    /** CloudWatch Logs ingestion: every invocation's lines and the access log's. */
    readonly logs: number;
    readonly total: number;
  };
}

/**
 * The cost of one operation per million, from its calls. `signing`: the mode (`wrapped` signs in
 * the function: its KMS Sign calls become local signatures); `alg` prices KMS Sign requests.
 */
export function operationCost(
  counted: CountedCalls,
  options: {
    readonly signing: 'kms' | 'wrapped';
    readonly alg: 'RS256' | 'ES256';
    readonly label?: string;
  },
): OperationCost {
  const byFunction = new Map<
    string,
    { reads: number; writes: number; signs: number; events: number; kms: number }
  >();
  for (const [call, count] of Object.entries(counted.calls)) {
    const [fn = '', action = ''] = call.split(' ');
    const [service, name = ''] = action.split(':');
    const f = byFunction.get(fn) ?? { reads: 0, writes: 0, signs: 0, events: 0, kms: 0 };
    if (service === 'dynamodb' && READ_ACTIONS.has(name)) f.reads += count;
    if (service === 'dynamodb' && WRITE_ACTIONS.has(name)) f.writes += count;
    if (service === 'kms' && name === 'Sign') f.signs += count;
    else if (service === 'kms') f.kms += count;
    if (service === 'events') f.events += count;
    byFunction.set(fn, f);
  }
  const signPrice = options.alg === 'RS256' ? KMS_RSA_2048_REQUEST : KMS_OTHER_ASYMMETRIC_REQUEST;
  let lambda = 0;
  let dynamodb = 0;
  let kms = 0;
  let events = 0;
  let logBytes = ACCESS_LOG_BYTES;
  for (const f of byFunction.values()) {
    const kmsSigns = options.signing === 'kms' ? f.signs : 0;
    const localSigns = options.signing === 'wrapped' ? f.signs : 0;
    const ms =
      INVOCATION_MS +
      (f.reads + f.writes) * DYNAMODB_CALL_MS +
      kmsSigns * KMS_SIGN_MS +
      localSigns * LOCAL_SIGN_MS;
    lambda += LAMBDA_REQUEST + FUNCTION_MEMORY_GB * (ms / 1000) * LAMBDA_ARM_GB_SECOND;
    dynamodb += f.reads * DYNAMODB_READ_UNIT + f.writes * DYNAMODB_WRITE_UNIT;
    kms += kmsSigns * signPrice + f.kms * signPrice;
    events += f.events * EVENTBRIDGE_EVENT;
    logBytes += LOG_BYTES_PER_INVOCATION;
  }
  const logs = (logBytes / 2 ** 30) * LOGS_INGESTED_GB;
  const api = HTTP_API_REQUEST;
  const million = (dollars: number) => dollars * 1e6;
  return {
    operation: options.label ?? counted.operation,
    perMillion: {
      api: million(api),
      lambda: million(lambda),
      dynamodb: million(dynamodb),
      kms: million(kms),
      events: million(events),
      logs: million(logs),
      total: million(api + lambda + dynamodb + kms + events + logs),
    },
  };
}

/** Users of the MCP server scenario, and what each does in a month. */
export const MCP_USERS = 10_000;
const HOURS_A_MONTH = 30 * 24;

/**
 * An MCP server with 10,000 users for a 30-day month: each registers its client and signs in
 * once (one code exchange), then refreshes every hour; plus the month's keys and secret.
 */
export function mcpMonth(
  costs: { registration: OperationCost; codeExchange: OperationCost; refresh: OperationCost },
  signing: 'kms' | 'wrapped',
) {
  const refreshes = MCP_USERS * HOURS_A_MONTH;
  const requests =
    (MCP_USERS * (costs.registration.perMillion.total + costs.codeExchange.perMillion.total) +
      refreshes * costs.refresh.perMillion.total) /
    1e6;
  // The signing key (kms) or the wrapping key (wrapped: in its first year; its Decrypt once per
  // container start is noise), the cookie key's secret, and the custom metrics.
  const fixed = KMS_KEY_MONTH + SECRET_MONTH + CUSTOM_METRICS * CUSTOM_METRIC_MONTH;
  return { refreshes, requests, fixed, total: requests + fixed, signing };
}

const dollars = (value: number) => `$${value < 10 ? value.toFixed(2) : value.toFixed(0)}`;

/** The cost section's lines (Markdown), or a note when the AWS calls were not counted. */
export function costLines(counted: readonly CountedCalls[]): string[] {
  const find = (prefix: string) => counted.find((c) => c.operation === prefix);
  const registration = find('registration (open)');
  const token = find('client_credentials token');
  const exchange = find('code exchange');
  const refresh = find('refresh');
  if (!registration || !token || !exchange || !refresh) {
    return ['(not computed: the `aws` part did not run)'];
  }
  const rows = [
    operationCost(registration, { signing: 'kms', alg: 'RS256' }),
    operationCost(token, {
      signing: 'kms',
      alg: 'RS256',
      label: 'client_credentials token, kms (RS256)',
    }),
    operationCost(token, {
      signing: 'kms',
      alg: 'ES256',
      label: 'client_credentials token, kms (ES256)',
    }),
    operationCost(token, {
      signing: 'wrapped',
      alg: 'RS256',
      label: 'client_credentials token, wrapped',
    }),
    operationCost(exchange, { signing: 'kms', alg: 'RS256', label: 'code exchange, kms (RS256)' }),
    operationCost(exchange, { signing: 'wrapped', alg: 'RS256', label: 'code exchange, wrapped' }),
    operationCost(refresh, { signing: 'kms', alg: 'RS256', label: 'refresh, kms (RS256)' }),
    operationCost(refresh, { signing: 'wrapped', alg: 'RS256', label: 'refresh, wrapped' }),
  ];
  const months = (['kms', 'wrapped'] as const).map((signing) =>
    mcpMonth(
      {
        registration: operationCost(registration, { signing, alg: 'RS256' }),
        codeExchange: operationCost(exchange, { signing, alg: 'RS256' }),
        refresh: operationCost(refresh, { signing, alg: 'RS256' }),
      },
      signing,
    ),
  );
  return [
    'Dollars per million operations, from the calls counted above and list prices of us-east-1 (checked 2026-12-07, each with its page in `bench/cost-model.ts` and bench/README.md; not fetched by the benchmark). Assumed: items under 1 KB read strongly consistent (1 write or read unit a call), 256 MB Arm functions billed ' +
      `${INVOCATION_MS} ms an invocation plus ${DYNAMODB_CALL_MS} ms a DynamoDB call and ${KMS_SIGN_MS} ms a KMS Sign (${LOCAL_SIGN_MS} ms a local RS256 signature in the wrapped mode); the audit function counted as one invocation per operation (an upper bound: it runs once per stream batch); about ${(LOG_BYTES_PER_INVOCATION / 1000).toFixed(1)} KB of log lines an invocation and ${(ACCESS_LOG_BYTES / 1000).toFixed(1)} KB of access log a request (estimates). Free tiers left out.`,
    '',
    '| operation | API Gateway | Lambda | DynamoDB | KMS | EventBridge | CloudWatch Logs | total per million |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(
      ({ operation, perMillion: p }) =>
        `| ${operation} | ${dollars(p.api)} | ${dollars(p.lambda)} | ${dollars(p.dynamodb)} | ${dollars(p.kms)} | ${dollars(p.events)} | ${dollars(p.logs)} | **${dollars(p.total)}** |`,
    ),
    '',
    `An MCP server with ${MCP_USERS.toLocaleString('en-US')} users for a 30-day month (each registers and signs in once, then refreshes every hour: ${months[0]?.refreshes.toLocaleString('en-US')} refreshes), RS256:`,
    '',
    ...months.map(
      (m) =>
        `- ${m.signing}: ${dollars(m.requests)} in requests + ${dollars(m.fixed)} fixed (one KMS key, the cookie key's secret, ~${CUSTOM_METRICS} custom metrics) = **${dollars(m.total)}** a month`,
    ),
  ];
}
