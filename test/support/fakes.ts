import { ClientLifecycle, type LifecycleSettings } from '../../lambdas/core/client-lifecycle.js';
import type { ClientRepository, Clock } from '../../lambdas/core/ports.js';
import { RegistrationService } from '../../lambdas/core/registration.js';

/** A clock the test moves by hand. */
export class FakeClock implements Clock {
  constructor(public current = 1_800_000_000) {}
  now(): number {
    return this.current;
  }
  advance(seconds: number): void {
    this.current += seconds;
  }
}

/** Lifecycle rules for tests: none unless a test sets them. */
export const NO_EXPIRY: LifecycleSettings = {
  clientMaxLifetimeSeconds: 0,
  clientIdleLifetimeSeconds: 0,
  clientUnusedLifetimeSeconds: 0,
  lastUsedWriteIntervalSeconds: 300,
};

/** A registration service over the repository, with the given lifecycle and secret rules. */
export function registrationService(
  repository: ClientRepository,
  clock: Clock,
  settings: Partial<LifecycleSettings> & { clientSecretLifetimeSeconds?: number } = {},
) {
  const lifecycle = new ClientLifecycle(repository, clock, { ...NO_EXPIRY, ...settings });
  return new RegistrationService(lifecycle, {
    clientSecretLifetimeSeconds: settings.clientSecretLifetimeSeconds ?? 0,
  });
}
