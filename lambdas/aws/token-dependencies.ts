import { addCounters } from '../adapters/dynamodb/dynamodb-client-statistics.js';
import { FetchedMetadataDocuments } from '../adapters/fetch/metadata-documents.js';
import { GuardedRemoteKeySets } from '../adapters/fetch/remote-key-sets.js';
import type { Config } from '../config.js';
import { systemClock } from '../core/clock.js';
import type { CounterUpdate } from '../core/operator/ports.js';
import { documentClient, dynamoDbStores } from './dynamodb.js';
import { signerFor } from './kms.js';

/**
 * What the token, introspection and revocation functions run on in AWS. Only the token
 * function signs; the others verify against the published keys.
 */
export const tokenDependencies = (
  config: Config,
  use: 'sign' | 'verify',
  dynamo = documentClient(),
) => ({
  config,
  ...dynamoDbStores(config, dynamo),
  // Refresh token reuse, counted in the client's health (token function only).
  statistics: {
    add: (updates: readonly CounterUpdate[]) => addCounters(dynamo, config.tableName, updates),
  },
  signer: signerFor(config, use),
  remoteKeySets: new GuardedRemoteKeySets(config.trustedFetchOrigins),
  clock: systemClock,
  metadataDocuments: new FetchedMetadataDocuments({
    clock: systemClock,
    trustedOrigins: config.trustedFetchOrigins,
  }),
});
