import type { ChangeOrigin } from '../clients/ports.js';

/**
 * A trusted issuer the operator added through the admin API: its definition exactly as given
 * (one value of DCR_TRUSTED_ISSUERS, checked by the same schema before it was stored), and who
 * stored it, when, from where.
 */
export interface StoredTrustedIssuer {
  readonly issuer: string;
  /** The JSON the operator put: `{kind, jwks | jwks_uri, algorithms?, rules}`. */
  readonly definition: Readonly<Record<string, unknown>>;
  readonly updated: ChangeOrigin;
  /**
   * Who is removing it, written on the item just before it is deleted: the stream's removal
   * record (the item's last image) names who removed it, as the audit trail needs.
   */
  readonly removed?: ChangeOrigin;
}

/** A page of the stored issuers (the operator's listing). */
export interface StoredTrustedIssuerPage {
  readonly records: StoredTrustedIssuer[];
  readonly cursor?: string;
}

/**
 * Trusted issuers kept in the table, one item each (`trusted-issuer#<iss>`): read one at a time
 * on the token path (through a per-container cache), written and listed by the operator.
 */
export interface TrustedIssuerStore {
  /** One issuer's item (one read), or undefined. */
  get(issuer: string): Promise<StoredTrustedIssuer | undefined>;
  /** Creates or replaces it: the one it replaced, or undefined if it was created. */
  put(record: StoredTrustedIssuer): Promise<StoredTrustedIssuer | undefined>;
  /** Removes it, noting who did first: what was removed, or undefined if there was none. */
  remove(issuer: string, removed: ChangeOrigin): Promise<StoredTrustedIssuer | undefined>;
  /** A page of them (reads up to `scanLimit` items). */
  page(cursor: string | undefined, scanLimit: number): Promise<StoredTrustedIssuerPage>;
}
