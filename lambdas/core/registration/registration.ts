import type { ClientLifecycle } from '../clients/client-lifecycle.js';
import {
  type ClientMetadata,
  type MetadataPolicy,
  softwareIdKey,
  usesClientSecret,
} from '../clients/client-metadata.js';
import { validateClientMetadata } from '../clients/metadata-validation.js';
import type {
  ClientRecord,
  ClientRepository,
  RegistrationConstraints,
  RequestOrigin,
} from '../clients/ports.js';
import type { Clock } from '../clock.js';
import {
  clientLimitReached,
  invalidClientMetadata,
  invalidSoftwareStatement,
  unapprovedSoftwareStatement,
} from '../errors.js';
import { metadataFingerprint } from '../operator/client-health.js';
import { clientConfigurationUrl } from '../paths.js';
import { hashSecret, newClientId, newSecret } from '../secrets.js';
import type { Writable } from '../writable.js';
import { assertRedirectsAllowed, type RedirectPolicy } from './abuse-control.js';
import type { InitialAccessTokens } from './initial-access-tokens.js';
import type {
  BlockedSoftwareIds,
  InitialAccessTokenRecord,
  SoftwareClientCounts,
  SoftwareStatements,
} from './ports.js';
import {
  applyTier,
  classify,
  DEFAULT_REGISTRATION_ACCESS,
  DEFAULT_TIERS,
  type Presented,
  type RegistrationPolicySettings,
  type RegistrationWay,
  requireAccepted,
} from './registration-policy.js';
import { withStatementClaims } from './software-statements.js';

/** The metadata rules, and the registration policy (defaults: registration-policy.ts). */
export type RegistrationSettings = MetadataPolicy &
  Partial<RegistrationPolicySettings> & {
    /** Abuse control: the redirect URIs anonymous clients may register; absent = unrestricted. */
    readonly redirectPolicy?: RedirectPolicy;
    /** Abuse control: the active clients one software_id may have; absent = no cap. */
    readonly softwareIdMaxActiveClients?: number;
  };

/**
 * What a registration may present and what admits it: the statement verifier (absent =
 * every statement is refused as unapproved), the blocked software_ids (absent = none blocked),
 * the initial access tokens (absent = a bearer token cannot be checked), and the active clients
 * per software_id (needed when a cap is set).
 */
export interface SoftwareAdmission {
  readonly statements?: SoftwareStatements;
  readonly blocked?: BlockedSoftwareIds;
  readonly initialAccessTokens?: InitialAccessTokens;
  readonly softwareCounts?: SoftwareClientCounts;
}

/** The body to validate, the statement to echo (RFC 7591 §3.2.1) and the members it set. */
interface AdmittedSoftware {
  readonly body: Record<string, unknown>;
  readonly statement?: string;
  readonly asserted?: readonly string[];
  /** The `iss` of the verified statement: who vouches for the software. */
  readonly statementIssuer?: string;
}

/** RFC 7591 §3.2.1 / RFC 7592 §3 client information response. */
export type ClientInformation = ClientMetadata & {
  /** Echoed unmodified at registration (RFC 7591 §3.2.1); not stored. */
  software_statement?: string;
  client_id: string;
  client_id_issued_at: number;
  client_secret?: string;
  client_secret_expires_at?: number;
  expires_at?: number;
  registration_access_token: string;
  registration_client_uri: string;
};

/**
 * What registration and its updates both hold a client's metadata to: the way's tier, an
 * initial access token's constraints, the lifetime caps, and the redirect policy of anonymous
 * clients.
 */
export class RegistrationRules {
  /** The settings' registration policy, defaults filled in. */
  readonly policy: RegistrationPolicySettings;

