import type { ChangeOrigin } from '../clients/ports.js';
import type { Clock } from '../clock.js';
import { conflict, invalidRequest, notFound } from '../errors.js';
import type { StoredTrustedIssuer, TrustedIssuerStore } from './ports.js';
import { isTrustedIssuerId, type TrustedIssuerSettings } from './trusted-issuers.js';

/**
 * A definition given at runtime checked as the configuration is (settings.ts
 * parseTrustedIssuer): the issuer, or what is wrong with it.
 */
export type TrustedIssuerParser = (
  issuer: string,
  definition: unknown,
) => { readonly issuer: TrustedIssuerSettings } | { readonly problem: string };

/** One trusted issuer as the admin API shows it: where it comes from, then its definition. */
export interface TrustedIssuerView {
  readonly issuer: string;
  /** `configuration`: DCR_TRUSTED_ISSUERS / dcr:trustedIssuers, read-only here. */
  readonly source: 'configuration' | 'admin';
  readonly [member: string]: unknown;
}

/** Stored items a listing page reads (a filtered Scan). */
const LIST_SCAN_PAGE = 500;

/** A configured issuer in the JSON form the configuration takes. */
const definitionOf = (settings: TrustedIssuerSettings) => ({
  kind: settings.kind,
  ...(settings.jwks !== undefined && { jwks: settings.jwks }),
  ...(settings.jwksUri !== undefined && { jwks_uri: settings.jwksUri }),
  algorithms: settings.algorithms,
  rules: settings.rules,
});

const storedView = (record: StoredTrustedIssuer): TrustedIssuerView => ({
  issuer: record.issuer,
  source: 'admin',
  ...record.definition,
  updated_at: record.updated.at,
  ...(record.updated.actor !== undefined && { updated_by: record.updated.actor }),
});

/**
 * The operator's trusted issuers: the configured ones, listed and never changed here (the
 * configuration stays authoritative), and the stored ones, added, replaced and removed at
 * runtime under the same checks. An `iss` is configured or stored, never both.
 */
export class TrustedIssuerAdministration {
  constructor(
    private readonly store: TrustedIssuerStore,
    private readonly configured: ReadonlyMap<string, TrustedIssuerSettings>,
    private readonly parse: TrustedIssuerParser,
    private readonly clock: Clock,
    /** Told of each change (the local server's token path sees it at once). */
    private readonly changed: (issuer: string) => void = () => {},
  ) {}

  /** The configured issuers (first page only), then a page of the stored ones. */
  async list(cursor: string | undefined) {
    const page = await this.store.page(cursor, LIST_SCAN_PAGE);
    const configured =
      cursor === undefined
        ? [...this.configured].map(
            ([issuer, settings]): TrustedIssuerView => ({
              issuer,
              source: 'configuration',
              ...definitionOf(settings),
            }),
          )
        : [];
    return {
      trusted_issuers: [...configured, ...page.records.map(storedView)],
      ...(page.cursor !== undefined && { next_cursor: page.cursor }),
    };
  }

  async get(issuer: string): Promise<TrustedIssuerView> {
    const settings = this.configured.get(issuer);
    if (settings !== undefined) {
      return { issuer, source: 'configuration', ...definitionOf(settings) };
    }
    // An `iss` that could never be stored (not https, too long for a key) is looked up nowhere.
    const stored = isTrustedIssuerId(issuer) ? await this.store.get(issuer) : undefined;
    if (stored === undefined) throw notFound('no such trusted issuer');
    return storedView(stored);
  }

  /** Creates or replaces a stored issuer: checked first, written whole or not at all. */
  async put(issuer: string, definition: Record<string, unknown>, origin: Omit<ChangeOrigin, 'at'>) {
    this.refuseConfigured(issuer, 'replaced');
    const parsed = this.parse(issuer, definition);
    if ('problem' in parsed) throw invalidRequest(parsed.problem);
    const record: StoredTrustedIssuer = {
      issuer,
      definition,
      updated: { ...origin, at: this.clock.now() },
    };
    const replaced = await this.store.put(record);
    this.changed(issuer);
    return { created: replaced === undefined, view: storedView(record) };
  }

  async remove(issuer: string, origin: Omit<ChangeOrigin, 'at'>): Promise<void> {
    this.refuseConfigured(issuer, 'removed');
    const removed =
      isTrustedIssuerId(issuer) &&
      (await this.store.remove(issuer, { ...origin, at: this.clock.now() }));
    if (!removed) throw notFound('no such trusted issuer');
    this.changed(issuer);
  }

  /**
   * What is wrong with storing this definition (an import's check: the one a PUT makes), or
   * undefined.
   */
  readonly problemWith = (issuer: string, definition: unknown): string | undefined => {
    if (this.configured.has(issuer)) {
      return `${issuer} is a configured trusted issuer here (DCR_TRUSTED_ISSUERS, dcr:trustedIssuers): remove it from the export, or from the configuration`;
    }
    const parsed = this.parse(issuer, definition);
    return 'problem' in parsed ? parsed.problem : undefined;
  };

  /** An issuer an import wrote (not through put): seen at once, as a put is. */
  readonly restored = (issuer: string): void => this.changed(issuer);

  private refuseConfigured(issuer: string, done: string) {
    if (this.configured.has(issuer)) {
      throw conflict(
        `${issuer} is a configured trusted issuer (DCR_TRUSTED_ISSUERS, dcr:trustedIssuers): it is ${done} by changing the configuration, not through the admin API`,
      );
    }
  }
}
