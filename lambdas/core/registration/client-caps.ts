import type { ClientChange } from '../operator/audit.js';
import type { InitialAccessTokenStore, SoftwareClientCounts } from './ports.js';

/** Where the places under the active-client caps (per initial access token, per software_id) are kept. */
export interface CapHolders {
  readonly initialAccessTokens: InitialAccessTokenStore;
  readonly softwareCounts: SoftwareClientCounts;
}

/**
 * A client that left (deleted by itself or the operator, or expired) gives back the places it
 * took at registration: its initial access token's, and its software_id's when it was counted.
 * Driven by the change events (the table's stream in AWS, the audited repository locally), so
 * DynamoDB TTL deletions count too. The stream delivers at least once: a retried batch can give
 * a place back twice, admitting one client more than the cap (counts never go below zero).
 */
export async function releasePlaces(
  changes: readonly ClientChange[],
  holders: CapHolders,
): Promise<void> {
  const releases: Promise<void>[] = [];
  for (const { kind, oldImage } of changes) {
    if (kind !== 'REMOVE' || oldImage === undefined) continue;
    if (oldImage.initialAccessTokenId !== undefined) {
      releases.push(holders.initialAccessTokens.release(oldImage.initialAccessTokenId));
    }
    if (oldImage.countedSoftwareId !== undefined) {
      releases.push(holders.softwareCounts.release(oldImage.countedSoftwareId));
    }
  }
  await Promise.all(releases);
}
