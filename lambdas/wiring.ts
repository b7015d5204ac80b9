import type { Config } from './config.js';
import type { ClientRepository, Clock } from './core/ports.js';
import { RegistrationService } from './core/registration.js';
import type { Route } from './http/router.js';
import { discoveryRoutes } from './http/routes/discovery.js';
import { clientConfigurationRoutes, registrationRoutes } from './http/routes/registration.js';

/** What the core needs from the outside world: injected, so AWS and local share every route. */
export interface Dependencies {
  readonly config: Config;
  readonly repository: ClientRepository;
  readonly clock: Clock;
}

/** One entry per deployed Lambda function; the local server serves them all. */
export const ENDPOINTS = ['discovery', 'register', 'client-configuration'] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

export function routesFor(endpoints: readonly Endpoint[], deps: Dependencies): Route[] {
  const { config } = deps;
  const registration = new RegistrationService(deps.repository, deps.clock, config);
  const byEndpoint: Record<Endpoint, () => Route[]> = {
    discovery: () => discoveryRoutes(config),
    register: () => registrationRoutes(registration),
    'client-configuration': () => clientConfigurationRoutes(registration),
  };
  return endpoints.flatMap((endpoint) => byEndpoint[endpoint]());
}
