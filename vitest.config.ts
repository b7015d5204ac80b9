import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import Interleaved from './test/support/sequencer.js';

export default defineConfig({
  test: {
    env: {
      // Every log line and audit event is produced, captured and checked for secrets
      // (test/support/secret-hygiene.ts), not printed.
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_METRICS_DISABLED: 'true',
      DCR_AUDIT_LOG: 'stdout',
    },
    setupFiles: ['test/support/secret-hygiene.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    // One test file more than there are cores (vitest's default is one fewer: a single file at a
    // time on two cores). Most files wait on sockets, child processes, Chromium or a clock, so a
    // core would idle while one waits; each file keeps its own process, servers and ports.
    maxWorkers: availableParallelism() + 1,
    sequence: { sequencer: Interleaved },
    testTimeout: 30_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'local',
          include: ['test/**/*.test.ts'],
          exclude: ['test/stack/**'],
          globalSetup: ['test/support/tls-global-setup.ts'],
        },
      },
      {
        // The synthesized stack: bundled handlers from cdk.out behind an API Gateway stand-in.
        extends: true,
        test: {
          name: 'stack',
          include: ['test/e2e/**/*.test.ts', 'test/stack/**/*.test.ts'],
          env: { DCR_TEST_TARGET: 'stack' },
          globalSetup: ['test/support/tls-global-setup.ts', 'test/support/stack-global-setup.ts'],
        },
      },
    ],
  },
});
