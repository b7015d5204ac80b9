import { Token } from 'aws-cdk-lib';

/**
 * What the AWS services accept, checked at synth so that a setting they would refuse fails
 * `cdk synth` with its name instead of failing `cdk deploy` halfway (docs/deployment.md).
 */

/**
 * The regions where every service the stack uses is offered: HTTP APIs (with custom domains and
 * mutual TLS), Lambda on arm64 (Node.js 24), DynamoDB global tables, KMS multi-Region keys,
 * EventBridge, SQS, SNS, Secrets Manager and Cognito user pools with managed login, after the
 * AWS Regional Services list and the services' endpoint tables (docs/deployment.md "Supported
 * regions"). Elsewhere (GovCloud, China, regions opened later) `dcr:allowUnlistedRegion=true`
 * goes ahead once the operator has checked.
 */
export const SUPPORTED_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'af-south-1',
  'ap-east-1',
  'ap-south-1',
  'ap-south-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ca-central-1',
  'ca-west-1',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'sa-east-1',
];

/** The settings whose validity depends on the stack's region. */
interface RegionalSettings {
  readonly allowUnlistedRegion: boolean;
  readonly replicaRegions: readonly string[];
  readonly primaryRegion?: string | undefined;
  readonly certificateArn?: string | undefined;
  readonly mtlsCertificateArn?: string | undefined;
  readonly upstreamClientSecretArn?: string | undefined;
}

const regionOf = (arn: string) => arn.split(':')[3];

/**
 * The problems of the settings in the stack's region, each as `dcr:<key>: <message>`; none
 * when the region is not known at synth (an environment-agnostic stack).
 */
export function regionProblems(config: RegionalSettings, region: string): string[] {
  if (Token.isUnresolved(region)) return [];
  const problems: string[] = [];
  const unlisted = (r: string) => !config.allowUnlistedRegion && !SUPPORTED_REGIONS.includes(r);
  if (unlisted(region)) {
    problems.push(
      `dcr:allowUnlistedRegion: the stack’s region ${region} is not one where every service the stack uses is known to be offered (docs/deployment.md "Supported regions"); set it to true once you have checked`,
    );
  }
  for (const [key, regions] of [
    ['replicaRegions', config.replicaRegions],
    ['primaryRegion', config.primaryRegion === undefined ? [] : [config.primaryRegion]],
  ] as const) {
    const refused = regions.filter(unlisted);
    if (refused.length > 0) {
      problems.push(
        `dcr:${key}: ${refused.join(', ')} not among the supported regions (docs/deployment.md "Supported regions"; dcr:allowUnlistedRegion=true once checked)`,
      );
    }
  }
  // A regional API Gateway domain takes a certificate of its own region; the function reads
  // the secret through its own region's endpoint.
  for (const [key, arn, what] of [
    ['certificateArn', config.certificateArn, 'a regional custom domain needs an ACM certificate'],
    [
      'mtlsCertificateArn',
      config.mtlsCertificateArn,
      'a regional custom domain needs an ACM certificate',
    ],
    [
      'upstreamClientSecretArn',
      config.upstreamClientSecretArn,
      'the authorize function reads a secret',
    ],
  ] as const) {
    if (arn !== undefined && regionOf(arn) !== region) {
      problems.push(
        `dcr:${key}: is in ${regionOf(arn)}, but ${what} in the stack’s own region ${region}`,
      );
    }
  }
  return problems;
}

/** Lambda's limit on a function's environment: keys and values together, 4 KB. */
export const LAMBDA_ENVIRONMENT_LIMIT = 4096;
/**
 * What an intrinsic (a table name, a key or secret ARN, the API's URL) is counted as, since
 * CloudFormation fills it in only at deploy: ARNs and generated names stay below this.
 */
const INTRINSIC_ALLOWANCE = 160;

/** The bytes of one resolved environment value (a string, or a CloudFormation intrinsic). */
function valueSize(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  const join = (value as { 'Fn::Join'?: [string, unknown[]] } | null)?.['Fn::Join'];
  if (join) {
    return (
      join[1].reduce<number>((sum, part) => sum + valueSize(part), 0) +
      Buffer.byteLength(join[0]) * Math.max(join[1].length - 1, 0)
    );
  }
  return INTRINSIC_ALLOWANCE;
}

/** `DCR_SOFTWARE_STATEMENT_ISSUERS` → `dcr:softwareStatementIssuers`, the setting behind it. */
const settingOf = (name: string) =>
  `dcr:${name
    .replace(/^DCR_/, '')
    .toLowerCase()
    .replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())}`;

/**
 * A function's environment (resolved: intrinsics as CloudFormation objects) measured against
 * Lambda's limit; over it, the message names the largest settings.
 */
export function environmentProblem(
  functionName: string,
  variables: Readonly<Record<string, unknown>>,
): string | undefined {
  const sizes = Object.entries(variables).map(
    ([name, value]) => [name, Buffer.byteLength(name) + valueSize(value)] as const,
  );
  const total = sizes.reduce((sum, [, size]) => sum + size, 0);
  if (total <= LAMBDA_ENVIRONMENT_LIMIT) return undefined;
  const largest = [...sizes]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([name, size]) => `${name.startsWith('DCR_') ? settingOf(name) : name} (${size} bytes)`);
  return `${functionName}: its environment would be about ${total} bytes, over Lambda’s ${LAMBDA_ENVIRONMENT_LIMIT}; the largest: ${largest.join(', ')} (publish large key sets at a jwks_uri instead of inline jwks)`;
}
