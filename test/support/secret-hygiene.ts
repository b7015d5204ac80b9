import { afterAll, expect, vi } from 'vitest';
import { findLeaks, type IssuedSecret, secretsInResponse } from './secret-leaks.js';

/**
 * Secret hygiene (docs/testing.md), for every test file of the suite (a vitest setup file): the logs
 * (Powertools JSON lines, at DEBUG in the tests) and the audit events (JSON lines locally; the
 * EventBridge stand-in prints the stack's) are captured instead of printed, every secret the
 * server hands out is recorded (each `newSecret()` drawn in this process, and what responses
 * fetched here carry: client secrets, registration and initial access tokens, access, refresh
 * and upstream tokens, codes, cookies), and after the file none may appear in any line.
 */
const issued: IssuedSecret[] = [];
const captured: string[] = [];
const pending: Promise<void>[] = [];

vi.mock('../../lambdas/core/secrets.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../lambdas/core/secrets.js')>();
  return {
    ...original,
    newSecret: () => {
      const secret = original.newSecret();
      issued.push({ kind: 'newSecret()', value: secret });
      return secret;
    },
  };
});

/** A structured line of ours: a Powertools log record or an audit event. */
const isStructured = (line: string) =>
  line.startsWith('{"audit":') ||
  (line.startsWith('{') && line.includes('"service":"serverless-dcr"'));

for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString();
    const lines = text.split('\n');
    const kept = lines.filter((line) => {
      if (!isStructured(line)) return true;
      captured.push(line);
      return false;
    });
    if (kept.length === lines.length) return write(chunk, ...rest);
    const rest_ = kept.join('\n');
    if (rest_.trim() !== '') return write(rest_, ...rest);
    // Nothing left to print: still honour a write callback.
    const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof stream.write;
}

const originalFetch = globalThis.fetch;
globalThis.fetch = async (...args: Parameters<typeof fetch>) => {
  const response = await originalFetch(...args);
  pending.push(
    secretsInResponse(response).then((found) => {
      issued.push(...found);
    }),
  );
  return response;
};

/** What this file's check has seen so far (the check's own test reads it). */
export const hygieneSeen = async () => {
  await Promise.allSettled(pending);
  return { issued: [...issued], captured: [...captured] };
};

afterAll(async () => {
  await Promise.allSettled(pending);
  const leaks = findLeaks(issued, captured);
  expect(leaks, 'secrets in log lines or audit events').toEqual([]);
});

/**
 * The audit events printed so far (the local server's JSON lines, the stack's EventBridge
 * stand-in's): what an operator's audit consumer would receive, on either target.
 */
export const auditEvents = async (): Promise<Record<string, unknown>[]> =>
  (await hygieneSeen()).captured
    .filter((line) => line.startsWith('{"audit":'))
    .map((line) => (JSON.parse(line) as { audit: Record<string, unknown> }).audit);
