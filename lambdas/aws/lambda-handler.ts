import type { Config } from '../config.js';
import { type LambdaHandler, toLambdaHandler } from '../http/lambda.js';
import { createRouter } from '../http/router.js';
import { type DependenciesOf, type Endpoint, routesFor } from '../wiring.js';

/**
 * One endpoint's Lambda handler, built at module scope (once per container) from exactly the
 * dependencies that endpoint needs, so its bundle carries nothing else. No network call happens
 * until the first request.
 */
export function lambdaHandler<E extends Endpoint>(
  endpoint: E,
  deps: DependenciesOf<E> & { config: Config },
): LambdaHandler {
  return toLambdaHandler(createRouter(routesFor([endpoint], deps)), deps.config.issuer);
}
