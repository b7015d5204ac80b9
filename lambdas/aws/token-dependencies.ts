import { FetchedMetadataDocuments } from '../adapters/fetch/metadata-documents.js';
import { GuardedRemoteKeySets } from '../adapters/fetch/remote-key-sets.js';
import type { Config } from '../config.js';
import { systemClock } from '../core/clock.js';
import { dynamoDbStores } from './dynamodb.js';
import { signerFor } from './kms.js';

/**
 * What the token, introspection and revocation functions run on in AWS. Only the token
 * function signs; the others verify against the published keys.
 */
export const tokenDependencies = (config: Config, use: 'sign' | 'verify') => ({
  config,
  ...dynamoDbStores(config),
  signer: signerFor(config, use),
  remoteKeySets: new GuardedRemoteKeySets(config.trustedFetchOrigins),
  clock: systemClock,
  metadataDocuments: new FetchedMetadataDocuments({
    clock: systemClock,
    trustedOrigins: config.trustedFetchOrigins,
  }),
});
