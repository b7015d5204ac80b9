import { assertRedirectsAllowed, type RedirectPolicy } from './abuse-control.js';
import type { ClientLifecycle } from './client-lifecycle.js';
import {
  type ClientMetadata,
  type MetadataPolicy,
  usesClientSecret,
  validateClientMetadata,
} from './client-metadata.js';
import { clientConfigurationUrl } from './endpoints.js';
import { invalidRequest, invalidToken } from './errors.js';
import type { ClientRecord, ClientRepository, Clock, RequestOrigin } from './ports.js';
import { hashSecret, newClientId, newSecret, secretMatches } from './secrets.js';

export type RegistrationSettings = MetadataPolicy & {
  /** Abuse control: the redirect URIs anonymous clients may register; absent = unrestricted. */
  readonly redirectPolicy?: RedirectPolicy;
};

/** How a registration request was classified (abuse control: anonymous = no credential). */
export interface RegistrationContext {
  readonly anonymous: boolean;
}

/** RFC 7591 §3.2.1 / RFC 7592 §3 client information response. */
export type ClientInformation = ClientMetadata & {
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

  constructor(
    private readonly lifecycle: ClientLifecycle,
    private readonly settings: RegistrationSettings,
  ) {
    this.repository = lifecycle.repository;
    this.clock = lifecycle.clock;
  }

  /** RFC 7591 §3: registers a client and returns its credentials, shown this once. */
  async register(
    body: Record<string, unknown>,
    issuer: string,
    origin: RequestOrigin = {},
    context: RegistrationContext = { anonymous: true },
  ): Promise<ClientInformation> {
    const now = this.clock.now();
    const { metadata, requestedExpiresAt } = validateClientMetadata(body, this.settings, now);
    if (context.anonymous) this.checkAnonymousRedirects(metadata);
    const clientSecret = usesClientSecret(metadata) ? newSecret() : undefined;
    const registrationAccessToken = newSecret();
    const expiresAt = this.lifecycle.grantedExpiry(requestedExpiresAt, now);
    const record = this.withActiveUntil({
      clientId: newClientId(),
      metadata,
      clientIdIssuedAt: now,
      ...(clientSecret !== undefined && { secretHash: hashSecret(clientSecret) }),
      clientSecretExpiresAt: clientSecret !== undefined ? this.lifecycle.secretExpiry(now) : 0,
      registrationTokenHash: hashSecret(registrationAccessToken),
      ...(expiresAt !== undefined && { expiresAt }),
      version: 1,
      registrationMethod: 'open',
      lastChange: { at: now, ...origin },
    });
    await this.repository.create(record);
    return clientInformation(record, issuer, registrationAccessToken, clientSecret);
  }

  /** RFC 7592 §2.1 read. */
  async read(clientId: string, token: string | undefined, issuer: string) {
    const { record, presented } = await this.authorize(clientId, token);
    return clientInformation(record, issuer, presented);
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
  ): Promise<ClientInformation> {
    const { record: current, presented } = await this.authorize(clientId, token);
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
    const { metadata, requestedExpiresAt } = validateClientMetadata(body, this.settings, now);
    if ((current.registrationMethod ?? 'open') === 'open') this.checkAnonymousRedirects(metadata);
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
    const expiresAt = this.lifecycle.grantedExpiry(requestedExpiresAt, current.clientIdIssuedAt);
    const { secretHash: _, expiresAt: __, activeUntil: ___, ...kept } = current;
    const record = this.withActiveUntil({
      ...kept,
      metadata,
      ...(secretHash !== undefined && { secretHash }),
      clientSecretExpiresAt:
        clientSecret !== undefined
          ? this.lifecycle.secretExpiry(now)
          : secretHash !== undefined
            ? current.clientSecretExpiresAt
            : 0,
      ...(expiresAt !== undefined && { expiresAt }),
      version: current.version + 1,
      lastChange: { at: now, ...origin },
    });
    await this.repository.replace(record);
    return clientInformation(record, issuer, presented, clientSecret);
  }

  /** RFC 7592 §2.3 delete: afterwards neither the client nor its registration token works. */
  async remove(clientId: string, token: string | undefined, origin: RequestOrigin = {}) {
    await this.authorize(clientId, token);
    await this.repository.delete(clientId, { by: 'client', at: this.clock.now(), ...origin });
  }

  /** RFC 7592 §2: the registration access token, or a 401 that does not say what was wrong. */
  private async authorize(clientId: string, token: string | undefined) {
    if (token === undefined) throw invalidToken();
    const record = await this.lifecycle.findActive(clientId);
    if (record === undefined || !secretMatches(token, record.registrationTokenHash)) {
      throw invalidToken();
    }
    // The token presented is the current one: responses return it (only its hash is stored).
    return { record, presented: token };
  }

  /** Abuse control: an anonymous client's redirect URIs must be within the redirect policy. */
  private checkAnonymousRedirects(metadata: ClientMetadata): void {
    if (this.settings.redirectPolicy) {
      assertRedirectsAllowed(this.settings.redirectPolicy, metadata.redirect_uris);
    }
  }

  private withActiveUntil(record: Omit<ClientRecord, 'activeUntil'>): ClientRecord {
    const activeUntil = this.lifecycle.activeUntil(record);
    return { ...record, ...(activeUntil !== undefined && { activeUntil }) };
  }
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
