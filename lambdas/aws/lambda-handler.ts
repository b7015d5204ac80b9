import type { Context } from 'aws-lambda';
import type { Config } from '../config.js';
import { type LambdaHandler, toLambdaHandler } from '../http/lambda.js';
import { createRouter } from '../http/router.js';
import { logger } from '../log.js';
import { type DependenciesOf, type Endpoint, routesFor } from '../wiring.js';
import { MetricUnit, metrics } from './metrics.js';

/** The business event each endpoint counts when it succeeds. */
const SUCCESS_METRIC: Partial<Record<Endpoint, string>> = {
  register: 'ClientsRegistered',
  token: 'TokensIssued',
  revoke: 'TokensRevoked',
};

/**
 * One endpoint's Lambda handler, built at module scope (once per container) from exactly the
 * dependencies that endpoint needs, so its bundle carries nothing else. No network call happens
 * until the first request. Each invocation logs with the request id and emits EMF metrics:
 * latency, the endpoint's success count, rejections by error code.
 */
export function lambdaHandler<E extends Endpoint>(
  endpoint: E,
  deps: DependenciesOf<E> & { config: Config },
): (event: Parameters<LambdaHandler>[0], context?: Context) => ReturnType<LambdaHandler> {
  const handle = toLambdaHandler(createRouter(routesFor([endpoint], deps)), deps.config.issuer);
  metrics.setDefaultDimensions({ endpoint });
  return async (event, context) => {
    if (context) logger.addContext(context);
    logger.appendKeys({ requestId: event.requestContext.requestId });
    const started = performance.now();
    try {
      const result = await handle(event);
      const status = result.statusCode ?? 200;
      metrics.addMetric('Latency', MetricUnit.Milliseconds, performance.now() - started);
      const success = SUCCESS_METRIC[endpoint];
      if (success && status < 300) metrics.addMetric(success, MetricUnit.Count, 1);
      if (status >= 400) {
        const error = errorCode(result.body);
        const rejection = metrics.singleMetric();
        rejection.addDimension('error', error);
        rejection.addMetric('Rejections', MetricUnit.Count, 1);
        logger.info('rejected', { status, error, path: event.rawPath });
      }
      return result;
    } finally {
      metrics.publishStoredMetrics();
      logger.resetKeys();
    }
  };
}

function errorCode(body: string | undefined): string {
  try {
    const code = (JSON.parse(body ?? '') as { error?: unknown }).error;
    return typeof code === 'string' ? code : 'unknown';
  } catch {
    return 'unknown';
  }
}
