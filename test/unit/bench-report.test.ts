import { describe, expect, it } from 'vitest';
import {
  ACCESS_LOG_BYTES,
  CUSTOM_METRIC_MONTH,
  CUSTOM_METRICS,
  costLines,
  DYNAMODB_READ_UNIT,
  DYNAMODB_WRITE_UNIT,
  HTTP_API_REQUEST,
  KMS_KEY_MONTH,
  KMS_OTHER_ASYMMETRIC_REQUEST,
  KMS_RSA_2048_REQUEST,
  LOG_BYTES_PER_INVOCATION,
  LOGS_INGESTED_GB,
  mcpMonth,
  operationCost,
  SECRET_MONTH,
} from '../../bench/cost-model.js';
import {
  compareHotPaths,
  previousFigures,
  regressionCheck,
  regressionLines,
} from '../../bench/regression.js';

// What `npm run bench` adds to BENCHMARKS.md besides the figures: the check against the previous
// run, and the cost model over the counted AWS calls.

const PREVIOUS = `# Benchmarks

- Cores: pinned with taskset: each server on core 0

| operation | conns | req/s | p50 / p99 ms | non-2xx | oidc-provider req/s | p50 / p99 ms | ratio |
|---|---|---|---|---|---|---|---|
| ours-memory register | 10 | 9945 | 0 / 3 | 0 | 4401 | 1 / 6 | 2.26× |
| ours-memory register | 50 | 10439 | 4 / 8 | 0 | 4729 | 9 / 22 | 2.21× |
| ours-memory token RS256 | 10 | 4420 | 2 / 5 | 0 | 2730 | 3 / 8 | 1.62× |
| ours-memory refresh RS256 | 10 | 3778 | 2 / 6 | 3 | 2239 | 4 / 10 | 1.69× |
| ours-embedded register | 10 | 866 | 11 / 21 | 0 | 4401 | 1 / 6 | 0.20× |
`;

describe('the regression check', () => {
  it('reads the request table of a previous BENCHMARKS.md', () => {
    expect(previousFigures(PREVIOUS)).toEqual([
      { what: 'ours-memory register', connections: 10, rps: 9945, failed: 0 },
      { what: 'ours-memory register', connections: 50, rps: 10439, failed: 0 },
      { what: 'ours-memory token RS256', connections: 10, rps: 4420, failed: 0 },
      { what: 'ours-memory refresh RS256', connections: 10, rps: 3778, failed: 3 },
      { what: 'ours-embedded register', connections: 10, rps: 866, failed: 0 },
    ]);
  });

  it('flags a hot path more than 10 % slower, and only that', () => {
    const comparisons = compareHotPaths(previousFigures(PREVIOUS), [
      { what: 'ours-memory register', connections: 10, rps: 8900, failed: 0 }, // 0.89x
      { what: 'ours-memory register', connections: 50, rps: 9500, failed: 0 }, // 0.91x
      { what: 'ours-memory token RS256', connections: 10, rps: 5000, failed: 0 },
      // Not compared: failures before, not a hot path, or failures now.
      { what: 'ours-memory refresh RS256', connections: 10, rps: 100, failed: 0 },
      { what: 'ours-embedded register', connections: 10, rps: 100, failed: 0 },
    ]);
    expect(comparisons.map((c) => [c.what, c.connections, c.regressed])).toEqual([
      ['ours-memory register', 10, true],
      ['ours-memory register', 50, false],
      ['ours-memory token RS256', 10, false],
    ]);
    const lines = regressionLines(comparisons, 'both pinned');
    // The verdict names the row that regressed, and by how much.
    expect(lines[0]).toMatch(
      /1 hot path\(s\) more than 10 % slower: ours-memory register @10 \(−11 %\)$/,
    );
    expect(lines[1]).toMatch(/^ {2}SLOWER ours-memory register @10: 9945 → 8900 req\/s \(−11 %\)/);
    expect(lines[2]).toMatch(/^ {2}ok +ours-memory register @50: 10439 → 9500 req\/s \(−9 %\)/);
  });

  it('compares pinned with pinned only: an unpinned run is not held against a pinned one', () => {
    const now = [{ what: 'ours-memory register', connections: 10, rps: 2000, failed: 0 }];
    expect(regressionCheck(PREVIOUS, now, false)).toEqual([
      'regression check: not compared (the previous BENCHMARKS.md was pinned, this run unpinned: not like for like)',
    ]);
    const unpinned = PREVIOUS.replace('- Cores: pinned', '- Cores: unpinned');
    expect(regressionCheck(unpinned, now, true)[0]).toContain('not compared');
    const pinned = regressionCheck(PREVIOUS, now, true);
    expect(pinned[0]).toContain('(both pinned; meaningful on the same machine only)');
    expect(pinned[0]).toContain('ours-memory register @10 (−80 %)');
  });
});

