import type { Keyring, KeyringEntry, PublishedKey } from './ports.js';

/**
 * The wrapped mode's key schedule (docs/deployment.md "Signing modes"), pure. A key is published in the
 * JWKS from its creation, signs from `activatesAt` until its successor activates, and stays
 * published until every token it signed has expired (`expiresAt`).
 */
export interface KeySchedule {
  readonly accessTokenLifetimeSeconds: number;
  /** How stale a function's copy of the keyring may be (its re-read interval). */
  readonly keyringRefreshSeconds: number;
}

/** The JWKS's HTTP cache lifetime: never longer than the keyring a function serves it from. */
export const jwksMaxAgeSeconds = (schedule: Pick<KeySchedule, 'keyringRefreshSeconds'>) =>
  Math.min(300, schedule.keyringRefreshSeconds);

/**
 * How long a new key is published before it signs: at least one access token lifetime (the
 * issue's rule) and at least the JWKS's cache lifetime (a verifier holding a cached JWKS meets
 * no unknown kid), plus one keyring refresh (every function has seen the key by then).
 */
export const activationDelaySeconds = (schedule: KeySchedule) =>
  Math.max(schedule.accessTokenLifetimeSeconds, jwksMaxAgeSeconds(schedule)) +
  schedule.keyringRefreshSeconds;

/** The key that signs at `now`: the latest activated one that has not expired. */
export function activeEntry(keyring: Keyring | undefined, now: number): KeyringEntry | undefined {
  let active: KeyringEntry | undefined;
  for (const entry of keyring?.keys ?? []) {
    if (entry.activatesAt > now || (entry.expiresAt !== undefined && entry.expiresAt <= now)) {
      continue;
    }
    if (active === undefined || entry.activatesAt > active.activatesAt) active = entry;
  }
  return active;
}

/** The keys a verifier may meet at `now`: the active one first, then the newest first. */
export function publishedEntries(keyring: Keyring | undefined, now: number): KeyringEntry[] {
  const active = activeEntry(keyring, now);
  const live = (keyring?.keys ?? []).filter(
    (e) => e !== active && (e.expiresAt === undefined || e.expiresAt > now),
  );
  live.sort((a, b) => b.activatesAt - a.activatesAt);
  return active === undefined ? live : [active, ...live];
}

export const asPublishedKey = (entry: KeyringEntry): PublishedKey => ({
  kid: entry.kid,
  alg: entry.alg,
  jwk: entry.jwk,
});

/**
 * The keyring with `key` added: active at once when no key signs yet (the first key, at
 * deploy), else after the activation delay. The keys it supersedes get their expiry (their
 * last token is signed when it activates, and lives one token lifetime, plus one refresh for
 * clocks and stale copies); expired keys are dropped.
 */
export function withNewKey(
  keyring: Keyring | undefined,
  key: PublishedKey,
  now: number,
  schedule: KeySchedule,
): Keyring {
  const activatesAt =
    activeEntry(keyring, now) === undefined ? now : now + activationDelaySeconds(schedule);
  const retiredUntil =
    activatesAt + schedule.accessTokenLifetimeSeconds + schedule.keyringRefreshSeconds;
  const kept = (keyring?.keys ?? [])
    .filter((e) => e.expiresAt === undefined || e.expiresAt > now)
    .map((e) => (e.expiresAt === undefined ? { ...e, expiresAt: retiredUntil } : e));
  return {
    version: (keyring?.version ?? 0) + 1,
    keys: [...kept, { kid: key.kid, alg: key.alg, jwk: key.jwk, createdAt: now, activatesAt }],
  };
}

/** A key made but not signing yet: a rotation then has nothing to do. */
export const pendingEntry = (keyring: Keyring | undefined, now: number) =>
  keyring?.keys.find((e) => e.activatesAt > now);
