export interface Clock {
  /** Integer seconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Math.floor(Date.now() / 1000) };
