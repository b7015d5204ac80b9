import { FetchedMetadataDocuments } from '../adapters/metadata-documents.js';
import { GuardedRemoteKeySets } from '../adapters/remote-key-sets.js';
import type { Config } from '../config.js';
import { systemClock } from '../core/ports.js';
import { dynamoDbStores } from './dynamodb.js';
import { kmsSigner } from './kms.js';

/** What the token, introspection and revocation functions run on in AWS. */
export const tokenDependencies = (config: Config) => ({
  config,
  ...dynamoDbStores(config),
  signer: kmsSigner(config),
  remoteKeySets: new GuardedRemoteKeySets(config.trustedFetchOrigins),
  clock: systemClock,
  metadataDocuments: new FetchedMetadataDocuments({
    clock: systemClock,
    trustedOrigins: config.trustedFetchOrigins,
  }),
});
