import { TABLE_SCHEMA } from '../../lambdas/adapters/dynamodb/table-schema.js';

/** A statement of a role's or a key's policy, as the synthesized template has it. */
export interface PolicyStatement {
  readonly Effect: string;
  /** A resource policy's (a key policy's): `*`, or `{ AWS: arn | arn[] }` (resolved). */
  readonly Principal?: unknown;
  readonly Action: string | readonly string[];
  /** Resolved ARNs (the gates resolve the template's intrinsics before asking). */
  readonly Resource?: unknown;
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | string[]>>>>;
}

/** The request context keys the gate knows: `dynamodb:LeadingKeys` absent when none is named. */
export type RequestContext = Readonly<Record<string, readonly string[] | undefined>>;

type Key = Record<string, { S?: string }>;
// biome-ignore lint/suspicious/noExplicitAny: a DynamoDB JSON request body.
type Body = Record<string, any>;

/**
 * `dynamodb:LeadingKeys` of a DynamoDB JSON request, as IAM sees it: the partition key of every
 * item it names (all keys of a batch), and the partition key a Query of the table names in its
 * key condition (`pk = :value`). Scan and Query of an index name none here, so the key is absent.
 */
export function leadingKeys(operation: string, body: Body): string[] | undefined {
  const pk = (key: Key) => String(key[TABLE_SCHEMA.partitionKey]?.S);
  switch (operation) {
    case 'GetItem':
    case 'UpdateItem':
    case 'DeleteItem':
      return [pk(body.Key)];
    case 'PutItem':
      return [pk(body.Item)];
    case 'BatchGetItem':
      return Object.values(body.RequestItems as Record<string, { Keys: Key[] }>).flatMap((t) =>
        t.Keys.map(pk),
      );
    case 'Query': {
      if (body.IndexName !== undefined) return undefined;
      const [, name = '', value = ''] =
        /^\s*(#?\w+)\s*=\s*(:\w+)/.exec(body.KeyConditionExpression ?? '') ?? [];
      const attribute = name.startsWith('#') ? body.ExpressionAttributeNames?.[name] : name;
      const key = body.ExpressionAttributeValues?.[value]?.S;
      return attribute === TABLE_SCHEMA.partitionKey && typeof key === 'string' ? [key] : undefined;
    }
    default:
      return undefined;
  }
}

/** IAM `StringLike`: `*` any run of characters, `?` one character, case-sensitive. */
const like = (value: string, pattern: string) =>
  new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
    's',
  ).test(value);

/**
 * The condition operators the template uses, evaluated as IAM does; any other one throws, so an
 * unknown condition never passes silently.
 */
function holds(
  operator: string,
  key: string,
  expected: string | string[],
  context: RequestContext,
) {
  const values = context[key];
  // An intrinsic left unresolved (an ARN known only at deploy) matches nothing here.
  const patterns = [expected].flat().filter((p) => typeof p === 'string');
  switch (operator) {
    // True when every value matches a pattern, and (IAM's rule) when there is no value at all.
    case 'ForAllValues:StringLike':
      return (values ?? []).every((v) => patterns.some((p) => like(v, p)));
    // A single-valued key matched against patterns (ARNs: `aws:PrincipalArn`).
    case 'StringLike':
    case 'ArnEquals':
    case 'ArnLike':
      return (
        values !== undefined &&
        values.length === 1 &&
        patterns.some((p) => like(values[0] as string, p))
      );
    // A single-valued key (the KMS encryption context): present and equal to a pattern.
    case 'StringEquals':
      return values !== undefined && values.length === 1 && patterns.includes(values[0] as string);
    case 'Null':
      return (values === undefined || values.length === 0) === (expected === 'true');
    default:
      throw new Error(`the IAM emulation cannot evaluate ${operator} on ${key}`);
  }
}

/** IAM matches actions case-insensitively, with wildcards (`kms:*`). */
const names = (statement: PolicyStatement, action: string) =>
  [statement.Action].flat().some((a) => like(action.toLowerCase(), a.toLowerCase()));

const conditionsHold = (statement: PolicyStatement, context: RequestContext) =>
  Object.entries(statement.Condition ?? {}).every(([operator, keys]) =>
    Object.entries(keys).every(([key, expected]) => holds(operator, key, expected, context)),
  );

/**
 * Whether any Allow statement grants the action with all of its conditions holding — and, when
 * the request names a resource (a secret's ARN), on that resource.
 */
export function allows(
  statements: readonly PolicyStatement[],
  action: string,
  context: RequestContext = {},
  resource?: string,
): boolean {
  return statements.some(
    (statement) =>
      statement.Effect === 'Allow' &&
      names(statement, action) &&
      (resource === undefined ||
        [statement.Resource]
          .flat()
          .some((pattern) => typeof pattern === 'string' && like(resource, pattern))) &&
      conditionsHold(statement, context),
  );
}

/** An IAM role making a call, and its account. */
export interface Caller {
  readonly arn: string;
  readonly account: string;
}

/** The principals a resource policy statement names: `*`, ARNs, or bare account ids. */
const principalsOf = (statement: PolicyStatement): unknown[] =>
  statement.Principal === '*' ? ['*'] : [(statement.Principal as { AWS?: unknown })?.AWS].flat();

/**
 * Whether a KMS key policy lets the caller make the call, as KMS decides (KMS Developer Guide,
 * "Key policies"): the key policy is the primary authority, and no IAM policy helps without
 * it. A statement naming the caller (or `*`) allows by itself; one naming the account (its root
 * or its id) delegates to IAM, so the caller's own policies must allow the call as well
 * (`identityAllows`). An explicit Deny wins. The caller is `aws:PrincipalArn`.
 */
export function keyPolicyAllows(
  keyPolicy: readonly PolicyStatement[],
  caller: Caller,
  action: string,
  context: RequestContext,
  identityAllows: () => boolean,
): boolean {
  const full: RequestContext = {
    ...context,
    'aws:PrincipalArn': [caller.arn],
    'aws:PrincipalAccount': [caller.account],
    'kms:CallerAccount': [caller.account],
  };
  const applies = (statement: PolicyStatement) =>
    names(statement, action) && conditionsHold(statement, full);
  const account = [`arn:aws:iam::${caller.account}:root`, caller.account];
  if (keyPolicy.some((s) => s.Effect === 'Deny' && applies(s))) return false;
  const granting = keyPolicy.filter((s) => s.Effect === 'Allow' && applies(s));
  if (granting.some((s) => principalsOf(s).some((p) => p === '*' || p === caller.arn))) return true;
  return (
    granting.some((s) => principalsOf(s).some((p) => account.includes(p as string))) &&
    identityAllows()
  );
}
