// A stand-in for one Lambda execution environment: a worker thread with the function's own
// environment variables, which loads the bundled handler once and answers invocations.
import { parentPort, workerData } from 'node:worker_threads';

const { handler } = await import(workerData.bundle);

parentPort.on('message', async ({ id, event, context }) => {
  try {
    const result = await handler(event, { ...context, getRemainingTimeInMillis: () => 10_000 });
    parentPort.postMessage({ id, result });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error?.stack ?? error) });
  }
});
parentPort.postMessage({ ready: true });
