import { isDeepStrictEqual } from 'node:util';
import { assertRedirectsAllowed, type RedirectPolicy } from './abuse-control.js';
import type { ClientLifecycle } from './client-lifecycle.js';
import {
  type ClientMetadata,
  type MetadataPolicy,
  softwareIdKey,
  usesClientSecret,
  validateClientMetadata,
} from './client-metadata.js';
import { clientConfigurationUrl } from './endpoints.js';
import {
  clientLimitReached,
  invalidClientMetadata,
  invalidRequest,
  invalidSoftwareStatement,
  invalidToken,
  OAuthError,
  unapprovedSoftwareStatement,
} from './errors.js';
import type { InitialAccessTokens } from './initial-access-tokens.js';
import type {
  BlockedSoftwareIds,
  ClientRecord,
  ClientRepository,
  Clock,
  InitialAccessTokenRecord,
  RegistrationConstraints,
  RequestOrigin,
  SoftwareClientCounts,
  SoftwareStatements,
} from './ports.js';
import {
  applyTier,
  classify,
  DEFAULT_REGISTRATION_ACCESS,
  DEFAULT_TIERS,
  isRegistrationWay,
  type Presented,
  type RegistrationPolicySettings,
  type RegistrationWay,
  requireAccepted,
} from './registration-policy.js';
import { hashSecret, newClientId, newSecret, secretMatches } from './secrets.js';
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
}

/** A registration as RFC 7592 returns it, and its version (the ETag). */
export interface Versioned {
  readonly registration: ClientInformation;
  readonly version: number;
}

/** RFC 9110 §13.1.1: the If-Match of an update names no version the registration still has. */
const changedSinceRead = () =>
  new OAuthError(
    412,
    'invalid_request',
    'the registration changed since the version named in If-Match; read it again and retry',
  );

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

/** Server-managed members a client must not send in an RFC 7592 update (§2.2). */
const SERVER_MANAGED = [
  'registration_access_token',
  'registration_client_uri',
  'client_secret_expires_at',
  'client_id_issued_at',
] as const;

export class RegistrationService {
  private readonly repository: ClientRepository;
  private readonly clock: Clock;
  /** The settings' registration policy, defaults filled in. */
  private readonly policy: RegistrationPolicySettings;

  constructor(
    private readonly lifecycle: ClientLifecycle,
    private readonly settings: RegistrationSettings,
    private readonly software: SoftwareAdmission = {},
  ) {
    this.repository = lifecycle.repository;
    this.clock = lifecycle.clock;
    this.policy = {
      registrationAccess: settings.registrationAccess ?? DEFAULT_REGISTRATION_ACCESS,
      registrationTiers: settings.registrationTiers ?? DEFAULT_TIERS,
    };
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
    const way = classify({
      ...presented,
      softwareStatement: body.software_statement !== undefined && body.software_statement !== null,
    });
    requireAccepted(way, this.policy);
    // The token is checked (a read) before the body, so a bad token is a 401 whatever the body.
    let token: InitialAccessTokenRecord | undefined;
    if (way === 'initial_access_token' && bearer !== undefined) {
      if (this.software.initialAccessTokens === undefined) {
        throw new Error('initial access tokens are accepted but no store is wired');
      }
      token = await this.software.initialAccessTokens.check(bearer, now);
    }
    const admitted = await this.admitSoftware(body, issuer, now);
    const validated = validateClientMetadata(admitted.body, this.settings, now);
    const constraints = token && tokenConstraints(token, now);
    const { metadata, expiresAt } = this.bound(
      way,
      validated,
      constraints,
      now,
      'the initial access token',
    );
    if (way === 'open') this.checkAnonymousRedirects(metadata);
    await this.refuseBlocked(metadata, way);
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
      countedSoftwareId = await this.claimSoftwarePlace(metadata.software_id, now);
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
    const record = this.withActiveUntil({
      clientId: newClientId(),
      metadata,
      clientIdIssuedAt: now,
      ...(clientSecret !== undefined && { secretHash: hashSecret(clientSecret) }),
      clientSecretExpiresAt: clientSecret !== undefined ? this.lifecycle.secretExpiry(now) : 0,
      registrationTokenHash: hashSecret(registrationAccessToken),
      ...(expiresAt !== undefined && { expiresAt }),
      version: 1,
      registrationMethod: way,
      ...(token && { initialAccessTokenId: token.id }),
      ...(countedSoftwareId !== undefined && { countedSoftwareId }),
      ...(constraints &&
        Object.keys(constraints).length > 0 && { registrationConstraints: constraints }),
      ...(admitted.asserted && {
        statementMembers: admitted.asserted.filter((name) => Object.hasOwn(metadata, name)),
      }),
      lastChange: { at: now, ...origin },
    });
    try {
      await this.repository.create(record);
    } catch (error) {
      await giveBack();
      throw error;
    }
    return {
      ...clientInformation(record, issuer, registrationAccessToken, clientSecret),
      ...(admitted.statement !== undefined && { software_statement: admitted.statement }),
    };
  }