  constructor(
    private readonly lifecycle: ClientLifecycle,
    readonly settings: RegistrationSettings,
    /** The kill switch: software_ids that may neither register nor be renamed to. */
    private readonly blocked?: BlockedSoftwareIds,
  ) {
    this.policy = {
      registrationAccess: settings.registrationAccess ?? DEFAULT_REGISTRATION_ACCESS,
      registrationTiers: settings.registrationTiers ?? DEFAULT_TIERS,
    };
  }

  /**
   * Applies the way's tier and the token's constraints to validated metadata: the software_id
   * imposed, grant types, scopes and public clients within bounds, and the granted expiry
   * capped (from `issuedAt`). Throws invalid_client_metadata.
   */
  bound(
    way: RegistrationWay,
    validated: ReturnType<typeof validateClientMetadata>,
    constraints: RegistrationConstraints | undefined,
    issuedAt: number,
    source: string,
  ) {
    let { metadata } = validated;
    const imposed = constraints?.softwareId;
    if (imposed !== undefined) {
      if (metadata.software_id !== undefined && metadata.software_id !== imposed) {
        throw invalidClientMetadata(`software_id: differs from ${source}`);
      }
      metadata = { ...metadata, software_id: imposed };
    }
    const { maxLifetimeSeconds } = applyTier(metadata, this.policy.registrationTiers[way], way, {
      ...(constraints?.scope !== undefined && {
        scopes: new Set(constraints.scope.split(' ')),
        scopeSource: source,
      }),
    });
    const caps = [
      this.lifecycle.grantedExpiry(validated.requestedExpiresAt, issuedAt),
      maxLifetimeSeconds === undefined ? undefined : issuedAt + maxLifetimeSeconds,
      constraints?.expiresAtCap,
    ].filter((c): c is number => c !== undefined);
    const expiresAt = caps.length > 0 ? Math.min(...caps) : undefined;
    return { metadata, expiresAt };
  }

  /** Abuse control: an anonymous client's redirect URIs must be within the redirect policy. */
  checkAnonymousRedirects(metadata: ClientMetadata): void {
    if (this.settings.redirectPolicy) {
      assertRedirectsAllowed(this.settings.redirectPolicy, metadata.redirect_uris);
    }
  }

  /** The record as stored: its TTL instant, and its software_id's normalised form. */
  withActiveUntil(record: Omit<ClientRecord, 'activeUntil' | 'softwareKey'>): ClientRecord {
    const activeUntil = this.lifecycle.activeUntil(record);
    const softwareId = record.metadata.software_id;
    const stored: Writable<ClientRecord> = { ...record };
    if (activeUntil !== undefined) stored.activeUntil = activeUntil;
    if (softwareId !== undefined) stored.softwareKey = softwareIdKey(softwareId);
    return stored;
  }

  /**
   * The kill switch, on the software_id the client ends up with (the statement's, the body's,
   * or the one its initial access token imposes), compared in normalised form: checked before
   * any place under a cap or any use of a token is taken, and on every RFC 7592 update.
   */
  async refuseBlocked(metadata: ClientMetadata, way: RegistrationWay): Promise<void> {
    const softwareId = metadata.software_id;
    if (softwareId === undefined || !(await this.blocked?.isBlocked(softwareIdKey(softwareId)))) {
      return;
    }
    throw way === 'software_statement'
      ? unapprovedSoftwareStatement('software_statement: its software_id is blocked')
      : invalidClientMetadata('software_id: this software is blocked on this server');
  }
}

/** RFC 7591 §3: dynamic client registration. */
export class RegistrationService {
  private readonly repository: ClientRepository;
  private readonly clock: Clock;
  private readonly rules: RegistrationRules;

  constructor(
    private readonly lifecycle: ClientLifecycle,
    private readonly settings: RegistrationSettings,
    private readonly software: SoftwareAdmission = {},
  ) {
    this.repository = lifecycle.repository;
    this.clock = lifecycle.clock;
    this.rules = new RegistrationRules(lifecycle, settings, software.blocked);
  }

