import { STACK_UPSTREAM } from './upstream-client.js';

/** The mutual TLS deployment's custom domains, and the truststore object its alias names. */
export const MTLS_STACK = {
  domain: 'auth.example.com',
  mtlsDomain: 'mtls.auth.example.com',
  truststore: 's3://dcr-truststore/clients.pem',
} as const;

/**
 * The deployments the `stack` test project runs, by stack name, with their `dcr:` context. The
 * global setup synthesizes them all once per run into one cloud assembly, in one process: CDK
 * builds a function's bundle once for every stack that has it (same entry, same bundling
 * options), instead of once per test file that synthesizes its own variant.
 */
export const STACK_VARIANTS = {
  /**
   * What test/e2e runs on: interactive, with the operator's upstream (tests point
   * DCR_UPSTREAM_ISSUER at a loopback oidc-provider; the Secrets Manager stand-in holds the client
   * secret the ARN names).
   */
  ServerlessDcr: {
    'dcr:signingAlgorithm': 'ES256',
    'dcr:upstreamIssuer': STACK_UPSTREAM.issuer,
    'dcr:upstreamClientId': STACK_UPSTREAM.clientId,
    'dcr:upstreamClientSecretArn': STACK_UPSTREAM.clientSecretArn,
  },
  /** The wrapped signing mode (test/stack/wrapped-keys). */
  ServerlessDcrWrapped: { 'dcr:signingMode': 'wrapped', 'dcr:signingAlgorithm': 'ES256' },
  /**
   * The default registration policy (open, initial access tokens, statements, and mtls), the
   * issuer on a custom domain and a mutual TLS alias (test/stack/mutual-tls).
   */
  ServerlessDcrMtls: {
    'dcr:domainName': MTLS_STACK.domain,
    'dcr:certificateArn': 'arn:aws:acm:local:000000000000:certificate/auth',
    'dcr:mtlsDomainName': MTLS_STACK.mtlsDomain,
    'dcr:mtlsTruststoreUri': MTLS_STACK.truststore,
    'dcr:cognitoLogin': false,
  },
} as const satisfies Record<string, Record<string, unknown>>;

export type StackVariant = keyof typeof STACK_VARIANTS;
