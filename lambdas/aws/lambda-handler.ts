import type { Context } from 'aws-lambda';
import type { Config } from '../config.js';
import { descriptorOf, type Endpoint } from '../functions.js';
import { type LambdaHandler, serveApiGatewayEvents } from '../http/lambda.js';
import type { Route } from '../http/router.js';
import { createRouter } from '../http/router.js';
import { logger } from '../log.js';
import type { DependenciesOf, EndpointRoutes } from '../wiring.js';
import { MetricUnit, metricsFor } from './metrics.js';

/**
 * One endpoint's Lambda handler, built at module scope (once per container) by that endpoint's
 * own routes builder (imported by name, never through the table of all of them) from exactly
 * the dependencies it needs, so its bundle carries nothing else. No network call happens
 * until the first request. Each invocation logs one line (request id, status, latency, the
 * client it concerned, who acted on admin routes, the error code) and emits EMF metrics:
 * latency, the endpoint's success count, rejections by error code.
 */
export function lambdaHandler<E extends Endpoint>(
  endpoint: E,
  routes: EndpointRoutes[E],
  deps: DependenciesOf<E> & { config: Config },
): (event: Parameters<LambdaHandler>[0], context?: Context) => ReturnType<LambdaHandler> {
  const handle = serveApiGatewayEvents(
    createRouter((routes as (d: typeof deps) => Route[])(deps)),
    deps.config.issuer,
  );
  const metrics = metricsFor(endpoint);
  return async (event, context) => {
    if (context) logger.addContext(context);
    logger.appendKeys({ requestId: event.requestContext.requestId });
    const started = performance.now();
    try {
      const { result, clientId, actor, error: code } = await handle(event);
      const status = result.statusCode ?? 200;
      const latencyMs = performance.now() - started;
      metrics.addMetric('Latency', MetricUnit.Milliseconds, latencyMs);
      const success = descriptorOf(endpoint).successMetric;
      if (success && status < 300) metrics.addMetric(success, MetricUnit.Count, 1);
      const error = code ?? (status >= 400 ? 'unknown' : undefined);
      if (error) {
        const rejection = metrics.singleMetric();
        rejection.addDimension('error', error);
        rejection.addMetric('Rejections', MetricUnit.Count, 1);
      }
      // One line per request: never a body, a secret or a token.
      logger.info('request', {
        method: event.requestContext.http.method,
        path: event.rawPath,
        status,
        latencyMs: Math.round(latencyMs),
        ...(clientId && { clientId }),
        ...(actor && { actor }),
        ...(error && { error }),
      });
      return result;
    } finally {
      metrics.publishStoredMetrics();
      logger.resetKeys();
    }
  };
}
