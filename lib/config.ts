import type { Node } from 'constructs';
import * as z from 'zod';
import { registrationTiers, statementIssuers } from '../lambdas/config.js';

const csv = z.union([
  z.array(z.string()),
  z.string().transform((v) => v.split(/[\s,]+/).filter(Boolean)),
]);
/** An object (cdk.json) or its JSON text (-c), as JSON text for the functions' own schema. */
const jsonOrObject = z.union([
  z.string(),
  z.record(z.string(), z.unknown()).transform((v) => JSON.stringify(v)),
]);
/** A duration in seconds, at least `min` (and at most `max`), `fallback` when unset. */
const seconds = (min: number, fallback: number, max?: number) => {
  const value = z.coerce.number().int().min(min);
  return (max === undefined ? value : value.max(max)).default(fallback);
};
/** A DNS name, as API Gateway takes a custom domain's (lower case; a wildcard is not one). */
const hostName = z
  .string()
  .regex(
    /^(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/,
    'must be a lower-case DNS name such as auth.example.com',
  );
const certificateArn = z.string().regex(/^arn:aws[\w-]*:acm:/, 'must be an ACM certificate ARN');
/** An AWS region name (eu-west-1, us-gov-west-1, ap-southeast-4). */
const regionName = z
  .string()
  .regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'must be AWS region names such as eu-west-1');
const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);

/**
 * The deployment's one typed configuration: cdk.json context keys `dcr:<name>`, each
 * overridable on the command line (`npx cdk deploy -c dcr:signingAlgorithm=ES256`). docs/configuration.md
 * lists every key with its default.
 */
