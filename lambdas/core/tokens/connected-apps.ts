import { parseRedirectUri, redirectTarget } from '../clients/client-metadata.js';
import type { Clock } from '../clock.js';
import { familyExpiry, type GrantStore, indexedGrants, isLive } from './ports.js';
import { revokeFamily, type UserGrantSettings } from './user-grants.js';

/** The most recent authorizations a user's page looks at (their live grants among them). */
export const CONNECTED_APPS_LIMIT = 100;

/** A grant id as the forms carry it (128 random bits, base64url). */
const GRANT_ID = /^[A-Za-z0-9_-]{22}$/;

/** One live grant, as the user's connected-apps page shows it. */
export interface ConnectedApp {
  readonly grantId: string;
  readonly clientId: string;
  /** `client_name` as the client asserted it at consent: never verified. */
  readonly clientName?: string;
  /** Where its authorization answer went: a host, or a private-use scheme. */
  readonly redirectTarget: string;
  readonly scopes: readonly string[];
  /** RFC 8707 resources granted; empty = the default audience. */
  readonly resources: readonly string[];
  /** The code's exchange: when its first tokens were issued. */
  readonly firstUsedAt: number;
  /** Its last refresh (or the exchange). */
  readonly lastUsedAt: number;
}

/** What a user's revocation did, for the audit trail (never a token or a hash). */
export interface UserRevocationEvent {
  readonly type: 'grant.revoked_by_user';
  readonly sub: string;
  readonly client_id: string;
  readonly grant_id: string;
  readonly occurred_at: number;
}

/**
 * A signed-in user's own grants: the live ones listed, one revoked at a time. A user sees and
 * revokes only grants whose `sub` is theirs; revoking one ends its refresh token family and its
 * access tokens (their `jti` names the grant), and nothing else, not even the user's other
 * grants to the same client (a Client ID Metadata Document client_id is shared by every install).
 */
export class ConnectedApps {
  constructor(
    private readonly grants: GrantStore,
    private readonly clock: Clock,
    private readonly settings: Pick<
      UserGrantSettings,
      'refreshTokenIdleLifetimeSeconds' | 'accessTokenLifetimeSeconds'
    >,
    private readonly onRevoke: (event: UserRevocationEvent) => void = () => {},
  ) {}

  /** The user's live grants, the most recently used first. */
  async list(sub: string): Promise<ConnectedApp[]> {
    const now = this.clock.now();
    const found = await indexedGrants(this.grants, sub, { limit: CONNECTED_APPS_LIMIT });
    const apps: ConnectedApp[] = [];
    for (const { entry, grant } of found) {
      // The grant's own sub decides, whatever filed the entry.
      if (!isLive(grant) || grant.sub !== sub || grant.clientId !== entry.clientId) continue;
      if (familyExpiry(grant, this.settings.refreshTokenIdleLifetimeSeconds) <= now) continue;
      apps.push({
        grantId: grant.grantId,
        clientId: grant.clientId,
        ...(entry.clientName !== undefined && { clientName: entry.clientName }),
        redirectTarget: redirectTarget(parseRedirectUri(entry.redirectUri)),
        scopes: grant.scope?.split(' ') ?? [],
        resources: grant.resources,
        firstUsedAt: grant.createdAt,
        lastUsedAt: grant.lastUsedAt,
      });
    }
    return apps.sort((a, b) => b.lastUsedAt - a.lastUsedAt);
  }

  /**
   * Revokes one of the user's live grants; false (nothing done) when `grantId` names none of
   * theirs: another user's, revoked, expired or unknown look alike.
   */
  async revoke(sub: string, grantId: string): Promise<boolean> {
    if (!GRANT_ID.test(grantId)) return false;
    const now = this.clock.now();
    const grant = await this.grants.getGrant(grantId);
    if (
      !isLive(grant) ||
      grant.sub !== sub ||
      familyExpiry(grant, this.settings.refreshTokenIdleLifetimeSeconds) <= now
    ) {
      return false;
    }
    await revokeFamily(this.grants, grantId, now, this.settings);
    this.onRevoke({
      type: 'grant.revoked_by_user',
      sub,
      client_id: grant.clientId,
      grant_id: grantId,
      occurred_at: now,
    });
    return true;
  }
}
