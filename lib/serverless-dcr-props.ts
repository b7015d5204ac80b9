// Generated from lambdas/settings.ts by `npm run docs:config`: edit the table there, not this file.
import type { DeploymentValues as Values } from './config.js';

/**
 * The settings of a `ServerlessDcr` construct: the deployment's `dcr:` keys
 * (docs/configuration.md), each typed as its `cdk.json` value (a flag a boolean, a list an
 * array, a JSON setting an object). All optional: an unset one takes its default.
 */
export interface ServerlessDcrProps {
  /**
   * a page for developers who integrate with this server (RFC 8414 `service_documentation`): advertised in the metadata and linked from the home page (`GET /`)
   *
   * @default unset
   */
  readonly serviceDocumentation?: Values['serviceDocumentation'];
  /**
   * the server’s or organisation’s name as users see it on the consent page (up to 80 characters)
   *
   * @default unset (the page names the issuer’s host)
   */
  readonly serviceName?: Values['serviceName'];
  /**
   * the operator’s logo on the consent page: a PNG, JPEG, WebP or SVG file (path, up to 64 KB) read at start and served by this server at `/service-logo` (the stack copies it into the authorize function); never a client’s `logo_uri`
   *
   * @default unset (no logo)
   */
  readonly serviceLogo?: Values['serviceLogo'];
  /**
   * JSON object scope → what it lets an application do, in words a user understands (up to 100 scopes, 200 characters each), shown on the consent page beside the scope's name
   *
   * @default unset (scopes are shown by name)
   */
  readonly scopeDescriptions?: Values['scopeDescriptions'];
  /**
   * space-separated scopes clients may register; advertised as `scopes_supported`. Tokens for a real resource carry only scopes the operator offers, so with resources configured the server refuses to start without this list
   *
   * @default unset = any scope; **required** when `DCR_RESOURCES` or `DCR_DEFAULT_AUDIENCE` is set
   */
  readonly allowedScopes?: Values['allowedScopes'];
  /**
   * longest a client lives; caps the client's `expires_at`; `0` = no cap
   *
   * @default `31536000` (365 days)
   */
  readonly clientMaxLifetimeSeconds?: Values['clientMaxLifetimeSeconds'];
  /**
   * lifetime of each issued client secret (registration, an RFC 7592 update that replaces an expired one, an operator's rotation), reported in `client_secret_expires_at`
   *
   * @default `0` (never)
   */
  readonly clientSecretLifetimeSeconds?: Values['clientSecretLifetimeSeconds'];
  /**
   * a client not used (no token, introspection or revocation) for this long after its last use expires; `0` = never
   *
   * @default `7776000` (90 days)
   */
  readonly clientIdleLifetimeSeconds?: Values['clientIdleLifetimeSeconds'];
  /**
   * a client never used expires this long after registering; `0` = never
   *
   * @default `86400` (24 hours)
   */
  readonly clientUnusedLifetimeSeconds?: Values['clientUnusedLifetimeSeconds'];
  /**
   * "last used" is written at most once per client per interval, not once per token
   *
   * @default `300`
   */
  readonly lastUsedWriteIntervalSeconds?: Values['lastUsedWriteIntervalSeconds'];
  /**
   * access token lifetime (RFC 9068 `exp - iat`)
   *
   * @default `600`
   */
  readonly accessTokenLifetimeSeconds?: Values['accessTokenLifetimeSeconds'];
  /**
   * RFC 8707 resources clients may ask tokens for (space-separated absolute URIs); each becomes `aud`
   */
  readonly resources?: Values['resources'];
  /**
   * `aud` of tokens requested without `resource`
   *
   * @default the issuer
   */
  readonly defaultAudience?: Values['defaultAudience'];
  /**
   * clients (resource servers) that may introspect any token; every other client only its own
   */
  readonly introspectorClientIds?: Values['introspectorClientIds'];
  /**
   * the signing algorithm: of the local key (generated once, kept in the data folder), of the KMS key (`RSA_2048` or `ECC_NIST_P256`), and in the wrapped mode of each new key
   *
   * @default `RS256`
   */
  readonly signingAlgorithm?: Values['signingAlgorithm'];
  /**
   * AWS: `kms` (KMS signs every token; the private key never leaves it) or `wrapped` (a signing key wrapped by a symmetric KMS key, unwrapped once per container, rotated on a schedule: docs/deployment.md "Signing modes"); `npm start` always signs with its local key file
   *
   * @default `kms`
   */
  readonly signingMode?: Values['signingMode'];
  /**
   * AWS: keys that signed before a rotation, still published in the JWKS (and readable by the verifying functions) until their tokens expire (kms mode only)
   */
  readonly previousSigningKeyArns?: Values['previousSigningKeyArns'];
  /**
   * raise it to rotate: a new key (alias `…-gen<N>`) signs, the old one is retained; list the old key in `dcr:previousSigningKeyArns` until its tokens have expired
   *
   * @default `1`
   */
  readonly signingKeyGeneration?: Values['signingKeyGeneration'];
  /**
   * wrapped mode: a new signing key every this many hours (1 to 2160)
   *
   * @default `24`
   */
  readonly keyRotationHours?: Values['keyRotationHours'];
  /**
   * an OpenID Provider users sign in at (https; locally also http on `127.0.0.1`, `[::1]`, `localhost`); with the upstream client id. Register `<issuer>/callback` there as the redirect URI (the start-up banner and the stack output `LoginCallbackUrl` print it)
   *
   * @default none; in AWS the Cognito user pool the stack creates (unless `dcr:cognitoLogin` is false)
   */
  readonly upstreamIssuer?: Values['upstreamIssuer'];
  /**
   * this server's client id at the upstream
   *
   * @default none (the Cognito app client in AWS)
   */
  readonly upstreamClientId?: Values['upstreamClientId'];
  /**
   * AWS: full ARN of a Secrets Manager secret you created holding the upstream client secret as plain text (`client_secret_basic`), read once per container; encrypted with the default `aws/secretsmanager` key (the function gets no `kms:Decrypt` on keys of yours)
   *
   * @default none (a public client: PKCE only)
   */
  readonly upstreamClientSecretArn?: Values['upstreamClientSecretArn'];
  /**
   * scopes asked of the upstream (must include `openid`)
   *
   * @default `openid`
   */
  readonly upstreamScopes?: Values['upstreamScopes'];
  /**
   * how long a browser stays signed in at this server (300 to 86400)
   *
   * @default `28800` (8 hours)
   */
  readonly sessionLifetimeSeconds?: Values['sessionLifetimeSeconds'];
  /**
   * refresh token family: absolute lifetime
   *
   * @default `2592000` (30 days)
   */
  readonly refreshTokenLifetimeSeconds?: Values['refreshTokenLifetimeSeconds'];
  /**
   * refresh token family: idle lifetime (unused this long: dead; at most the absolute one)
   *
   * @default `604800` (7 days)
   */
  readonly refreshTokenIdleLifetimeSeconds?: Values['refreshTokenIdleLifetimeSeconds'];
  /**
   * after a rotation, the replaced refresh token still answers with its successor this long, for clients that refresh concurrently (`0`: any reuse revokes the family; [Concurrent refreshes](tokens.md#concurrent-refreshes-the-reuse-grace-window))
   *
   * @default `60`
   */
  readonly refreshTokenReuseGraceSeconds?: Values['refreshTokenReuseGraceSeconds'];
  /**
   * `on`: every DPoP proof at the token endpoint must carry a nonce this server issued (RFC 9449 §8), else `400 use_dpop_nonce` with a `DPoP-Nonce` header; derived, not stored ([DPoP nonces](tokens.md#dpop-nonces)); needs the RS256 signing algorithm
   *
   * @default `off`
   */
  readonly dpopNonce?: Values['dpopNonce'];
  /**
   * without an upstream: create an Amazon Cognito user pool with managed login as the upstream; `false` = no one signs in (no authorize function, no `/authorize`, discovery advertises no authorization endpoint)
   *
   * @default `true`
   */
  readonly cognitoLogin?: Values['cognitoLogin'];
  /**
   * the Cognito managed login domain (`https://<prefix>.auth.<region>.amazoncognito.com`)
   *
   * @default `<stack name>-<account id>`
   */
  readonly cognitoDomainPrefix?: Values['cognitoDomainPrefix'];
  /**
   * whether an https URL is a client_id here (Client ID Metadata Documents, docs/registration.md); document clients are anonymous clients, held to the `open` way
   *
   * @default `false`
   */
  readonly clientIdMetadataDocuments?: Values['clientIdMetadataDocuments'];
  /**
   * the accepted ways to register (docs/registration.md "Registration policy"): `open`, `initial_access_token`, `software_statement`, `mtls`
   *
   * @default `open,initial_access_token,software_statement`, plus `mtls` when client certificates can arrive (`DCR_TLS_CLIENT_AUTH`, `dcr:mtlsDomainName`)
   */
  readonly registrationAccess?: Values['registrationAccess'];
  /**
   * trust tier per way, JSON keyed by way (in cdk.json an object): `max_client_lifetime_seconds`, `grant_types`, `scopes`, `public_clients`
   *
   * @default no narrowing
   */
  readonly registrationTiers?: Values['registrationTiers'];
  /**
   * trusted software statement issuers (RFC 7591 §2.3), JSON keyed by `iss` (in cdk.json an object): `{jwks | jwks_uri, algorithms?}` each (docs/registration.md "Software statements")
   */
  readonly softwareStatementIssuers?: Values['softwareStatementIssuers'];
  /**
   * issuers whose JWTs are exchanged for access tokens (RFC 7523 jwt-bearer), JSON keyed by `iss` (in cdk.json an object): `{kind: "workload" | "id-jag", jwks | jwks_uri, algorithms?, rules: [{claims, scope?, resources}]}` each ([Workload identity](tokens.md#workload-identity), [ID-JAG](tokens.md#enterprise-managed-authorization-id-jag))
   */
  readonly trustedIssuers?: Values['trustedIssuers'];
  /**
   * how long a container keeps what it read of an issuer stored through the admin API — found or not — before reading it again: the longest a removed or replaced issuer still counts in a warm container (`0` = read each time; [Stored trusted issuers](tokens.md#stored-trusted-issuers))
   *
   * @default `30`
   */
  readonly trustedIssuerCacheSeconds?: Values['trustedIssuerCacheSeconds'];
  /**
   * `on`: RFC 8693 token exchange at the token endpoint: a client of `DCR_INTROSPECTOR_CLIENT_IDS` (a resource server) exchanges an access token it received for one to another resource, acting for its subject (`act`) ([Token exchange](tokens.md#token-exchange-rfc-8693))
   *
   * @default `false`
   */
  readonly tokenExchange?: Values['tokenExchange'];
  /**
   * the longest remaining lifetime (`exp` − now) of an assertion exchanged at the token endpoint; a longer-lived one is refused (`invalid_grant`)
   *
   * @default `3600`
   */
  readonly assertionMaxLifetimeSeconds?: Values['assertionMaxLifetimeSeconds'];
  /**
   * anonymous registrations per source address (IPv6: per /64) and fixed window: `N/SECONDS` (window 1 to 86400 s) or `off` (docs/registration.md "Abuse control")
   *
   * @default `120/3600`
   */
  readonly registrationRateLimit?: Values['registrationRateLimit'];
  /**
   * host patterns an anonymous client's https redirect URIs must match: `host.name` exactly, or `*.host.name` = one or more labels before `.host.name` (never the bare name); `*` or `any` = any https host. Loopback is always allowed
   *
   * @default `claude.ai,claude.com,chatgpt.com,vscode.dev,insiders.vscode.dev,cursor.com,www.cursor.com`
   */
  readonly redirectHosts?: Values['redirectHosts'];
  /**
   * private-use schemes an anonymous client may register; `*` or `any` = any (still never `javascript:`, `data:`, `file:`, …)
   *
   * @default `cursor`
   */
  readonly privateUseSchemes?: Values['privateUseSchemes'];
  /**
   * the active clients one software_id may have at once (1 to 1,000,000); more → `403 access_denied` (docs/registration.md "Active clients per software_id")
   *
   * @default unset (no cap)
   */
  readonly softwareIdMaxActiveClients?: Values['softwareIdMaxActiveClients'];
  /**
   * custom domain (with `dcr:certificateArn`); the issuer becomes `https://<domainName>` and the execute-api URL is disabled. It never asks for a client certificate. Output `DomainTarget`: its DNS record's target
   */
  readonly domainName?: Values['domainName'];
  /**
   * ACM certificate of the custom domain, in the stack's region
   */
  readonly certificateArn?: Values['certificateArn'];
  /**
   * with `dcr:mtlsTruststoreUri` (and `dcr:domainName`): a second custom domain that does mutual TLS, mapped to the same API; discovery publishes it as `mtls_endpoint_aliases`. Must differ from `dcr:domainName`. Outputs `MtlsOrigin`, `MtlsDomainTarget`
   */
  readonly mtlsDomainName?: Values['mtlsDomainName'];
  /**
   * ACM certificate of `dcr:mtlsDomainName`; the default one must then cover that name too (a wildcard `*.example.com` or a SAN)
   *
   * @default `dcr:certificateArn`
   */
  readonly mtlsCertificateArn?: Values['mtlsCertificateArn'];
  /**
   * `s3://bucket/key` PEM truststore of the CAs that issue client certificates; only the mutual TLS domain uses it. The functions get `DCR_TLS_CLIENT_AUTH=on` (`tls_client_auth`, bound tokens), the discovery function also `DCR_MTLS_ORIGIN`
   */
  readonly mtlsTruststoreUri?: Values['mtlsTruststoreUri'];
  /**
   * the truststore object's version
   */
  readonly mtlsTruststoreVersion?: Values['mtlsTruststoreVersion'];
  /**
   * EventBridge schedule expression of the cleanup function
   *
   * @default `rate(1 hour)`
   */
  readonly cleanupSchedule?: Values['cleanupSchedule'];
  /**
   * email address subscribed to the alarm topic
   */
  readonly alarmEmail?: Values['alarmEmail'];
  /**
   * retention of function and access logs (a CloudWatch retention value)
   *
   * @default `30`
   */
  readonly logRetentionDays?: Values['logRetentionDays'];
  /**
   * active X-Ray tracing on every function
   *
   * @default `false`
   */
  readonly tracing?: Values['tracing'];
  /**
   * keep the table (deletion protection + RETAIN), the signing key and the cookie key when the stack is deleted
   *
   * @default `true`
   */
  readonly retainData?: Values['retainData'];
  /**
   * API stage throttling: steady-state requests per second across the API
   *
   * @default `100`
   */
  readonly throttleRateLimit?: Values['throttleRateLimit'];
  /**
   * API stage throttling: burst
   *
   * @default `200`
   */
  readonly throttleBurstLimit?: Values['throttleBurstLimit'];
  /**
   * deploy in a region off the supported list (docs/deployment.md "Supported regions"), once you have checked that every service the stack uses is offered there
   *
   * @default `false`
   */
  readonly allowUnlistedRegion?: Values['allowUnlistedRegion'];
  /**
   * other regions (never the stack's own; the stack's region must be known at synth: `AWS_REGION` or `CDK_DEFAULT_REGION`) that hold a replica of the table (a DynamoDB global table) and can use the KMS key (a multi-Region key); the functions get `DCR_REGION`
   */
  readonly replicaRegions?: Values['replicaRegions'];
  /**
   * a replica region's stack: the primary stack's region (with `dcr:primaryTableName` and `dcr:primaryKeyArn`; all three or none)
   */
  readonly primaryRegion?: Values['primaryRegion'];
  /**
   * a replica region's stack: the primary stack's `TableName` output (the replica has the same name)
   */
  readonly primaryTableName?: Values['primaryTableName'];
  /**
   * a replica region's stack: the primary's `SigningKeyArn` or `WrappingKeyArn` output (a multi-Region key), of which this stack makes a replica key
   */
  readonly primaryKeyArn?: Values['primaryKeyArn'];
}
