import { GuardedRemoteKeySets } from '../../adapters/fetch/remote-key-sets.js';
import { dynamoDbStores } from '../../aws/dynamodb.js';
import { lambdaHandler } from '../../aws/lambda-handler.js';
import { loadConfig } from '../../config.js';
import { systemClock } from '../../core/clock.js';
import { registerEndpoint } from '../../wiring.js';

const config = loadConfig(process.env);
const { repository, initialAccessTokens, blockedSoftware, registrationCounter, softwareCounts } =
  dynamoDbStores(config);
export const handler = lambdaHandler('register', registerEndpoint, {
  config,
  repository,
  initialAccessTokens,
  blockedSoftware,
  registrationCounter,
  softwareCounts,
  // Software statement issuers' jwks_uri: the guarded fetcher, cached per container.
  remoteKeySets: new GuardedRemoteKeySets(config.trustedFetchOrigins),
  clock: systemClock,
});
