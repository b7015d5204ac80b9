import { OAuthError, temporarilyUnavailable } from '../core/errors.js';

/** AWS error names that mean "slow down or try again", not "your request is wrong". */
const RETRYABLE = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'InternalServerError',
  'InternalServerException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'KMSInternalException',
  'DependencyTimeoutException',
  'TimeoutError',
]);

interface AwsErrorShape {
  name?: string;
  code?: string;
  $fault?: string;
}

/**
 * Maps a throttling, server-side or network failure of an AWS call to a 503 with Retry-After,
 * so the client retries; anything else is returned unchanged (a bug: the router logs a 500).
 */
function asServiceError(error: unknown, service: string): unknown {
  if (error instanceof OAuthError || typeof error !== 'object' || error === null) return error;
  const { name, code, $fault } = error as AwsErrorShape;
  const networkFailure = code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT';
  if ((name && RETRYABLE.has(name)) || $fault === 'server' || networkFailure) {
    // The name only: an AWS message can quote the request (keys, values).
    const errorName = name ?? code ?? 'unknown';
    return temporarilyUnavailable(`${service} is busy; retry shortly`, {
      fault: { service, errorName },
    });
  }
  return error;
}

const isConditionalCheckFailure = (error: unknown): boolean =>
  (error as AwsErrorShape | undefined)?.name === 'ConditionalCheckFailedException';

/** Awaits an AWS call, turning throttling and service failures into a 503 with Retry-After. */
export async function callAws<T>(operation: Promise<T>, service: string): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    throw asServiceError(error, service);
  }
}

/**
 * A conditional write: `{ output }` when it was applied, undefined when its condition did not
 * hold (an expected outcome — already there, already gone, changed meanwhile), never an error.
 */
export async function callAwsIfCondition<T>(
  operation: Promise<T>,
  service: string,
): Promise<{ output: T } | undefined> {
  try {
    return { output: await callAws(operation, service) };
  } catch (error) {
    if (isConditionalCheckFailure(error)) return undefined;
    throw error;
  }
}
