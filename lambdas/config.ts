import type { RedirectPolicy } from './core/registration/abuse-control.js';
import {
  DEFAULT_REGISTRATION_ACCESS,
  DEFAULT_TIERS,
  type RegistrationWay,
  type TrustTier,
} from './core/registration/registration-policy.js';
import { logger } from './log.js';
import {
  mutualTls,
  parseSettings,
  SERVER_SETTINGS,
  SETTINGS,
  type ServerSettings,
  type Setting,
  type TierSettings,
  unknownVariables,
} from './settings.js';

/** Settings the server combines into one value of its own (below), rather than reads as they are. */
type Combined =
  | 'upstreamIssuer'
  | 'upstreamClientId'
  | 'upstreamClientSecret'
  | 'upstreamClientSecretArn'
  | 'upstreamScopes'
  | 'devLogin'
  | 'devUsers'
  | 'tlsCert'
  | 'tlsKey'
  | 'tlsClientCa'
  | 'tlsClientAuth'
  | 'clientIdMetadataDocuments'
  | 'registrationAccess'
  | 'registrationTiers'
  | 'redirectHosts'
  | 'privateUseSchemes';

/**
 * The server's configuration: each setting of lambdas/settings.ts by its name, as parsed, but
 * for the few combined into one value here.
 */
export interface Config extends Readonly<Omit<ServerSettings, Combined>> {
  /** Where users sign in, if anywhere; none of them = no authorization endpoint. */
  readonly upstream?: UpstreamSettings;
  /** The development login (local only): the user names it accepts. */
  readonly devLogin?: { readonly users: readonly string[] };
  /** The accepted ways to register, and each way's trust tier. */
  readonly registrationAccess: ReadonlySet<RegistrationWay>;
  /** Client ID Metadata Documents: anonymous clients, by default exactly where `open` is. */
  readonly clientIdMetadataDocuments: boolean;
  readonly registrationTiers: Readonly<Record<RegistrationWay, TrustTier>>;
  /** Local https: PEM file paths (read at start). */
  readonly tls?: { readonly cert: string; readonly key: string; readonly clientCa?: string };
  /** Whether verified client certificates reach the server (mutual TLS, RFC 8705). */
  readonly mtls: boolean;
  /** Abuse control: the redirect URIs anonymous clients may register. */
  readonly redirectPolicy: RedirectPolicy;
}

function tiersFrom(
  given: Partial<Record<RegistrationWay, TierSettings>> | undefined,
): Record<RegistrationWay, TrustTier> {
  const tiers = { ...DEFAULT_TIERS };
  for (const [name, t] of Object.entries(given ?? {}) as [RegistrationWay, TierSettings][]) {
    tiers[name] = {
      publicClients: t.public_clients ?? DEFAULT_TIERS[name].publicClients,
      ...(t.max_client_lifetime_seconds !== undefined && {
        maxClientLifetimeSeconds: t.max_client_lifetime_seconds,
      }),
      ...(t.grant_types !== undefined && { grantTypes: new Set(t.grant_types) }),
      ...(t.scopes !== undefined && { scopes: new Set(t.scopes) }),
    };
  }
  return tiers;
}

/** The ways to register when none are named: plus `mtls` when client certificates can arrive. */
export const defaultRegistrationAccess = (mtls: boolean): ReadonlySet<RegistrationWay> =>
  mtls ? new Set([...DEFAULT_REGISTRATION_ACCESS, 'mtls']) : DEFAULT_REGISTRATION_ACCESS;

export interface UpstreamSettings {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly clientSecretArn?: string;
  readonly scopes: readonly string[];
}

/** Whether this server has an authorization endpoint: someone can sign users in. */
export const isInteractive = (config: Pick<Config, 'upstream' | 'devLogin'>): boolean =>
  config.upstream !== undefined || config.devLogin !== undefined;

/**
 * The development login: on by default only on one machine with no upstream; never in Lambda
 * (its code is not even in the bundles), where asking for it is a configuration error.
 */
function devLoginEnabled(
  s: { devLogin?: boolean | undefined; upstreamIssuer?: string | undefined },
  env: Record<string, string | undefined>,
): boolean {
  const inLambda = env.AWS_LAMBDA_FUNCTION_NAME !== undefined;
  if (s.devLogin && inLambda) {
    throw new Error(
      'invalid configuration: DCR_DEV_LOGIN: the development login never runs in Lambda',
    );
  }
  return s.devLogin ?? (!inLambda && s.upstreamIssuer === undefined);
}

/**
 * Parses the environment once; bad configuration fails at start-up with every problem named. A
 * `DCR_*` variable that names no setting is only warned about (once per Lambda cold start; the
 * local server prints it), so that a typo never passes silently.
 */
export function loadConfig(
  env: Record<string, string | undefined>,
  warn: (warning: string) => void = (warning) => logger.warn('configuration', { warning }),
): Config {
  for (const warning of unknownVariables(env)) warn(warning);
  // An empty variable counts as unset.
  const texts = Object.fromEntries(
    SERVER_SETTINGS.flatMap((name) => {
      const value = env[(SETTINGS[name] as Setting).env as string];
      return value === undefined || value === '' ? [] : [[name, value]];
    }),
  );
  const { values, problems } = parseSettings(texts, {
    names: SERVER_SETTINGS,
    namer: (name) => (SETTINGS[name] as Setting).env as string,
    defaultOf: (name) => (SETTINGS[name] as Setting).default,
    checkedBy: 'server',
  });
  if (problems.length > 0) throw new Error(`invalid configuration: ${problems.join('; ')}`);
  const {
    upstreamIssuer,
    upstreamClientId,
    upstreamClientSecret,
    upstreamClientSecretArn,
    upstreamScopes,
    devLogin,
    devUsers,
    tlsCert,
    tlsKey,
    tlsClientCa,
    tlsClientAuth: _tlsClientAuth,
    clientIdMetadataDocuments,
    registrationAccess,
    registrationTiers,
    redirectHosts,
    privateUseSchemes,
    ...simple
  } = values as ServerSettings;
  const mtls = mutualTls(values);
  const access: ReadonlySet<RegistrationWay> =
    registrationAccess !== undefined
      ? new Set(registrationAccess)
      : defaultRegistrationAccess(mtls);
  return {
    ...(simple as Omit<ServerSettings, Combined>),
    ...(upstreamIssuer !== undefined &&
      upstreamClientId !== undefined && {
        upstream: {
          issuer: upstreamIssuer,
          clientId: upstreamClientId,
          ...(upstreamClientSecret !== undefined && { clientSecret: upstreamClientSecret }),
          ...(upstreamClientSecretArn !== undefined && {
            clientSecretArn: upstreamClientSecretArn,
          }),
          scopes: upstreamScopes,
        },
      }),
    ...(devLoginEnabled({ devLogin, upstreamIssuer }, env) && { devLogin: { users: devUsers } }),
    ...(tlsCert !== undefined &&
      tlsKey !== undefined && {
        tls: {
          cert: tlsCert,
          key: tlsKey,
          ...(tlsClientCa !== undefined && { clientCa: tlsClientCa }),
        },
      }),
    mtls,
    registrationAccess: access,
    clientIdMetadataDocuments: clientIdMetadataDocuments ?? access.has('open'),
    registrationTiers: tiersFrom(registrationTiers),
    redirectPolicy: {
      hosts: redirectHosts,
      schemes: privateUseSchemes === 'any' ? 'any' : new Set(privateUseSchemes),
    },
  };
}