  /**
   * RFC 7591 §3: registers a client and returns its credentials, shown this once. The request
   * is classified by what it presents (`bearer`: an initial access token); the way must be
   * accepted, and its tier (and the token's constraints) bound the metadata.
   */
  async register(
    body: Record<string, unknown>,
    issuer: string,
    origin: RequestOrigin = {},
    presented: Pick<Presented, 'bearer' | 'clientCertificate'> = {},
  ): Promise<ClientInformation> {
    const now = this.clock.now();
    const { bearer } = presented;
    const presentsStatement =
      body.software_statement !== undefined && body.software_statement !== null;
    const way = classify({
      bearer,
      clientCertificate: presented.clientCertificate,
      softwareStatement: presentsStatement,
    });
    requireAccepted(way, this.rules.policy);
    // The token is checked (a read) before the body, so a bad token is a 401 whatever the body.
    let token: InitialAccessTokenRecord | undefined;
    if (way === 'initial_access_token' && bearer !== undefined) {
      if (this.software.initialAccessTokens === undefined) {
        throw new Error('initial access tokens are accepted but no store is wired');
      }
      token = await this.software.initialAccessTokens.check(bearer, now);
    }
    // Without a verifier a statement stays in the body, and validateClientMetadata refuses it
    // as unapproved. (Here and below, awaited only when there is something to wait for: each
    // await is a promise and a turn of the microtask queue, on every registration.)
    const { statements } = this.software;
    const admitted: AdmittedSoftware =
      presentsStatement && statements !== undefined
        ? await this.admitSoftware(body, statements, issuer, now)
        : { body };
    const validated = validateClientMetadata(admitted.body, this.settings, now);
    const constraints = token && tokenConstraints(token, now);
    const { metadata, expiresAt } = this.rules.bound(
      way,
      validated,
      constraints,
      now,
      'the initial access token',
    );
    if (way === 'open') this.rules.checkAnonymousRedirects(metadata);
    if (metadata.software_id !== undefined) await this.rules.refuseBlocked(metadata, way);
    // The places this client takes under the caps, given back if it does not come to be: its
    // software_id's first, so that a refusal there leaves the token unused; then the token's,
    // counted with its use (the one extra write of a token registration).
    let countedSoftwareId: string | undefined;
    let tokenUsed = false;
    const giveBack = async () => {
      await Promise.allSettled([
        tokenUsed && token && this.software.initialAccessTokens?.release(token.id),
        countedSoftwareId && this.software.softwareCounts?.release(countedSoftwareId),
      ]);
    };
    try {
      if (metadata.software_id !== undefined) {
        countedSoftwareId = await this.claimSoftwarePlace(metadata.software_id, now);
      }
      if (token) {
        await this.software.initialAccessTokens?.use(token, now);
        tokenUsed = true;
      }
    } catch (error) {
      await giveBack();
      throw error;
    }
    const clientSecret = usesClientSecret(metadata) ? newSecret() : undefined;
    const registrationAccessToken = newSecret();
    // Members assigned in order, only when present: a conditional spread allocates an object
    // per member, on every registration.
    const built: Partial<Writable<ClientRecord>> = {
      clientId: newClientId(),
      metadata,
      clientIdIssuedAt: now,
    };
    if (clientSecret !== undefined) built.secretHash = hashSecret(clientSecret);
    built.clientSecretExpiresAt = clientSecret !== undefined ? this.lifecycle.secretExpiry(now) : 0;
    built.registrationTokenHash = hashSecret(registrationAccessToken);
    if (expiresAt !== undefined) built.expiresAt = expiresAt;
    built.version = 1;
    built.registrationMethod = way;
    built.metadataFingerprint = metadataFingerprint(metadata);
    if (token) built.initialAccessTokenId = token.id;
    if (countedSoftwareId !== undefined) built.countedSoftwareId = countedSoftwareId;
    if (constraints && Object.keys(constraints).length > 0) {
      built.registrationConstraints = constraints;
    }
    if (admitted.statementIssuer !== undefined) built.statementIssuer = admitted.statementIssuer;
    if (admitted.asserted) {
      built.statementMembers = admitted.asserted.filter((name) => Object.hasOwn(metadata, name));
    }
    built.lastChange = { at: now, ...origin };
    const record = this.rules.withActiveUntil(built as ClientRecord);
    try {
      await this.repository.create(record);
    } catch (error) {
      await giveBack();
      throw error;
    }
    const information = clientInformation(record, issuer, registrationAccessToken, clientSecret);
    if (admitted.statement !== undefined) {
      (information as Writable<ClientInformation>).software_statement = admitted.statement;
    }
    return information;
  }