const schema = z
  .object({
    /** Custom domain (needs certificateArn); the issuer then is https://<domainName>. */
    domainName: hostName.optional(),
    /** ACM certificate for the custom domain, in the stack's region. */
    certificateArn: certificateArn.optional(),
    /**
     * RFC 8705 §5: a second custom domain that does mutual TLS (with mtlsTruststoreUri), for the
     * endpoints' `mtls_endpoint_aliases`; domainName itself never asks for a certificate.
     */
    mtlsDomainName: hostName.optional(),
    /** Its ACM certificate; default certificateArn (which must then cover this name too). */
    mtlsCertificateArn: certificateArn.optional(),
    /** s3://bucket/key of a PEM truststore: the CAs mtlsDomainName verifies certificates with. */
    mtlsTruststoreUri: z
      .string()
      .regex(/^s3:\/\/[^/]+\/.+/)
      .optional(),
    mtlsTruststoreVersion: z.string().min(1).optional(),
    /** RS256 (RSA_2048 KMS key) or ES256 (ECC_NIST_P256). */
    signingAlgorithm: z.enum(['RS256', 'ES256']).default('RS256'),
    /**
     * `kms`: every token signed by KMS (the private key never leaves the HSM). `wrapped`: a
     * signing key wrapped by a symmetric KMS key, unwrapped once per container, rotated on a
     * schedule (docs/deployment.md "Signing modes").
     */
    signingMode: z.enum(['kms', 'wrapped']).default('kms'),
    /** Wrapped mode: a new signing key every this many hours. */
    keyRotationHours: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 90)
      .default(24),
    /**
     * Key rotation: raising the generation creates a new signing key (the old one is retained);
     * list the old key's ARN in previousSigningKeyArns until the tokens it signed have expired.
     */
    signingKeyGeneration: z.coerce.number().int().min(1).default(1),
    previousSigningKeyArns: csv
      .pipe(z.array(z.string().regex(/^arn:aws[\w-]*:kms:/, 'must be KMS key ARNs')))
      .default([]),
    accessTokenLifetimeSeconds: seconds(60, 600, 86_400),
    clientMaxLifetimeSeconds: seconds(0, 365 * 24 * 3600),
    clientSecretLifetimeSeconds: seconds(0, 0),
    clientIdleLifetimeSeconds: seconds(0, 90 * 24 * 3600),
    clientUnusedLifetimeSeconds: seconds(0, 24 * 3600),
    lastUsedWriteIntervalSeconds: seconds(0, 300),
    allowedScopes: csv.default([]),
    resources: csv.default([]),
    defaultAudience: z.string().url().optional(),
    introspectorClientIds: csv.default([]),
    /** EventBridge schedule expression of the cleanup run. */
    cleanupSchedule: z
      .string()
      .regex(/^(rate|cron)\(.+\)$/)
      .default('rate(1 hour)'),
    /** Email address subscribed to the alarm topic. */
    alarmEmail: z.string().email().optional(),
    logRetentionDays: z.coerce.number().int().positive().default(30),
    tracing: bool.default(false),
    /** Keep the table (and the signing key) when the stack is deleted. */
    retainData: bool.default(true),
    /** Steady-state requests per second and burst across the API ($default stage). */
    throttleRateLimit: z.coerce.number().positive().default(100),
    throttleBurstLimit: z.coerce.number().int().positive().default(200),
    /**
     * The operator's OpenID Provider users sign in at (https); with upstreamClientId. Unset: an
     * Amazon Cognito user pool is created (unless cognitoLogin is false).
     */
    upstreamIssuer: z
      .url({ protocol: /^https$/ })
      .refine((v) => !v.includes('?') && !v.includes('#'), 'must have no query or fragment')
      .transform((v) => v.replace(/\/+$/, ''))
      .optional(),
    upstreamClientId: z.string().min(1).max(255).optional(),
    /** An operator-created secret holding the upstream client secret; unset = a public client. */
    upstreamClientSecretArn: z
      .string()
      .regex(
        /^arn:aws[\w-]*:secretsmanager:[\w-]+:\d{12}:secret:.+$/,
        'must be a Secrets Manager secret ARN',
      )
      .optional(),
    upstreamScopes: csv
      .refine((scopes) => scopes.includes('openid'), 'must include openid')
      .default(['openid']),
    /** Without an upstream: create a Cognito user pool with managed login (false: no sign-in). */
    cognitoLogin: bool.default(true),
    /** The Cognito managed login domain prefix; default `<stack name>-<account id>`. */
    cognitoDomainPrefix: z
      .string()
      .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'lower-case letters, digits and hyphens')
      .refine((v) => !/aws|amazon|cognito/.test(v), 'must not contain aws, amazon or cognito')
      .optional(),
    sessionLifetimeSeconds: seconds(300, 28_800, 86_400),
    refreshTokenLifetimeSeconds: seconds(3600, 30 * 24 * 3600),
    refreshTokenIdleLifetimeSeconds: seconds(300, 7 * 24 * 3600),
    /** Concurrent refreshes: the replaced token answers with its successor this long (0 = off). */
    refreshTokenReuseGraceSeconds: seconds(0, 60, 3600),
    /** Client ID Metadata Documents (an https URL as client_id). */
    clientIdMetadataDocuments: bool.default(true),
    /**
     * The accepted ways to register (docs/registration.md "Registration policy"); default
     * open,initial_access_token,software_statement, plus mtls with mtlsDomainName.
     */
    registrationAccess: csv
      .pipe(z.array(z.enum(['open', 'initial_access_token', 'software_statement', 'mtls'])).min(1))
      .optional(),
    /** Trust tier per way: an object (cdk.json) or its JSON (-c), the functions' own schema. */
    registrationTiers: jsonOrObject.pipe(registrationTiers).optional(),
    /**
     * Trusted software statement issuers (RFC 7591 §2.3), keyed by `iss`: `{jwks | jwks_uri,
     * algorithms?}` each; an object in cdk.json or its JSON text on the command line. Checked
     * by the functions' own schema (DCR_SOFTWARE_STATEMENT_ISSUERS).
     */
    softwareStatementIssuers: jsonOrObject
      .refine(
        (json) => statementIssuers.safeParse(json).success,
        'must be JSON keyed by issuer, each with jwks or an https jwks_uri, optional algorithms (asymmetric)',
      )
      .optional(),
    /**
     * Abuse control: anonymous registrations per source address (IPv6: per /64), `N/SECONDS`
     * or `off`. 120 an hour admits a shared office egress address in normal use (docs/registration.md
     * "Abuse control"); checked again by the register function's own configuration.
     */
    registrationRateLimit: z
      .string()
      .regex(/^(off|\d+\/\d+)$/, 'must be N/SECONDS or off')
      .default('120/3600'),
    /** Host patterns for anonymous clients' https redirect URIs (`*` = any); unset = the defaults. */
    redirectHosts: csv.optional(),
    /** Private-use schemes anonymous clients may register (`*` = any); unset = the defaults. */
    privateUseSchemes: csv.optional(),
    /**
     * Multi-region (docs/deployment.md "Multi-region"): the other regions the table is replicated to (a
     * DynamoDB global table) and whose KMS key is a multi-Region key. Never the stack's own
     * region (checked by the stack, which knows it).
     */
    replicaRegions: csv
      .pipe(
        z.array(regionName).refine((r) => new Set(r).size === r.length, 'must not repeat a region'),
      )
      .default([]),
    /**
     * A replica region's stack (docs/deployment.md "Multi-region"): the primary stack's region, its table's
     * name (output TableName; the replica has the same) and its multi-Region key (output
     * SigningKeyArn or WrappingKeyArn), of which this stack makes a replica key.
     */
    primaryRegion: regionName.optional(),
    primaryTableName: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name')
      .optional(),
    primaryKeyArn: z
      .string()
      .regex(
        /^arn:aws[\w-]*:kms:[a-z0-9-]+:\d{12}:key\/mrk-[0-9a-f]{32}$/,
        'must be the ARN of a multi-Region KMS key (key/mrk-…)',
      )
      .optional(),
    /** Abuse control: the active clients one software_id may have; unset = no cap. */
    softwareIdMaxActiveClients: z.coerce.number().int().min(1).max(1_000_000).optional(),
  })
  .refine((c) => c.signingMode === 'kms' || c.previousSigningKeyArns.length === 0, {
    path: ['previousSigningKeyArns'],
    message: 'KMS signing keys are published in the kms signing mode only',
  })
  .refine((c) => (c.domainName === undefined) === (c.certificateArn === undefined), {
    path: ['certificateArn'],
    message: 'domainName and certificateArn go together',
  })
  // RFC 8705 §5: mutual TLS on a domain of its own, so that the issuer's stays open to
  // browsers, MCP clients, resource servers and the operator (docs/deployment.md "Mutual TLS").
  .refine((c) => c.mtlsTruststoreUri === undefined || c.mtlsDomainName !== undefined, {
    path: ['mtlsTruststoreUri'],
    message:
      'needs mtlsDomainName: mutual TLS is served on a second custom domain (the issuer’s domainName asks for no certificate)',
  })
  .refine((c) => c.mtlsDomainName === undefined || c.mtlsTruststoreUri !== undefined, {
    path: ['mtlsDomainName'],
    message: 'needs mtlsTruststoreUri (the CAs that issue the client certificates)',
  })
  .refine((c) => c.mtlsDomainName === undefined || c.domainName !== undefined, {
    path: ['mtlsDomainName'],
    message: 'needs domainName and certificateArn (the issuer’s own custom domain)',
  })
  .refine((c) => c.mtlsDomainName === undefined || c.mtlsDomainName !== c.domainName, {
    path: ['mtlsDomainName'],
    message: 'must differ from domainName (which must stay reachable without a certificate)',
  })
  .refine((c) => c.mtlsCertificateArn === undefined || c.mtlsDomainName !== undefined, {
    path: ['mtlsCertificateArn'],
    message: 'needs mtlsDomainName',
  })
  .refine((c) => c.mtlsTruststoreVersion === undefined || c.mtlsTruststoreUri !== undefined, {
    path: ['mtlsTruststoreVersion'],
    message: 'needs mtlsTruststoreUri',
  })
  .refine((c) => (c.upstreamIssuer === undefined) === (c.upstreamClientId === undefined), {
    path: ['upstreamClientId'],
    message: 'upstreamIssuer and upstreamClientId go together',
  })
  .refine((c) => c.upstreamClientSecretArn === undefined || c.upstreamIssuer !== undefined, {
    path: ['upstreamClientSecretArn'],
    message: 'needs upstreamIssuer (the Cognito app client has no secret)',
  })
  .refine(
    (c) =>
      (c.primaryRegion === undefined) === (c.primaryTableName === undefined) &&
      (c.primaryRegion === undefined) === (c.primaryKeyArn === undefined),
    {
      path: ['primaryRegion'],
      message: 'primaryRegion, primaryTableName and primaryKeyArn go together',
    },
  )
  .refine((c) => c.primaryRegion === undefined || c.replicaRegions.length === 0, {
    path: ['replicaRegions'],
    message: 'belongs to the primary stack, not to a replica region’s (primaryRegion)',
  })
  .refine((c) => c.primaryRegion === undefined || c.previousSigningKeyArns.length === 0, {
    path: ['previousSigningKeyArns'],
    message: 'not in a replica region’s stack (primaryRegion)',
  })
  // Users must be the same in every region: one upstream, not a user pool per region.
  .refine(
    (c) => c.primaryRegion === undefined || c.upstreamIssuer !== undefined || !c.cognitoLogin,
    {
      path: ['primaryRegion'],
      message:
        'needs upstreamIssuer (or cognitoLogin=false): a user pool per region would hold different users',
    },
  )
  .refine((c) => c.refreshTokenIdleLifetimeSeconds <= c.refreshTokenLifetimeSeconds, {
    path: ['refreshTokenIdleLifetimeSeconds'],
    message: 'must not exceed refreshTokenLifetimeSeconds',
  })
  // As in lambdas/config.ts: tokens for a resource carry only scopes the operator offers.
  .refine(
    (c) =>
      c.allowedScopes.length > 0 || (c.resources.length === 0 && c.defaultAudience === undefined),
    {
      path: ['allowedScopes'],
      message: 'required with resources or defaultAudience (the scopes those resources accept)',
    },
  );

export type DeploymentConfig = z.infer<typeof schema>;

/** Reads every `dcr:<key>` context value; a bad one fails the synth with its name. */
export function deploymentConfig(node: Node): DeploymentConfig {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = node.tryGetContext(`dcr:${key}`);
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `dcr:${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid deployment configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
}
