import type { RequestOrigin } from '../clients/ports.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import {
  clientLimitReached,
  invalidInitialAccessToken,
  invalidRequest,
  notFound,
} from '../errors.js';
import { homeRegionOf, pinnedElsewhere } from '../regions.js';
import { hashSecret, newClientId, newSecret, secretMatches } from '../secrets.js';
import type { InitialAccessTokenRecord, InitialAccessTokenStore } from './ports.js';

/** An initial access token is `<id>.<secret>`: a 128-bit id (the item's key) and 256 bits. */
const TOKEN_SHAPE = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

/** What an operator asks for (the admin API's body, validated there). */
export interface InitialAccessTokenRequest {
  readonly maxUses?: number;
  readonly expiresIn: number;
  readonly scope?: string;
  readonly softwareId?: string;
  readonly clientLifetimeSeconds?: number;
  readonly maxActiveClients?: number;
  readonly description?: string;
}

/** What an operator sees of a token: never the token or its hash. */
export const tokenSummary = (t: InitialAccessTokenRecord, now: number) => ({
  id: t.id,
  created_at: t.createdAt,
  expires_at: t.expiresAt,
  ...(t.maxUses !== undefined && { max_uses: t.maxUses }),
  uses: t.uses,
  status:
    t.expiresAt <= now
      ? 'expired'
      : t.maxUses !== undefined && t.uses >= t.maxUses
        ? 'used_up'
        : 'active',
  ...(t.scope !== undefined && { scope: t.scope }),
  ...(t.softwareId !== undefined && { software_id: t.softwareId }),
  ...(t.clientLifetimeSeconds !== undefined && {
    client_lifetime_seconds: t.clientLifetimeSeconds,
  }),
  ...(t.maxActiveClients !== undefined && { max_active_clients: t.maxActiveClients }),
  active_clients: t.activeClients ?? 0,
  ...(t.description !== undefined && { description: t.description }),
  ...(t.createdBy !== undefined && { created_by: t.createdBy }),
});

/** Issues, lists and revokes initial access tokens, and checks them at registration. */
export class InitialAccessTokens {
  /** `region`: multi-region, this server's; tokens made here are used here only. */
  constructor(
    private readonly store: InitialAccessTokenStore,
    private readonly region?: string,
  ) {}

  async issue(request: InitialAccessTokenRequest, now: number, origin: RequestOrigin) {
    // Never a leading `-` (newClientId): `dcr-admin iat revoke <id>` cannot take it for an option.
    const id = newClientId();
    const token = `${id}.${newSecret()}`;
    const record: InitialAccessTokenRecord = {
      id,
      tokenHash: hashSecret(token),
      createdAt: now,
      expiresAt: now + request.expiresIn,
      ...(request.maxUses !== undefined && { maxUses: request.maxUses }),
      uses: 0,
      ...(request.scope !== undefined && { scope: request.scope }),
      ...(request.softwareId !== undefined && { softwareId: request.softwareId }),
      ...(request.clientLifetimeSeconds !== undefined && {
        clientLifetimeSeconds: request.clientLifetimeSeconds,
      }),
      ...(request.maxActiveClients !== undefined && {
        maxActiveClients: request.maxActiveClients,
      }),
      ...(request.description !== undefined && { description: request.description }),
      ...(origin.actor !== undefined && { createdBy: origin.actor }),
      ...homeRegionOf(this.region),
    };
    await this.store.create(record);
    // The token is shown this once; only its hash is stored.
    return { ...tokenSummary(record, now), initial_access_token: token };
  }

  async list(cursor: string | undefined, limit: number, now: number) {
    // The store pages over the whole table: read up to 10 scan pages to fill one answer.
    const tokens: InitialAccessTokenRecord[] = [];
    const position = cursor === undefined ? undefined : decodeCursor<{ c?: unknown }>(cursor).c;
    if (cursor !== undefined && typeof position !== 'string') {
      throw invalidRequest('cursor is malformed');
    }
    let next = position as string | undefined;
    for (let pages = 0; pages < 10 && tokens.length < limit; pages++) {
      const page = await this.store.page(next, 500);
      tokens.push(...page.records);
      next = page.cursor;
      if (next === undefined) break;
    }
    return {
      initial_access_tokens: tokens.map((t) => tokenSummary(t, now)),
      ...(next !== undefined && { next_cursor: encodeCursor({ c: next }) }),
    };
  }

  async revoke(id: string): Promise<void> {
    if (!(await this.store.delete(id))) throw notFound('no such initial access token');
  }

  /**
   * Checks a presented token (one strongly consistent read by key; constant-time hash
   * comparison): unknown, malformed, expired or used up → 401 invalid_token.
   */
  async check(token: string, now: number): Promise<InitialAccessTokenRecord> {
    const id = TOKEN_SHAPE.exec(token)?.[1];
    const record = id === undefined ? undefined : await this.store.get(id);
    if (
      record === undefined ||
      !secretMatches(token, record.tokenHash) ||
      record.expiresAt <= now ||
      (record.maxUses !== undefined && record.uses >= record.maxUses)
    ) {
      throw invalidInitialAccessToken();
    }
    // Its use count is one conditional update in its home region; counted in two regions,
    // last-writer-wins replication would lose a use (docs/deployment.md "Multi-region").
    if (pinnedElsewhere(record, this.region)) {
      throw invalidInitialAccessToken(
        `the initial access token is accepted in its home region ${record.homeRegion} only`,
      );
    }
    if (isFull(record)) throw tokenFull(record);
    return record;
  }

  /**
   * Counts the use and takes a place under its active-client cap: the one extra conditional
   * write. A token used up, full (or revoked) since the check loses the race here, and the
   * registration is refused; which of them it was takes a second read, on that path only. If
   * the client's own write then fails, the use stays counted (burned: safe, never one client
   * too many) and the place is given back.
   */
  async use(record: InitialAccessTokenRecord, now: number): Promise<void> {
    const used = await this.store.use(record.id, record.tokenHash, now);
    if (used !== undefined) return;
    const current = await this.store.get(record.id);
    if (current !== undefined && isFull(current)) throw tokenFull(current);
    throw invalidInitialAccessToken();
  }

  /** Gives back the place of a client that never came to be, or has left. */
  release(id: string): Promise<void> {
    return this.store.release(id);
  }
}

const isFull = (t: InitialAccessTokenRecord) =>
  t.maxActiveClients !== undefined && (t.activeClients ?? 0) >= t.maxActiveClients;

const tokenFull = (t: InitialAccessTokenRecord) =>
  clientLimitReached(
    `the initial access token's clients are at their limit (${t.maxActiveClients} active); delete one first`,
  );
