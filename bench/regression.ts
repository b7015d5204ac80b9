/**
 * The regression check: this run's hot paths against the previous BENCHMARKS.md. Only figures of
 * the same operation at the same connection count are compared, and only on the same machine do
 * they mean anything (the header of each file says which, and whether servers were pinned).
 */

/** Slower than the previous figure by more than this share: flagged. */
export const REGRESSION_THRESHOLD = 0.1;

/** The hot paths: what a deployment serves most, in memory (the cost of the code alone). */
export const HOT_PATHS = [
  'ours-memory register',
  'ours-memory discovery',
  'ours-memory token ES256',
  'ours-memory token RS256',
  'ours-memory introspect ES256',
  'ours-memory introspect RS256',
  'ours-memory code exchange RS256',
  'ours-memory code exchange ES256',
  'ours-memory refresh RS256',
  'ours-memory refresh ES256',
];

export interface Measured {
  readonly what: string;
  readonly connections: number;
  readonly rps: number;
  readonly failed: number;
}

/** The request table of a BENCHMARKS.md: operation, connections, req/s, failures. */
export function previousFigures(markdown: string): Measured[] {
  const figures: Measured[] = [];
  for (const line of markdown.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // | operation | conns | req/s | p50 / p99 | non-2xx | reference req/s | p50 / p99 | ratio |
    if (cells.length < 7 || !/^\d+$/.test(cells[2] ?? '') || !/^\d+$/.test(cells[3] ?? ''))
      continue;
    figures.push({
      what: cells[1] as string,
      connections: Number(cells[2]),
      rps: Number(cells[3]),
      failed: Number(cells[5] ?? 0),
    });
  }
  return figures;
}

export interface Comparison {
  readonly what: string;
  readonly connections: number;
  readonly before: number;
  readonly now: number;
  /** now ÷ before. */
  readonly ratio: number;
  readonly regressed: boolean;
}

/** Whether a BENCHMARKS.md's servers were pinned to a core (its header says), if it says. */
export function previousPinning(markdown: string): boolean | undefined {
  if (markdown.includes('- Cores: pinned')) return true;
  if (markdown.includes('- Cores: unpinned')) return false;
  return undefined;
}

/**
 * Each hot path measured in both runs (without failed requests), now against before: the same
 * operation at the same connection count, and only between runs set up alike (both pinned or
 * both unpinned: a pinned server has one core, an unpinned one shares two with its load).
 */
export function compareHotPaths(
  previous: readonly Measured[],
  current: readonly Measured[],
): Comparison[] {
  const comparisons: Comparison[] = [];
  for (const now of current) {
    if (!HOT_PATHS.includes(now.what) || now.failed > 0) continue;
    const before = previous.find(
      (p) => p.what === now.what && p.connections === now.connections && p.failed === 0,
    );
    if (!before || before.rps === 0) continue;
    const ratio = now.rps / before.rps;
    comparisons.push({
      what: now.what,
      connections: now.connections,
      before: before.rps,
      now: now.rps,
      ratio,
      regressed: ratio < 1 - REGRESSION_THRESHOLD,
    });
  }
  return comparisons;
}

const percent = (ratio: number) =>
  `${ratio >= 1 ? '+' : '−'}${Math.abs((ratio - 1) * 100).toFixed(0)} %`;

/**
 * The check's lines: a verdict naming every row more than 10 % slower, then one line per hot
 * path. Runs set up differently (pinned against unpinned) are not compared at all.
 */
export function regressionCheck(
  previousMarkdown: string,
  current: readonly Measured[],
  pinnedNow: boolean,
): string[] {
  const pinnedBefore = previousPinning(previousMarkdown);
  const setup = (pinned: boolean) => (pinned ? 'pinned' : 'unpinned');
  if (pinnedBefore !== undefined && pinnedBefore !== pinnedNow) {
    return [
      `regression check: not compared (the previous BENCHMARKS.md was ${setup(pinnedBefore)}, this run ${setup(pinnedNow)}: not like for like)`,
    ];
  }
  return regressionLines(
    compareHotPaths(previousFigures(previousMarkdown), current),
    `both ${setup(pinnedNow)}; meaningful on the same machine only`,
  );
}

/** The check's lines: the verdict naming each row more than 10 % slower, then every row. */
export function regressionLines(comparisons: readonly Comparison[], note: string): string[] {
  if (comparisons.length === 0) return [`regression check: nothing to compare (${note})`];
  const regressed = comparisons.filter((c) => c.regressed);
  const name = (c: Comparison) => `${c.what} @${c.connections}`;
  return [
    regressed.length === 0
      ? `regression check against the previous BENCHMARKS.md (${note}): no hot path more than ${REGRESSION_THRESHOLD * 100} % slower`
      : `regression check against the previous BENCHMARKS.md (${note}): ${regressed.length} hot path(s) more than ${REGRESSION_THRESHOLD * 100} % slower: ${regressed.map((c) => `${name(c)} (${percent(c.ratio)})`).join(', ')}`,
    ...comparisons.map(
      (c) =>
        `  ${c.regressed ? 'SLOWER' : 'ok    '} ${name(c)}: ${c.before} → ${c.now} req/s (${percent(c.ratio)})`,
    ),
  ];
}
