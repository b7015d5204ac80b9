/** Our server as a client of the test upstream: confidential (basic) and public (PKCE only). */
export const UPSTREAM_CLIENT = {
  id: 'dcr',
  secret: 'upstream-secret-0123456789abcdef',
  publicId: 'dcr-public',
} as const;

/**
 * The upstream the stack test project's template names (dcr:upstream* context): an issuer that
 * resolves nowhere — tests point the functions at a loopback oidc-provider with
 * DCR_UPSTREAM_ISSUER — and an operator secret the Secrets Manager stand-in holds.
 */
export const STACK_UPSTREAM = {
  issuer: 'https://upstream.invalid',
  clientId: UPSTREAM_CLIENT.id,
  clientSecretArn: 'arn:aws:secretsmanager:local:000000000000:secret:dcr-upstream-AbCdEf',
  clientSecret: UPSTREAM_CLIENT.secret,
} as const;
