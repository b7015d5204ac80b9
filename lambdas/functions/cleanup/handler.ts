import type { Context } from 'aws-lambda';
import { DynamoDbExpirySweeper } from '../../adapters/dynamodb/dynamodb-expiry-sweeper.js';
import { documentClient } from '../../aws/dynamodb.js';
import { MetricUnit, metricsFor } from '../../aws/metrics.js';
import { loadConfig } from '../../config.js';
import { systemClock } from '../../core/clock.js';
import { logger } from '../../log.js';

const metrics = metricsFor('cleanup');

/** Stop this long before the function's timeout; the next run resumes from the cursor. */
const SAFETY_MARGIN_MS = 10_000;

const config = loadConfig(process.env);
const sweeper = new DynamoDbExpirySweeper(documentClient(), config.tableName, systemClock);

/** The EventBridge-scheduled cleanup: deletes expired items that TTL has not removed yet. */
export const handler = async (_event: unknown, context: Context) => {
  logger.addContext(context);
  const result = await sweeper.sweep(
    Date.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS,
  );
  const total = Object.values(result.deleted).reduce((a, b) => a + b, 0);
  metrics.addMetric('ExpiredItemsDeleted', MetricUnit.Count, total);
  for (const [kind, count] of Object.entries(result.deleted)) {
    const single = metrics.singleMetric();
    single.addDimension('kind', kind);
    single.addMetric('ExpiredItemsDeleted', MetricUnit.Count, count);
  }
  metrics.publishStoredMetrics();
  logger.info('cleanup finished', { ...result, total });
  return { ...result, total };
};
