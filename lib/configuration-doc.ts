import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  DEPLOYMENT_SETTINGS,
  type Receivers,
  RULES,
  SERVER_SETTINGS,
  SETTINGS,
  type Setting,
  type SettingName,
} from '../lambdas/settings.js';

/** docs/configuration.md, generated from lambdas/settings.ts (`npm run docs:config`). */
export const CONFIGURATION_DOC = fileURLToPath(
  new URL('../docs/configuration.md', import.meta.url),
);
/** The construct's documented props, generated from the same table. */
export const CONSTRUCT_PROPS = fileURLToPath(new URL('./serverless-dcr-props.ts', import.meta.url));

const describe = (name: SettingName) => SETTINGS[name] as Setting;
const code = (v: string) => `\`${v}\``;
/** A Markdown table cell: a `|` would end it. */
const cell = (v: string) => v.replaceAll('|', '\\|');
const row = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;

const envName = (name: SettingName) => describe(name).env as string;
const keyName = (name: SettingName) => `dcr:${describe(name).key}`;

function receivers(r: Receivers | undefined): string {
  if (r === undefined) return '—';
  if (r === 'every function') return 'every function';
  if (r === 'functions with a key') return 'those using a KMS key';
  return r.map(code).join(', ');
}

function serverDefault(s: Setting): string {
  if (s.defaultDoc !== undefined) return s.defaultDoc;
  if (s.default === undefined || s.default === '') return 'unset';
  return code(s.default);
}

function deploymentDefault(s: Setting): string {
  if (typeof s.deployDefault === 'string') return code(s.deployDefault);
  if (s.flag) return code(s.default === 'on' ? 'true' : 'false');
  if (s.defaultDoc !== undefined) return s.defaultDoc;
  if (s.default === undefined || s.default === '') return 'none';
  return code(s.default);
}

function variableRow(name: SettingName): string {
  const s = describe(name);
  const source =
    s.key !== undefined
      ? code(keyName(name))
      : s.receivedBy !== undefined
        ? 'set by the stack'
        : 'not set by the stack';
  return row([code(envName(name)), serverDefault(s), source, receivers(s.receivedBy), s.doc]);
}

function keyRow(name: SettingName): string {
  const s = describe(name);
  const given =
    s.env === undefined
      ? 'the stack itself'
      : `${code(envName(name))} (${receivers(s.receivedBy)})`;
  return row([code(keyName(name)), deploymentDefault(s), given, s.doc]);
}

function ruleLine(rule: (typeof RULES)[number]): string {
  const where = { server: 'the server', deployment: 'the synth', both: 'the server and the synth' }[
    rule.checkedBy
  ];
  const forms =
    rule.checkedBy === 'deployment'
      ? [keyName]
      : rule.checkedBy === 'server'
        ? [envName]
        : [envName, keyName];
  const said = forms.map((n) => {
    const message = typeof rule.message === 'string' ? rule.message : rule.message(n, {});
    return `${code(n(rule.setting))}: ${message}`;
  });
  return `- ${said.join(' / ')} (checked by ${where})`;
}

/** The whole document: every variable, every `dcr:` key, every rule across settings. */
export function configurationDoc(): string {
  return `${[
    '# Configuration',
    '',
    '<!-- Generated from lambdas/settings.ts by `npm run docs:config`: edit the table there, not this file. -->',
    '',
    'Every setting is declared once, in `lambdas/settings.ts`: the variable the server reads, the',
    '`dcr:` context key a deployment takes, its type and bounds, its default, and which deployed',
    'functions receive it. The server parses its environment once, with zod, at start (a Lambda:',
    'at cold start); `cdk synth` parses the `dcr:` keys (`cdk.json` context, or',
    '`-c dcr:<key>=<value>`) with the same types and hands each function exactly the variables the',
    'table gives it. A bad value stops the server, or fails the synth, with every problem named,',
    'each as the setting, its rule and the value that breaks it (`PORT: must be a whole number from',
    '0 to 65535 (got "abc")`; a secret is never quoted). A file a setting names (`DCR_TLS_CERT`)',
    'that cannot be read stops `npm start` with the setting and the path. A `DCR_*` variable that',
    'names no setting is a warning, not an error, with the nearest name (without the final S of',
    '`DCR_ALLOWED_SCOPES`: `… is not a setting (ignored); did you mean DCR_ALLOWED_SCOPES?`):',
    'printed by `npm start`, logged at a Lambda cold start.',
    '',
    '## Environment variables',
    '',
    'What `npm start` (and each function in AWS) reads. An empty variable counts as unset.',
    '',
    '| variable | default | from | AWS: functions | meaning |',
    '|---|---|---|---|---|',
    ...SERVER_SETTINGS.map(variableRow),
    '',
    'Besides these, `POWERTOOLS_LOG_LEVEL` (default `INFO`) sets the level of the JSON logs.',
    '',
    '## Deployment (`cdk.json` context or `-c dcr:<key>=<value>`)',
    '',
    'Lists take a JSON array in `cdk.json`, or a comma or space separated list; flags `true` or',
    '`false`; JSON settings an object in `cdk.json`, or its JSON text with `-c`.',
    '',
    '| key | default | the functions get | meaning |',
    '|---|---|---|---|',
    ...DEPLOYMENT_SETTINGS.map(keyRow),
    '',
    '## Rules across settings',
    '',
    ...RULES.map(ruleLine),
  ].join('\n')}\n`;
}

/** A setting's documentation as a doc comment (the types come from lib/config.ts). */
function propComment(name: SettingName): string[] {
  const s = describe(name);
  const fallback = deploymentDefault(s);
  const lines = [s.doc, ...(fallback === 'none' ? [] : ['', `@default ${fallback}`])];
  // A `*/` in the text would end the comment.
  const line = (l: string) => (l ? `   * ${l.replaceAll('*/', '*\\/')}` : '   *');
  return ['  /**', ...lines.map(line), '   */'];
}

/**
 * lib/serverless-dcr-props.ts: an interface of the deployment's settings whose types are derived
 * (DeploymentValues) and whose doc comments are the table's, so that an editor shows each
 * setting's meaning and default where a platform team writes its props.
 */
export function constructProps(): string {
  return `${[
    '// Generated from lambdas/settings.ts by `npm run docs:config`: edit the table there, not this file.',
    "import type { DeploymentValues as Values } from './config.js';",
    '',
    '/**',
    " * The settings of a `ServerlessDcr` construct: the deployment's `dcr:` keys",
    ' * (docs/configuration.md), each typed as its `cdk.json` value (a flag a boolean, a list an',
    ' * array, a JSON setting an object). All optional: an unset one takes its default.',
    ' */',
    'export interface ServerlessDcrProps {',
    ...DEPLOYMENT_SETTINGS.flatMap((name) => {
      const key = describe(name).key as string;
      return [...propComment(name), `  readonly ${key}?: Values['${key}'];`];
    }),
    '}',
  ].join('\n')}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(CONFIGURATION_DOC, configurationDoc());
  console.log(`wrote ${CONFIGURATION_DOC}`);
  writeFileSync(CONSTRUCT_PROPS, constructProps());
  console.log(`wrote ${CONSTRUCT_PROPS}`);
}
