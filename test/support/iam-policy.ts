import { TABLE_SCHEMA } from '../../lambdas/adapters/table-schema.js';

/** An Allow statement of a role's policy, as the synthesized template has it. */
export interface PolicyStatement {
  readonly Effect: string;
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
  const patterns = [expected].flat();
  switch (operator) {
    // True when every value matches a pattern, and (IAM's rule) when there is no value at all.
    case 'ForAllValues:StringLike':
      return (values ?? []).every((v) => patterns.some((p) => like(v, p)));
    // A single-valued key (the KMS encryption context): present and equal to a pattern.
    case 'StringEquals':
      return values !== undefined && values.length === 1 && patterns.includes(values[0] as string);
    case 'Null':
      return (values === undefined || values.length === 0) === (expected === 'true');
    default:
      throw new Error(`the IAM emulation cannot evaluate ${operator} on ${key}`);
  }
}

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
      [statement.Action].flat().includes(action) &&
      (resource === undefined ||
        [statement.Resource]
          .flat()
          .some((pattern) => typeof pattern === 'string' && like(resource, pattern))) &&
      Object.entries(statement.Condition ?? {}).every(([operator, keys]) =>
        Object.entries(keys).every(([key, expected]) => holds(operator, key, expected, context)),
      ),
  );
}
