import {
  ClientLifecycle,
  type LifecycleSettings,
} from '../../lambdas/core/clients/client-lifecycle.js';
import type { ClientRecord, ClientRepository } from '../../lambdas/core/clients/ports.js';
import type { Clock } from '../../lambdas/core/clock.js';
import { OAuthError } from '../../lambdas/core/errors.js';
import { ClientConfigurationService } from '../../lambdas/core/registration/client-configuration.js';
import { RegistrationService } from '../../lambdas/core/registration/registration.js';

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
  clientSecretLifetimeSeconds: 0,
};

/** A registration service over the repository, with the given lifecycle and secret rules. */
export function registrationService(
  repository: ClientRepository,
  clock: Clock,
  settings: Partial<LifecycleSettings> = {},
) {
  return registrationServices(repository, clock, settings)[0];
}

/** Registration (RFC 7591) and client configuration (RFC 7592) over one repository and lifecycle. */
export function registrationServices(
  repository: ClientRepository,
  clock: Clock,
  settings: Partial<LifecycleSettings> = {},
) {
  const lifecycle = new ClientLifecycle(repository, clock, { ...NO_EXPIRY, ...settings });
  return [
    new RegistrationService(lifecycle, {}),
    new ClientConfigurationService(lifecycle, {}),
  ] as const;
}

/** Reads from `repository`; records each write it is asked for in `writes`, and makes none. */
export const recordingRepository = (repository: ClientRepository, writes: string[]) => ({
  get: (id: string) => repository.get(id),
  create: async () => void writes.push('create'),
  replace: async () => void writes.push('replace'),
  delete: async () => void writes.push('delete'),
  touch: async () => void writes.push('touch'),
});

/** The OAuthError a promise rejects with (fails the test if it resolves or throws another). */
export async function oauthFailure(promise: Promise<unknown>): Promise<OAuthError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OAuthError) return error;
    throw error;
  }
  throw new Error('expected an OAuthError');
}

/** A stored client as the audit tests meet it. */
export const auditedClient = (overrides: Partial<ClientRecord> = {}): ClientRecord => ({
  clientId: 'c1',
  metadata: {
    grant_types: ['client_credentials'],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
    application_type: 'web',
    client_name: 'agent',
    software_id: 'sw-1',
  },
  clientIdIssuedAt: 1_800_000_000,
  secretHash: 'hash-1',
  clientSecretExpiresAt: 0,
  registrationTokenHash: 'rat-hash',
  version: 1,
  registrationMethod: 'open',
  lastChange: { at: 1_800_000_000, sourceIp: '192.0.2.1' },
  ...overrides,
});
