import { isDeepStrictEqual } from 'node:util';
import type { ClientLifecycle } from '../clients/client-lifecycle.js';
import { type ClientMetadata, usesClientSecret } from '../clients/client-metadata.js';
import { validateClientMetadata } from '../clients/metadata-validation.js';
import type { ClientRecord, ClientRepository, RequestOrigin } from '../clients/ports.js';
import type { Clock } from '../clock.js';
import {
  invalidClientMetadata,
  invalidRequest,
  invalidToken,
  OAuthError,
  preconditionFailed,
} from '../errors.js';
import { hashSecret, newSecret, secretMatches } from '../secrets.js';
import type { BlockedSoftwareIds } from './ports.js';
import {
  type ClientInformation,
  clientInformation,
  RegistrationRules,
  type RegistrationSettings,
} from './registration.js';
import { isRegistrationWay, type RegistrationWay } from './registration-policy.js';

/** A registration as RFC 7592 returns it, and its version (the ETag). */
export interface Versioned {
  readonly registration: ClientInformation;
  readonly version: number;
}

/** RFC 9110 §13.1.1: the If-Match of an update names no version the registration still has. */
const changedSinceRead = () =>
  preconditionFailed(
    'the registration changed since the version named in If-Match; read it again and retry',
  );

/** Server-managed members a client must not send in an RFC 7592 update (§2.2). */
const SERVER_MANAGED = [
  'registration_access_token',
  'registration_client_uri',
  'client_secret_expires_at',
  'client_id_issued_at',
] as const;

/**
 * RFC 7592: a registered client reads, updates and deletes its own registration with its
 * registration access token. Updates are held to the rules its registration was.
 */
export class ClientConfigurationService {
  private readonly repository: ClientRepository;
  private readonly clock: Clock;
  private readonly rules: RegistrationRules;

  constructor(
    private readonly lifecycle: ClientLifecycle,
    settings: RegistrationSettings,
    /** The kill switch: an update cannot rename a client to a blocked software_id. */
    blocked?: BlockedSoftwareIds,
  ) {
    this.repository = lifecycle.repository;
    this.clock = lifecycle.clock;
    this.rules = new RegistrationRules(lifecycle, settings, blocked);
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
    const { metadata, expiresAt } = this.rules.bound(
      way,
      validateClientMetadata(body, this.rules.settings, now),
      current.registrationConstraints,
      current.clientIdIssuedAt,
      'the initial access token that registered this client',
    );
    if (way === 'open') this.rules.checkAnonymousRedirects(metadata);
    keepStatementMembers(current, metadata);
    await this.rules.refuseBlocked(metadata, way);
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
        record: this.rules.withActiveUntil({
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
