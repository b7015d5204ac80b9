import type { Node } from 'constructs';
import {
  DEPLOYMENT_SETTINGS,
  type DeploymentSettings,
  parseSettings,
  SETTINGS,
  type Setting,
  type SettingName,
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

/** Reads every `dcr:<key>` context value; a bad one fails the synth with its name and rule. */
export function readDeployment(node: Node): Deployment {
  const given: Partial<Record<SettingName, string>> = {};
  for (const name of DEPLOYMENT_SETTINGS) {
    const setting = describe(name);
    const text = contextText(setting, node.tryGetContext(`dcr:${setting.key}`));
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

/** The deployment's configuration alone. */
export const deploymentConfig = (node: Node): DeploymentConfig => readDeployment(node).config;
