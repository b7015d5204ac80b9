import { pbkdf2 } from 'node:crypto';

/**
 * Whether `work` settles before any of the jobs that fill libuv's thread pool (twice its size
 * in key derivations, each some milliseconds) calls back: work done inline does, work handed to
 * the pool waits its turn behind them.
 */
export async function settlesBeforeThreadPoolWork(work: () => Promise<unknown>): Promise<boolean> {
  const size = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  let poolCalledBack = false;
  const jobs = Array.from(
    { length: 2 * size },
    () =>
      new Promise<void>((resolve) =>
        pbkdf2('password', 'salt', 20_000, 32, 'sha256', () => {
          poolCalledBack = true;
          resolve();
        }),
      ),
  );
  await work();
  const first = !poolCalledBack;
  await Promise.all(jobs);
  return first;
}
