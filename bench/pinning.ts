import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

/** The core each server (and each cold import of a bundle) runs on. */
const SERVER_CORE = '0';
/** The core of the load generator: this process (autocannon runs in it). */
const LOAD_CORE = '1';

export interface Pinning {
  readonly pinned: boolean;
  /** Prefixes a server's command line: `taskset -c 0`, or nothing. */
  readonly prefix: readonly string[];
  /** What BENCHMARKS.md's header says of it. */
  readonly description: string;
}

const unpinned = (why: string): Pinning => ({
  pinned: false,
  prefix: [],
  description: `unpinned (${why}): the servers and the load generator share every core`,
});

/**
 * Per-core figures: each server on one core (a Lambda function at 1,769 MB has one vCPU, so one
 * core is the figure that matters), the load generator on another, with `taskset` where the
 * machine has two cores and the command exists; else unpinned, and the header says why.
 * `wanted` false (BENCH_PIN=off): unpinned, for the figures of the whole machine.
 */
export function choosePinning(wanted: boolean): Pinning {
  if (!wanted) return unpinned('BENCH_PIN=off');
  if (cpus().length < 2) return unpinned('one core only');
  try {
    // -a: every thread of this process, libuv's pool included.
    execFileSync('taskset', ['-a', '-cp', LOAD_CORE, String(process.pid)], { stdio: 'ignore' });
  } catch {
    return unpinned('no taskset on this machine');
  }
  return {
    pinned: true,
    prefix: ['taskset', '-c', SERVER_CORE],
    description: `pinned with taskset: each server on core ${SERVER_CORE} (two servers measured in turns share it), the load generator on core ${LOAD_CORE}; \`BENCH_PIN=off\` measures unpinned`,
  };
}

/** A command line under the pinning: [command, ...args]. */
export const pinnedCommand = (pinning: Pinning, command: string, args: readonly string[]) =>
  pinning.prefix.length === 0
    ? { command, args: [...args] }
    : {
        command: pinning.prefix[0] as string,
        args: [...pinning.prefix.slice(1), command, ...args],
      };
