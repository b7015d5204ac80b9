import { decodeCursor, encodeCursor } from '../../core/cursor.js';
import { invalidRequest } from '../../core/errors.js';
import {
  type FederatedSubject,
  type FederatedSubjectPage,
  type FederatedSubjects,
  SUBJECT_KEPT_SECONDS,
  type SubjectUpdate,
} from '../../core/federation/federated-tokens.js';

/** In-memory FederatedSubjects (the `memory` store, unit tests), with the table's rules. */
export class MemoryFederatedSubjects implements FederatedSubjects {
  private readonly subjects = new Map<string, FederatedSubject>();

  async record(updates: readonly SubjectUpdate[]): Promise<void> {
    for (const update of updates) {
      const before = this.subjects.get(update.sub);
      const latest = before === undefined || before.last_seen <= update.lastAt;
      const counted = {
        sub: update.sub,
        issuer: update.issuer,
        issuer_kind: update.issuerKind,
        tokens: (before?.tokens ?? 0) + update.tokens,
        first_seen: Math.min(before?.first_seen ?? update.firstAt, update.firstAt),
      };
      this.subjects.set(
        update.sub,
        latest
          ? {
              ...counted,
              rule: update.rule,
              last_seen: update.lastAt,
              ...(update.scope !== undefined && { last_scope: update.scope }),
              last_aud: update.aud,
              last_client_id: update.clientId,
              expires_at: update.lastAt + SUBJECT_KEPT_SECONDS,
            }
          : { ...before, ...counted },
      );
    }
  }

  async list(
    cursor: string | undefined,
    limit: number,
    now: number,
  ): Promise<FederatedSubjectPage> {
    const after =
      cursor === undefined ? undefined : decodeCursor<{ after?: unknown }>(cursor).after;
    if (cursor !== undefined && typeof after !== 'string') {
      throw invalidRequest('cursor is malformed');
    }
    const keys = [...this.subjects.keys()]
      .sort()
      .filter((sub) => after === undefined || sub > (after as string));
    const page = keys.slice(0, limit);
    return {
      subjects: page
        .map((sub) => this.subjects.get(sub) as FederatedSubject)
        .filter((s) => s.expires_at > now),
      ...(keys.length > limit && { next_cursor: encodeCursor({ after: page.at(-1) }) }),
    };
  }
}
