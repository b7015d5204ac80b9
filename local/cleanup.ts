import { AuditedClientRepository } from '../lambdas/adapters/audited-client-repository.js';
import { DynamoDbClientStatistics } from '../lambdas/adapters/dynamodb/dynamodb-client-statistics.js';
import { DynamoDbExpirySweeper } from '../lambdas/adapters/dynamodb/dynamodb-expiry-sweeper.js';
import { documentClient, dynamoDbStores } from '../lambdas/aws/dynamodb.js';
import { loadConfig } from '../lambdas/config.js';
import { systemClock } from '../lambdas/core/clock.js';
import { DEFAULT_DATA_DIR, startEmbeddedStore } from './embedded-store.js';

/**
 * `npm run cleanup`: one sweep of the local data folder, the code the scheduled Lambda runs,
 * counting the expiries in the statistics as the server's own sweep does. The running server
 * sweeps by itself (DCR_CLEANUP_INTERVAL_SECONDS); this is for a stopped one.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const config = loadConfig({ DCR_DATA_DIR: DEFAULT_DATA_DIR, ...process.env });
let store: Awaited<ReturnType<typeof startEmbeddedStore>>;
try {
  store = await startEmbeddedStore(config.tableName, `${config.dataDir}/dynamodb`);
} catch (error) {
  console.error(
    `cannot open ${config.dataDir}: is the local server running? It sweeps by itself.\n${(error as Error).message}`,
  );
  process.exit(1);
}
const dynamo = documentClient(store.client);
const { repository, initialAccessTokens, softwareCounts } = dynamoDbStores(config, dynamo);
const counted = new AuditedClientRepository(repository, systemClock, {
  statistics: new DynamoDbClientStatistics(dynamo, config.tableName),
  caps: { initialAccessTokens, softwareCounts },
});
const sweeper = new DynamoDbExpirySweeper(dynamo, config.tableName, systemClock, counted.expired);
const result = await sweeper.sweep();
console.log(JSON.stringify(result));
await store.close();
