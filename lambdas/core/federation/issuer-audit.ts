import { hash } from 'node:crypto';
import type { StoredTrustedIssuer } from './ports.js';

/**
 * The audit trail of the operator's changes to stored trusted issuers: who may mint tokens here.
 * Each change of a `trusted-issuer#` item is one event, read from the change itself (the table's
 * stream in AWS, the store's wrapper locally), so a change and its event never part. An event
 * names the keys (the JWKS URI, or the key ids of an inline key set) and summarises the rules
 * (their number and a digest), never key material.
 */

export type TrustedIssuerEventType =
  | 'trusted_issuer.created'
  | 'trusted_issuer.updated'
  | 'trusted_issuer.deleted';

export interface TrustedIssuerEvent {
  readonly type: TrustedIssuerEventType;
  readonly issuer: string;
  /** `workload` or `id-jag`, as the definition says. */
  readonly issuer_kind?: string;
  readonly jwks_uri?: string;
  /** An inline key set's key ids (keys without one are counted in `jwks_keys` only). */
  readonly jwks_kids?: readonly string[];
  readonly jwks_keys?: number;
  readonly algorithms?: readonly string[];
  /** How many rules, and the SHA-256 (base64url) of their JSON: equal digests, equal rules. */
  readonly rules: number;
  readonly rules_digest: string;
  /** On a replacement: the replaced rules' digest (a change of rules shows as a difference). */
  readonly previous_rules_digest?: string;
  /** Who acted: the IAM principal's ARN, or `admin-token` (the admin token, the dashboard). */
  readonly actor?: string;
  readonly source_ip?: string;
  readonly occurred_at: number;
}

/** One change of a stored issuer: its item before and after (a stream record's images). */
export interface TrustedIssuerChange {
  readonly before?: StoredTrustedIssuer;
  readonly after?: StoredTrustedIssuer;
  /** When the change was seen (integer seconds), if the item does not say. */
  readonly at: number;
}

const rulesDigest = (definition: Readonly<Record<string, unknown>>) =>
  hash('sha256', JSON.stringify(definition.rules ?? null), 'base64url');

/** What an event says of a definition: its kind, where its keys are, its rules in summary. */
function summary(definition: Readonly<Record<string, unknown>>) {
  const { kind, jwks_uri, jwks, algorithms, rules } = definition;
  const keys = (jwks as { keys?: unknown } | undefined)?.keys;
  const kids = Array.isArray(keys)
    ? keys.flatMap((key) => {
        const kid = (key as { kid?: unknown } | null)?.kid;
        return typeof kid === 'string' ? [kid] : [];
      })
    : [];
  return {
    ...(typeof kind === 'string' && { issuer_kind: kind }),
    ...(typeof jwks_uri === 'string' && { jwks_uri }),
    ...(Array.isArray(keys) && { jwks_kids: kids, jwks_keys: keys.length }),
    ...(Array.isArray(algorithms) && { algorithms: algorithms.map(String) }),
    rules: Array.isArray(rules) ? rules.length : 0,
    rules_digest: rulesDigest(definition),
  };
}

function event(
  type: TrustedIssuerEventType,
  record: StoredTrustedIssuer,
  origin: { readonly at: number; readonly actor?: string; readonly sourceIp?: string },
): TrustedIssuerEvent {
  return {
    type,
    issuer: record.issuer,
    ...summary(record.definition),
    ...(origin.actor !== undefined && { actor: origin.actor }),
    ...(origin.sourceIp !== undefined && { source_ip: origin.sourceIp }),
    occurred_at: origin.at,
  };
}

/**
 * The audit event of a change, or undefined for what is none: the mark of who removes an issuer,
 * written just before it is deleted (the deletion is the event), and a replacement by the same
 * definition, which changes no trust (and, within the second, no item: DynamoDB's stream then
 * has no record either).
 */
export function trustedIssuerEventFor(change: TrustedIssuerChange): TrustedIssuerEvent | undefined {
  const { before, after } = change;
  if (after === undefined) {
    return before && event('trusted_issuer.deleted', before, before.removed ?? { at: change.at });
  }
  if (after.removed !== undefined) return undefined;
  if (before === undefined) return event('trusted_issuer.created', after, after.updated);
  if (JSON.stringify(before.definition) === JSON.stringify(after.definition)) return undefined;
  return {
    ...event('trusted_issuer.updated', after, after.updated),
    previous_rules_digest: rulesDigest(before.definition),
  };
}
