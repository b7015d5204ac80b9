import type { ChangeOrigin } from '../clients/ports.js';

/**
 * An initial access token as stored (docs/architecture.md "Storage", `iat#<id>`): the token itself is
 * `<id>.<secret>`, shown once; only the SHA-256 of the whole token is kept.
 */
export interface InitialAccessTokenRecord {
  readonly id: string;
  readonly tokenHash: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Absent = unlimited uses until expiry. */
  readonly maxUses?: number;
  readonly uses: number;
  /** Space-separated scopes its clients may register; absent = the tier's. */
  readonly scope?: string;
  /** The software_id its clients get (a different one is refused). */
  readonly softwareId?: string;
  /** Cap on its clients' lifetime. */
  readonly clientLifetimeSeconds?: number;
  /** Cap on its clients alive at once; absent = no cap. */
  readonly maxActiveClients?: number;
  /** Its clients alive now: added to by each use, given back as they leave (absent = 0). */
  readonly activeClients?: number;
  readonly description?: string;
  /** Who created it (the admin actor). */
  readonly createdBy?: string;
  /**
   * Multi-region: the region that made it (the server's DCR_REGION); it is used there only
   * (docs/deployment.md "Multi-region"). Absent: not pinned.
   */
  readonly homeRegion?: string;
}

export interface InitialAccessTokenPage {
  readonly records: InitialAccessTokenRecord[];
  readonly cursor?: string;
}

/**
 * Initial access tokens. `use` is ONE conditional single-item update (no transaction): unspent
 * uses, unexpired, the same hash and a place under its active-client cap, counted atomically,
 * so N uses (or a cap of N) admit exactly N callers.
 */
export interface InitialAccessTokenStore {
  /** Stores a new token (never overwrites). */
  create(record: InitialAccessTokenRecord): Promise<void>;
  /** The token by id (a strongly consistent read), or undefined. */
  get(id: string): Promise<InitialAccessTokenRecord | undefined>;
  /**
   * Counts one use if the token still exists with this hash, is unexpired at `now` and has uses
   * left; returns the record after the use, or undefined when it could not be used.
   */
  use(id: string, tokenHash: string, now: number): Promise<InitialAccessTokenRecord | undefined>;
  /**
   * Gives back one active-client place (a client it registered left); never below zero, and
   * nothing when the token is gone.
   */
  release(id: string): Promise<void>;
  /** Deletes (revokes) the token; false if there was none. */
  delete(id: string): Promise<boolean>;
  /** A page of tokens (reads up to `scanLimit` items). */
  page(cursor: string | undefined, scanLimit: number): Promise<InitialAccessTokenPage>;
}

/** A software statement whose signature, issuer and claims were verified (RFC 7591 §2.3). */
export interface VerifiedStatement {
  readonly issuer: string;
  readonly softwareId: string;
  readonly claims: Readonly<Record<string, unknown>>;
}

/**
 * Verifies software statements; throws OAuthError `invalid_software_statement` or
 * `unapproved_software_statement`. Filled in by the statements work; unwired = none accepted.
 */
export interface SoftwareStatements {
  verify(statement: string, now: number): Promise<VerifiedStatement>;
}

/**
 * The software_id kill switch: software the operator has blocked cannot register, by statement
 * or by body. One item per blocked software_id (`blocked#<software_id>`).
 */
export interface BlockedSoftwareIds {
  isBlocked(softwareId: string): Promise<boolean>;
  /** Blocks (idempotent), recording who did and when. */
  block(softwareId: string, origin: ChangeOrigin): Promise<void>;
  /** Unblocks; false if it was not blocked. */
  unblock(softwareId: string): Promise<boolean>;
  /** A page of the blocked software_ids (reads up to `scanLimit` items; the operator's listing). */
  page(cursor: string | undefined, scanLimit: number): Promise<BlockedSoftwarePage>;
}

/** A blocked software_id: when, by whom and from where it was blocked. */
export interface BlockedSoftware extends ChangeOrigin {
  readonly softwareId: string;
}

export interface BlockedSoftwarePage {
  readonly records: BlockedSoftware[];
  readonly cursor?: string;
}

/**
 * The active clients of each software_id, kept only when a cap is set. `claim` is
 * one conditional atomic add (below the cap, or refused), so a cap of N admits exactly N.
 */
export interface SoftwareClientCounts {
  /**
   * Takes one place under `cap` for the software_id; false when it is full. The count is kept
   * at least until `keepUntil` (epoch seconds; absent = for ever): every client it counts is
   * gone by then.
   */
  claim(softwareId: string, cap: number, keepUntil?: number): Promise<boolean>;
  /** Gives one place back; never below zero. */
  release(softwareId: string): Promise<void>;
}

/**
 * Fixed-window counters of anonymous registrations (abuse control): one atomic add per call,
 * no read. The counter and its window live until `expiresAt` (epoch seconds), then vanish.
 */
export interface RegistrationCounter {
  /** Adds one hit to the counter `key` and returns its count after the add. */
  hit(key: string, expiresAt: number): Promise<number>;
}
