import { GuardedRemoteKeySets } from '../adapters/remote-key-sets.js';
import { dynamoDbStores } from '../aws/dynamodb.js';
import { kmsSigner } from '../aws/kms.js';
import { lambdaHandler } from '../aws/lambda-handler.js';
import { loadConfig } from '../config.js';
import { systemClock } from '../core/ports.js';

const config = loadConfig(process.env);
export const handler = lambdaHandler('token', {
  config,
  ...dynamoDbStores(config),
  signer: kmsSigner(config),
  remoteKeySets: new GuardedRemoteKeySets(),
  clock: systemClock,
});
