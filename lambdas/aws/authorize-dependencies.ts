import { FetchedMetadataDocuments } from '../adapters/fetch/metadata-documents.js';
import { upstreamLogin } from '../adapters/oidc/upstream-oidc.js';
import type { Config } from '../config.js';
import { systemClock } from '../core/clock.js';
import { dynamoDbStores } from './dynamodb.js';
import { cookieKeyFromSecretsManager, upstreamClientSecretFromSecretsManager } from './secrets.js';

/**
 * What the authorize function runs on in AWS: the table, the cookie key from Secrets Manager,
 * the upstream OpenID Provider (the operator's, or the stack's Cognito user pool), and Client ID
 * Metadata Documents. There is no development login in Lambda: without an upstream the function
 * refuses to start.
 */
export function authorizeDependencies(config: Config) {
  const { upstream } = config;
  if (upstream === undefined) {
    throw new Error(
      'invalid configuration: DCR_UPSTREAM_ISSUER and DCR_UPSTREAM_CLIENT_ID are required by this function',
    );
  }
  return {
    config,
    ...dynamoDbStores(config),
    cookieKey: cookieKeyFromSecretsManager(config.cookieKeySecretArn),
    upstream: upstreamLogin(
      upstream,
      systemClock,
      upstreamClientSecretFromSecretsManager(upstream.clientSecretArn),
    ),
    clock: systemClock,
    metadataDocuments: new FetchedMetadataDocuments({
      clock: systemClock,
      trustedOrigins: config.trustedFetchOrigins,
    }),
  };
}