  /**
   * The body's software statement is verified and its claims take precedence over the body's
   * (RFC 7591 §3.1.1).
   */
  private async admitSoftware(
    body: Record<string, unknown>,
    statements: SoftwareStatements,
    issuer: string,
    now: number,
  ): Promise<AdmittedSoftware> {
    const statement = body.software_statement;
    if (typeof statement !== 'string') {
      throw invalidSoftwareStatement('software_statement: must be a JWT');
    }
    const verified = await statements.verify(statement, now);
    // A statement addressed to particular servers must name this one; one with no aud is
    // for any server (the usual case: software vendors sign once for every deployment).
    const { aud } = verified.claims;
    if (aud !== undefined && !(Array.isArray(aud) ? aud : [aud]).includes(issuer)) {
      throw invalidSoftwareStatement('software_statement: its aud does not name this server');
    }
    return {
      ...withStatementClaims(body, verified),
      statement,
      statementIssuer: verified.issuer,
    };
  }

  /**
   * The per-software_id cap, when set and the client names its software: one conditional add.
   * Returns the software_id the client is counted under. The count outlives the longest a
   * client may live from now (so a later claim never shortens it); without a lifetime cap, it
   * stays.
   */
  private async claimSoftwarePlace(registered: string | undefined, now: number) {
    const cap = this.settings.softwareIdMaxActiveClients;
    if (cap === undefined || registered === undefined) return undefined;
    const softwareId = softwareIdKey(registered);
    const counts = this.software.softwareCounts;
    if (counts === undefined) throw new Error('a software_id cap is set but no counts are wired');
    if (!(await counts.claim(softwareId, cap, this.lifecycle.grantedExpiry(undefined, now)))) {
      throw clientLimitReached(
        `software_id: this software has the most active clients this server allows (${cap}); delete one first`,
      );
    }
    return softwareId;
  }
}

/** What a token imposes on its clients for life (absent members impose nothing). */
function tokenConstraints(token: InitialAccessTokenRecord, now: number): RegistrationConstraints {
  return {
    ...(token.scope !== undefined && { scope: token.scope }),
    ...(token.softwareId !== undefined && { softwareId: token.softwareId }),
    ...(token.clientLifetimeSeconds !== undefined && {
      expiresAtCap: now + token.clientLifetimeSeconds,
    }),
  };
}

/** The client information response (RFC 7591 §3.2.1, RFC 7592 §3): credentials only as given. */
export function clientInformation(
  record: ClientRecord,
  issuer: string,
  registrationAccessToken: string,
  clientSecret?: string,
): ClientInformation {
  const information: Writable<Partial<ClientInformation>> = {
    client_id: record.clientId,
    client_id_issued_at: record.clientIdIssuedAt,
    ...record.metadata,
  };
  if (clientSecret !== undefined) information.client_secret = clientSecret;
  if (record.secretHash !== undefined) {
    information.client_secret_expires_at = record.clientSecretExpiresAt;
  }
  if (record.expiresAt !== undefined) information.expires_at = record.expiresAt;
  information.registration_access_token = registrationAccessToken;
  information.registration_client_uri = clientConfigurationUrl(issuer, record.clientId);
  return information as ClientInformation;
}