  /**
   * A software statement is verified and its claims take precedence over the body's (RFC 7591
   * §3.1.1). Without a verifier the statement stays in the body, and validateClientMetadata
   * refuses it as unapproved.
   */
  private async admitSoftware(
    body: Record<string, unknown>,
    issuer: string,
    now: number,
  ): Promise<AdmittedSoftware> {
    const { statements } = this.software;
    const statement = body.software_statement;
    if (statement !== undefined && statement !== null && statements !== undefined) {
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
      return { ...withStatementClaims(body, verified), statement };
    }
    return { body };
  }

  /**
   * The kill switch, on the software_id the client ends up with (the statement's, the body's,
   * or the one its initial access token imposes), compared in normalised form: checked before
   * any place under a cap or any use of a token is taken, and on every RFC 7592 update.
   */
  private async refuseBlocked(metadata: ClientMetadata, way: RegistrationWay): Promise<void> {
    const softwareId = metadata.software_id;
    if (
      softwareId === undefined ||
      !(await this.software.blocked?.isBlocked(softwareIdKey(softwareId)))
    ) {
      return;
    }
    throw way === 'software_statement'
      ? unapprovedSoftwareStatement('software_statement: its software_id is blocked')
      : invalidClientMetadata('software_id: this software is blocked on this server');
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

  /** RFC 7592 §2.1 read, with the version an update may name (If-Match). */
  async read(clientId: string, token: string | undefined, issuer: string): Promise<Versioned> {
    const { record, presented } = await this.authorize(clientId, token);
    return { registration: clientInformation(record, issuer, presented), version: record.version };
  }

  /**
   * RFC 7592 §2.2 update: the body replaces the whole registered metadata. The body is read
   * only after the token is checked, so an anonymous caller learns nothing from its errors.
   */
  async update(
    clientId: string,
    token: string | undefined,
    readBody: () => Record<string, unknown>,
    issuer: string,
    origin: RequestOrigin = {},
    /**
     * The versions the caller's copy may have (If-Match, RFC 9110 §13.1.1); undefined = any.
     * Without it two updates made from the same read both succeed, one after the other, and
     * the first is silently lost; with it the second is refused (412) and nothing is lost.
     */
    ifMatch?: readonly number[],
  ): Promise<Versioned> {
    const { record: current, presented } = await this.authorize(clientId, token);
    if (ifMatch !== undefined && !ifMatch.includes(current.version)) throw changedSinceRead();
    const body = readBody();
    const managed = SERVER_MANAGED.find((name) => name in body);
    if (managed) throw invalidRequest(`${managed}: is managed by the server and must not be sent`);
    if (body.client_id !== clientId) {
      throw invalidRequest('client_id: must be present and equal to the client being updated');
    }
    if (body.client_secret !== undefined) {
      const matches =
        typeof body.client_secret === 'string' &&
        current.secretHash !== undefined &&
        secretMatches(body.client_secret, current.secretHash);
      if (!matches) throw invalidRequest('client_secret: does not match the issued secret');
    }

    const now = this.clock.now();
    // The way's tier and the token's constraints bind an update as they bound the registration.
    const recorded = current.registrationMethod;
    const way: RegistrationWay = isRegistrationWay(recorded) ? recorded : 'open';
    const { metadata, expiresAt } = this.bound(
      way,
      validateClientMetadata(body, this.settings, now),
      current.registrationConstraints,
      current.clientIdIssuedAt,
      'the initial access token that registered this client',
    );
    if (way === 'open') this.checkAnonymousRedirects(metadata);
    keepStatementMembers(current, metadata);
    await this.refuseBlocked(metadata, way);
    // A secret is kept while the client still authenticates with one and it is still valid,
    // issued when it starts to (or the current one has expired), and dropped when it stops.
    const needsSecret = usesClientSecret(metadata);
    const keepsSecret =
      current.secretHash !== undefined && !this.lifecycle.secretExpired(current, now);
    const clientSecret = needsSecret && !keepsSecret ? newSecret() : undefined;
    const secretHash = needsSecret
      ? clientSecret !== undefined
        ? hashSecret(clientSecret)
        : current.secretHash
      : undefined;
    // Built from the record as it is when written: a use recorded meanwhile is kept.
    const updated = (stored: ClientRecord) => {
      const { secretHash: _, expiresAt: __, activeUntil: ___, softwareKey: ____, ...kept } = stored;
      return {
        record: this.withActiveUntil({
          ...kept,
          metadata,
          ...(secretHash !== undefined && { secretHash }),
          clientSecretExpiresAt:
            clientSecret !== undefined
              ? this.lifecycle.secretExpiry(now)
              : secretHash !== undefined
                ? stored.clientSecretExpiresAt
                : 0,
          ...(expiresAt !== undefined && { expiresAt }),
          version: stored.version + 1,
          lastChange: { at: now, ...origin },
        }),
      };
    };
    let record: ClientRecord;
    try {
      ({ record } = await this.lifecycle.replace(current, updated));
    } catch (error) {
      // Lost the conditional write to a concurrent update: for an If-Match caller, the version
      // it named is no longer current.
      if (ifMatch !== undefined && error instanceof OAuthError && error.status === 409) {
        throw changedSinceRead();
      }
      throw error;
    }
    return {
      registration: clientInformation(record, issuer, presented, clientSecret),
      version: record.version,
    };
  }

  /**
   * RFC 7592 §2.3 delete: afterwards neither the client nor its registration token works. A
   * deletion marked but not finished (the function crashed or timed out between the marker and
   * the removal) is finished by the client's retry, with the first marker kept: the marker is
   * the commit point, so the client is gone either way and the retry is answered 204.
   */
  async remove(clientId: string, token: string | undefined, origin: RequestOrigin = {}) {
    const record = await this.authorized(clientId, token, { interruptedDeletion: true });
    await this.repository.delete(
      clientId,
      record.deletion ?? { by: 'client', at: this.clock.now(), ...origin },
    );
  }

  /** RFC 7592 §2: the registration access token, or a 401 that does not say what was wrong. */
  private async authorize(clientId: string, token: string | undefined) {
    const record = await this.authorized(clientId, token);
    // The token presented is the current one: responses return it (only its hash is stored).
    return { record, presented: token as string };
  }

  /** The client the registration access token is for: active, or (delete) marked deleted. */
  private async authorized(
    clientId: string,
    token: string | undefined,
    { interruptedDeletion = false } = {},
  ): Promise<ClientRecord> {
    if (token === undefined) throw invalidToken();
    const record = await this.lifecycle.find(clientId);
    const usable =
      record !== undefined &&
      (this.lifecycle.isActive(record) || (interruptedDeletion && record.deletion !== undefined));
    if (!usable || !secretMatches(token, record.registrationTokenHash)) throw invalidToken();
    return record;
  }

  /**
   * Applies the way's tier and the token's constraints to validated metadata: the software_id
   * imposed, grant types, scopes and public clients within bounds, and the granted expiry
   * capped (from `issuedAt`). Throws invalid_client_metadata.
   */
  private bound(
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
  private checkAnonymousRedirects(metadata: ClientMetadata): void {
    if (this.settings.redirectPolicy) {
      assertRedirectsAllowed(this.settings.redirectPolicy, metadata.redirect_uris);
    }
  }

  /** The record as stored: its TTL instant, and its software_id's normalised form. */
  private withActiveUntil(record: Omit<ClientRecord, 'activeUntil' | 'softwareKey'>): ClientRecord {
    const activeUntil = this.lifecycle.activeUntil(record);
    const softwareId = record.metadata.software_id;
    return {
      ...record,
      ...(activeUntil !== undefined && { activeUntil }),
      ...(softwareId !== undefined && { softwareKey: softwareIdKey(softwareId) }),
    };
  }
}

/**
 * RFC 7592 §2.2 lets the server refuse an update: what a software statement asserted (its
 * software_id, and every member it set, such as redirect_uris) stays as the statement said, or
 * an update could turn a vetted client into any other. Changing it means registering again
 * with a new statement.
 */
function keepStatementMembers(current: ClientRecord, metadata: ClientMetadata): void {
  const stored: Readonly<Record<string, unknown>> = current.metadata;
  const updated: Readonly<Record<string, unknown>> = metadata;
  const changed = current.statementMembers?.find(
    (name) => !isDeepStrictEqual(stored[name], updated[name]),
  );
  if (changed !== undefined) {
    throw invalidClientMetadata(
      `${changed}: asserted by the software statement this client registered with; an update cannot change it (register again with a new statement)`,
    );
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

function clientInformation(
  record: ClientRecord,
  issuer: string,
  registrationAccessToken: string,
  clientSecret?: string,
): ClientInformation {
  return {
    client_id: record.clientId,
    client_id_issued_at: record.clientIdIssuedAt,
    ...record.metadata,
    ...(clientSecret !== undefined && { client_secret: clientSecret }),
    ...(record.secretHash !== undefined && {
      client_secret_expires_at: record.clientSecretExpiresAt,
    }),
    ...(record.expiresAt !== undefined && { expires_at: record.expiresAt }),
    registration_access_token: registrationAccessToken,
    registration_client_uri: clientConfigurationUrl(issuer, record.clientId),
  };
}
