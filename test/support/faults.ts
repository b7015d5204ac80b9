import type { MiddlewareStack } from '@smithy/types';
import { vi } from 'vitest';
import { logger } from '../../lambdas/log.js';

/**
 * Errors the AWS SDK surfaces once its own retries are spent (the name is what adapters look
 * at), and the failures that are not retried: a timeout, a conditional check lost to a race.
 */
export const AWS_FAULTS = {
  ProvisionedThroughputExceededException: { fault: 'client', status: 400 },
  ThrottlingException: { fault: 'client', status: 400 },
  RequestLimitExceeded: { fault: 'client', status: 400 },
  InternalServerError: { fault: 'server', status: 500 },
  ServiceUnavailable: { fault: 'server', status: 503 },
  TimeoutError: { fault: 'client', status: 0 },
  ConditionalCheckFailedException: { fault: 'client', status: 400 },
} as const;
export type AwsFault = keyof typeof AWS_FAULTS;

/** Put in every injected error's message: no log line and no response may ever carry it. */
export const FAULT_MESSAGE_MARKER = 'message-quoting-the-request';

/** An error shaped as the SDK throws it: name, $fault, $metadata, and a message. */
export const awsError = (name: AwsFault) =>
  Object.assign(new Error(`${name}: ${FAULT_MESSAGE_MARKER}`), {
    name,
    $fault: AWS_FAULTS[name].fault,
    $metadata: { httpStatusCode: AWS_FAULTS[name].status, attempts: 3 },
  });

interface Fault {
  readonly operation: string;
  readonly error: AwsFault;
  /** Only calls whose input mentions this (a key prefix such as `client#`, `grant#`). */
  readonly touching?: string;
  /** The call reaches the store and is applied, then fails (a timeout after the write). */
  readonly afterApplied: boolean;
  remaining: number;
}

/**
 * Fault injection in front of a real SDK client: middleware that makes the next N calls of one
 * operation (optionally only those touching a key prefix) fail with the given AWS error, before
 * or after the call reached the store. Added at the `initialize` step, so the SDK's own retries
 * (later in the stack) do not see it: what the adapters get is what a persistent fault gives
 * them once the SDK has given up.
 */
export class FaultInjector {
  private faults: Fault[] = [];
  /** `<operation> <error>` for every fault that fired, in order. */
  readonly fired: string[] = [];

  attach<I extends object, O extends object>(client: {
    middlewareStack: MiddlewareStack<I, O>;
  }): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = String(context.commandName ?? '').replace(/Command$/, '');
        const fault = this.take(operation, JSON.stringify(args.input));
        if (!fault) return next(args);
        if (fault.afterApplied) await next(args);
        this.fired.push(`${operation} ${fault.error}`);
        throw awsError(fault.error);
      },
      { step: 'initialize', name: 'faultInjection', priority: 'high' },
    );
  }

  /** The next `times` calls of `operation` (e.g. PutItem) fail with `error`. */
  fail(
    operation: string,
    error: AwsFault,
    options: { times?: number; touching?: string; afterApplied?: boolean } = {},
  ): this {
    this.faults.push({
      operation,
      error,
      remaining: options.times ?? 1,
      afterApplied: options.afterApplied ?? false,
      ...(options.touching !== undefined && { touching: options.touching }),
    });
    return this;
  }

  /** Every operation fails with `error` until cleared (a store that is down). */
  failAll(error: AwsFault): this {
    this.faults.push({
      operation: '*',
      error,
      remaining: Number.POSITIVE_INFINITY,
      afterApplied: false,
    });
    return this;
  }

  clear(): void {
    this.faults = [];
    this.fired.length = 0;
  }

  private take(operation: string, input: string): Fault | undefined {
    const fault = this.faults.find(
      (f) =>
        f.remaining > 0 &&
        (f.operation === '*' || f.operation === operation) &&
        (f.touching === undefined || input.includes(f.touching)),
    );
    if (fault) fault.remaining--;
    return fault;
  }
}

/**
 * What the logger writes while `run` runs, as structured calls (level, message, attributes):
 * the Powertools logger is silent in tests, so its methods are watched instead.
 */
export async function capturingLogs<T>(
  run: () => Promise<T>,
  /** The logger module's instance the code under test uses (a fresh one after resetModules). */
  target: Pick<typeof logger, 'debug' | 'info' | 'warn' | 'error' | 'critical'> = logger,
) {
  const lines: { level: string; message: string; attributes: unknown }[] = [];
  const levels = ['debug', 'info', 'warn', 'error', 'critical'] as const;
  const spies = levels.map((level) =>
    vi.spyOn(target, level).mockImplementation(((message: string, attributes?: unknown) => {
      lines.push({ level, message, attributes });
    }) as never),
  );
  try {
    return { result: await run(), lines };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}
