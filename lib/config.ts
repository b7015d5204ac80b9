import type { Node } from 'constructs';
import {
  DEPLOYMENT_SETTINGS,
  type DeploymentSettings,
  parseSettings,
  SETTINGS,
  type Setting,
  type SettingName,
  type Settings,
} from '../lambdas/settings.js';
import * as z from '../lambdas/zod.js';

/**
 * The deployment's one typed configuration: the cdk.json context keys `dcr:<key>` of
 * lambdas/settings.ts, each overridable on the command line (`npx cdk deploy -c
 * dcr:signingAlgorithm=ES256`); docs/configuration.md lists them.
 */
export type DeploymentConfig = DeploymentSettings;

export interface Deployment {
  readonly config: DeploymentConfig;
  /** Each setting's value as the functions get it (text), by setting name; unset: absent. */
  readonly texts: Partial<Record<SettingName, string>>;
}

const describe = (s: SettingName) => SETTINGS[s] as Setting;

/** A flag's error in the deployment's words (the functions say on/off, cdk.json true/false). */
const flag = z.pipe(
  z.enum(['on', 'off'], { error: 'must be true or false' }),
  z.transform((v) => v === 'on'),
);

/**
 * A context value as the text a function would be given: cdk.json holds numbers, booleans,
 * arrays and objects, `-c` only strings; a list given either way becomes one list.
 */
function contextText(setting: Setting, value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  let text: string;
  if (setting.list !== undefined) {
    const items = Array.isArray(value) ? value.map(String) : String(value).split(/[\s,]+/);
    text = items.filter(Boolean).join(setting.list);
  } else if (setting.flag && (value === true || value === 'true')) {
    text = 'on';
  } else if (setting.flag && (value === false || value === 'false')) {
    text = 'off';
  } else if (typeof value === 'object') {
    text = JSON.stringify(value);
  } else {
    text = String(value);
  }
  return text === '' ? undefined : text;
}

/**
 * The deployment's settings as a construct takes them, by `dcr:` key: each typed as its
 * `cdk.json` value would be (a flag a boolean, a list an array, a JSON setting an object, a
 * number a number), derived from the table's own zod types; lib/serverless-dcr-props.ts gives
 * each its documentation.
 */
export type DeploymentValues = {
  readonly [N in SettingName as Settings[N] extends { key: infer K extends string }
    ? K
    : never]?: DeploymentValue<Settings[N]>;
};

type DeploymentValue<S extends Setting> = S extends { flag: true }
  ? boolean
  : S extends { list: string }
    ? readonly ListItem<S['type']>[]
    : S extends { json: true }
      ? JsonValue<S['type']>
      : z.output<S['type']> extends number
        ? number
        : z.input<S['type']> extends string
          ? z.input<S['type']>
          : string;

/** A list's item: what the array schema in its pipe takes (a plain split list: any string). */
type ListItem<T> =
  T extends z.ZodMiniPipe<infer A, infer B>
    ? B extends z.ZodMiniArray<infer I>
      ? z.input<I>
      : ListItem<A>
    : string;

/** A JSON setting's value: what the schema after its JSON text's parse takes. */
type JsonValue<T> =
  T extends z.ZodMiniPipe<infer A, infer B>
    ? B extends z.ZodMiniTransform
      ? JsonValue<A>
      : z.input<B>
    : never;

/** Every `dcr:<key>` context value, by key, as `cdk.json` or `-c` gives it (untyped). */
export function contextValues(node: Node): Readonly<Record<string, unknown>> {
  const values: Record<string, unknown> = {};
  for (const name of DEPLOYMENT_SETTINGS) {
    const key = describe(name).key as string;
    const value = node.tryGetContext(`dcr:${key}`);
    if (value !== undefined) values[key] = value;
  }
  return values;
}

const KEYS = new Set(DEPLOYMENT_SETTINGS.map((name) => describe(name).key));

/**
 * Parses the deployment's values by `dcr:` key (a construct's props, or the context's values):
 * a bad one, or a key that names no setting, fails the synth with its name and rule.
 */
export function parseDeployment(settings: object): Deployment {
  const byKey = settings as Readonly<Record<string, unknown>>;
  const unknown = Object.keys(byKey)
    .filter((key) => !KEYS.has(key))
    .map((key) => `${key}: is not a setting (docs/configuration.md lists them)`);
  if (unknown.length > 0) {
    throw new Error(`invalid deployment configuration: ${unknown.join('; ')}`);
  }
  const given: Partial<Record<SettingName, string>> = {};
  for (const name of DEPLOYMENT_SETTINGS) {
    const setting = describe(name);
    const text = contextText(setting, byKey[setting.key as string]);
    if (text !== undefined) given[name] = text;
  }
  const defaultOf = (name: SettingName) => {
    const { deployDefault, default: fallback } = describe(name);
    return deployDefault === false ? undefined : (deployDefault ?? fallback);
  };
  const { values, problems } = parseSettings(given, {
    names: DEPLOYMENT_SETTINGS,
    namer: (name) => `dcr:${describe(name).key}`,
    defaultOf,
    checkedBy: 'deployment',
    typeOf: (name) => {
      const { type, deployType, flag: isFlag } = describe(name);
      return [isFlag ? flag : type, ...(deployType ? [deployType] : [])];
    },
  });
  if (problems.length > 0) {
    throw new Error(`invalid deployment configuration: ${problems.join('; ')}`);
  }
  const config: Record<string, unknown> = {};
  const texts: Partial<Record<SettingName, string>> = {};
  for (const name of DEPLOYMENT_SETTINGS) {
    if (values[name] !== undefined) config[describe(name).key as string] = values[name];
    // An empty default (an empty list) is no value to hand on.
    const text = given[name] ?? defaultOf(name);
    if (text !== undefined && text !== '') texts[name] = text;
  }
  return { config: config as DeploymentConfig, texts };
}

/** Reads every `dcr:<key>` context value; a bad one fails the synth with its name and rule. */
export const readDeployment = (node: Node): Deployment => parseDeployment(contextValues(node));

/** The deployment's configuration alone. */
export const deploymentConfig = (node: Node): DeploymentConfig => readDeployment(node).config;