describe('the cost model', () => {
  const refresh = {
    operation: 'refresh',
    calls: {
      'token dynamodb:GetItem': 2,
      'token dynamodb:UpdateItem': 1,
      'token kms:Sign': 1,
    },
  };

  it('prices the counted calls per million operations', () => {
    const { perMillion } = operationCost(refresh, { signing: 'kms', alg: 'RS256' });
    expect(perMillion.api).toBeCloseTo(HTTP_API_REQUEST * 1e6);
    expect(perMillion.dynamodb).toBeCloseTo((2 * DYNAMODB_READ_UNIT + DYNAMODB_WRITE_UNIT) * 1e6);
    expect(perMillion.kms).toBeCloseTo(KMS_RSA_2048_REQUEST * 1e6);
    // The logs every request ingests: the access log line and one function's lines.
    expect(perMillion.logs).toBeCloseTo(
      ((ACCESS_LOG_BYTES + LOG_BYTES_PER_INVOCATION) / 2 ** 30) * LOGS_INGESTED_GB * 1e6,
    );
    expect(perMillion.total).toBeCloseTo(
      perMillion.api +
        perMillion.lambda +
        perMillion.dynamodb +
        perMillion.kms +
        perMillion.events +
        perMillion.logs,
    );
  });

  it('prices the list prices checked against the pricing pages', () => {
    // DynamoDB on demand after the cut of 2024-11-01; HTTP API first tier; RSA 2048 at the
    // symmetric rate, other asymmetric keys at $0.15 per 10,000.
    expect([DYNAMODB_WRITE_UNIT * 1e6, DYNAMODB_READ_UNIT * 1e6]).toEqual([0.625, 0.125]);
    expect(HTTP_API_REQUEST * 1e6).toBe(1);
    expect(KMS_RSA_2048_REQUEST * 1e4).toBeCloseTo(0.03);
    expect(KMS_OTHER_ASYMMETRIC_REQUEST * 1e4).toBeCloseTo(0.15);
  });

  it("counts the month's fixed costs: a KMS key, the cookie key's secret, the custom metrics", () => {
    const cost = operationCost(refresh, { signing: 'kms', alg: 'RS256' });
    const month = mcpMonth({ registration: cost, codeExchange: cost, refresh: cost }, 'kms');
    expect(month.fixed).toBeCloseTo(
      KMS_KEY_MONTH + SECRET_MONTH + CUSTOM_METRICS * CUSTOM_METRIC_MONTH,
    );
  });

  it('prices ES256 signatures at the asymmetric rate, and the wrapped mode without KMS per token', () => {
    const es256 = operationCost(refresh, { signing: 'kms', alg: 'ES256' }).perMillion;
    expect(es256.kms).toBeCloseTo(KMS_OTHER_ASYMMETRIC_REQUEST * 1e6);
    const wrapped = operationCost(refresh, { signing: 'wrapped', alg: 'RS256' }).perMillion;
    expect(wrapped.kms).toBe(0);
    expect(wrapped.total).toBeLessThan(
      operationCost(refresh, { signing: 'kms', alg: 'RS256' }).perMillion.total,
    );
  });

  it('writes the table and the MCP month, or says the calls were not counted', () => {
    expect(costLines([])).toEqual(['(not computed: the `aws` part did not run)']);
    const lines = costLines([
      {
        operation: 'registration (open)',
        calls: { 'register dynamodb:PutItem': 1, 'audit events:PutEvents': 1 },
      },
      {
        operation: 'client_credentials token',
        calls: { 'token dynamodb:GetItem': 1, 'token kms:Sign': 1 },
      },
      {
        operation: 'code exchange',
        calls: {
          'token dynamodb:GetItem': 1,
          'token dynamodb:UpdateItem': 2,
          'token dynamodb:PutItem': 1,
          'token kms:Sign': 1,
        },
      },
      refresh,
    ]).join('\n');
    expect(lines).toContain('| client_credentials token, wrapped |');
    expect(lines).toMatch(/10,000 users .* 7,200,000 refreshes/);
    expect(lines).toMatch(/- kms: .* a month\n- wrapped: .* a month/);
  });
});
