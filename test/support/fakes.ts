import type { Clock } from '../../lambdas/core/ports.js';

/** A clock the test moves by hand. */
export class FakeClock implements Clock {
  constructor(public current = 1_800_000_000) {}
  now(): number {
    return this.current;
  }
  advance(seconds: number): void {
    this.current += seconds;
  }
}
