import type { Actor } from '../tokens/access-tokens.js';
import type { IssuerKind } from './trusted-issuers.js';

/**
 * The audit trail of tokens issued for assertions of trusted issuers (workload identity, ID-JAG)
 * and by token exchange, and the per-subject summary the operator reads. Each event rides on the
 * one item its grant writes anyway (the assertion's `jti`; the exchanged token's record), so the
 * table's stream in AWS, and the token store's change feed locally, turn it into an audit event
 * off the request path. Never an assertion or a token: identifiers and claims only.
 */

export type FederatedTokenEventType =
  | 'token.workload_identity'
  | 'token.id_jag'
  | 'token.exchanged';

interface TokenFacts {
  /** The token's `sub`: `<iss>#<sub>` for a federated subject. */
  readonly sub: string;
  /** The token's `client_id`: the workload itself, the authenticated client, the actor. */
  readonly client_id: string;
  /** The token's `aud`: the resource(s). */
  readonly aud: string | readonly string[];
  readonly scope?: string;
  /** The access token's `jti` (never the token). */
  readonly jti: string;
  readonly exp: number;
  readonly occurred_at: number;
}

/** A token issued for a trusted issuer's assertion. */
export interface AssertionTokenEvent extends TokenFacts {
  readonly type: 'token.workload_identity' | 'token.id_jag';
  readonly issuer: string;
  readonly issuer_kind: IssuerKind;
  /** The issuer's rule that decided, by position (1-based). */
  readonly rule: number;
  /** The assertion's own `jti` (the platform's logs name it so). */
  readonly assertion_jti: string;
}

/** A token issued by token exchange (RFC 8693), acting for the subject token's `sub`. */
export interface ExchangeTokenEvent extends TokenFacts {
  readonly type: 'token.exchanged';
  /** The requesting client first, the subject token's actors nested inside. */
  readonly act: Actor;
  /** The subject token's `jti` and `client_id`: where the chain came from. */
  readonly subject_jti: string;
  readonly subject_client_id: string;
}

export type FederatedTokenEvent = AssertionTokenEvent | ExchangeTokenEvent;

const TYPES = new Set<string>(['token.workload_identity', 'token.id_jag', 'token.exchanged']);

/** An event read back from a stored item (a stream image): undefined if it is none. */
export function storedTokenEvent(value: unknown): FederatedTokenEvent | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const event = JSON.parse(value) as Partial<FederatedTokenEvent>;
    return typeof event?.type === 'string' &&
      TYPES.has(event.type) &&
      typeof event.sub === 'string' &&
      typeof event.occurred_at === 'number'
      ? (event as FederatedTokenEvent)
      : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Federated subjects: who got tokens for assertions, summed per subject.

/** A federated subject is forgotten this long after its last token (a vanished workload). */
export const SUBJECT_KEPT_SECONDS = 30 * 86_400;

/** One subject's tokens over a batch of events: added to its summary in one write. */
export interface SubjectUpdate {
  /** `<iss>#<sub>`. */
  readonly sub: string;
  readonly issuer: string;
  readonly issuerKind: IssuerKind;
  readonly tokens: number;
  readonly firstAt: number;
  /** What the latest token of the batch had. */
  readonly lastAt: number;
  readonly rule: number;
  readonly scope?: string;
  readonly aud: string | readonly string[];
  readonly clientId: string;
}

/** A federated subject as the operator reads it. */
export interface FederatedSubject {
  readonly sub: string;
  readonly issuer: string;
  readonly issuer_kind: IssuerKind;
  /** The rule that decided its latest token. */
  readonly rule: number;
  readonly first_seen: number;
  readonly last_seen: number;
  readonly tokens: number;
  readonly last_scope?: string;
  readonly last_aud: string | readonly string[];
  /** The client of its latest token (an ID-JAG's client; a workload is its own). */
  readonly last_client_id: string;
  /** When it is forgotten unless it gets another token. */
  readonly expires_at: number;
}

export interface FederatedSubjectPage {
  readonly subjects: readonly FederatedSubject[];
  readonly next_cursor?: string;
}

/** The per-subject summaries (`stats#federated`), written off the request path. */
export interface FederatedSubjects {
  /** Adds each update to its subject's summary: one atomic write per subject. */
  record(updates: readonly SubjectUpdate[]): Promise<void>;
  /** A page of the subjects not yet forgotten at `now`, in key order. */
  list(cursor: string | undefined, limit: number, now: number): Promise<FederatedSubjectPage>;
}

/** The batch's assertion tokens, merged per subject (exchanges act for a subject: not counted). */
export function subjectUpdates(events: readonly FederatedTokenEvent[]): SubjectUpdate[] {
  const bySubject = new Map<string, SubjectUpdate>();
  for (const event of events) {
    if (event.type === 'token.exchanged') continue;
    const before = bySubject.get(event.sub);
    const latest = before === undefined || event.occurred_at >= before.lastAt;
    const last = latest
      ? {
          lastAt: event.occurred_at,
          rule: event.rule,
          ...(event.scope !== undefined && { scope: event.scope }),
          aud: event.aud,
          clientId: event.client_id,
        }
      : {
          lastAt: before.lastAt,
          rule: before.rule,
          ...(before.scope !== undefined && { scope: before.scope }),
          aud: before.aud,
          clientId: before.clientId,
        };
    bySubject.set(event.sub, {
      sub: event.sub,
      issuer: event.issuer,
      issuerKind: event.issuer_kind,
      tokens: (before?.tokens ?? 0) + 1,
      firstAt: Math.min(before?.firstAt ?? event.occurred_at, event.occurred_at),
      ...last,
    });
  }
  return [...bySubject.values()];
}
