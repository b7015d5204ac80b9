import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { logger } from '../lambdas/log.js';

/**
 * The LevelDB database beneath dynalite (classic-level), as much of it as this server drives:
 * dynalite's callback wrappers of its reads and writes, the iterators its queries and scans
 * use, and what classic-level itself offers (open, close, compactRange, and the private
 * writers that take the `sync` option).
 */
export interface LevelDatabase {
  readonly status: string;
  open(): Promise<void>;
  close(): Promise<void>;
  compactRange(start: string, end: string): Promise<void>;
  put(key: string, value: unknown, callback: Callback): void;
  get(key: string, callback: Callback): void;
  del(key: string, callback: Callback): void;
  batch(operations: unknown[], callback: Callback): void;
  keys(options?: object): LevelIterator;
  values(options?: object): LevelIterator;
  _put(key: unknown, value: unknown, options: object): Promise<void>;
  _del(key: unknown, options: object): Promise<void>;
  _batch(operations: unknown[], options: object): Promise<void>;
  _open(options: object): Promise<void>;
}
type Callback = (error: Error | null, value?: unknown) => void;
interface LevelIterator {
  next(): Promise<unknown>;
  close?(): Promise<void>;
  return?(): Promise<void>;
}

/** Written at a clean stop, removed at start: its absence at start means the last stop was not. */
const CLEAN_STOP = 'clean-stop';
/** How soon a store that failed is opened again, and again while it keeps failing. */
const REOPEN_MS = 1000;
/** Compaction runs once writes have paused this long (and after every cleanup sweep). */
const IDLE_COMPACTION_MS = 60_000;

/**
 * An acknowledged write reaches the disk before it is acknowledged (fsync through LevelDB's
 * `sync` option) unless `syncWrites` is off: then a power cut or an OS crash (not a killed
 * process) may lose the last seconds of writes.
 */
export function syncEveryWrite(db: LevelDatabase): void {
  const { _put, _del, _batch } = db;
  db._put = (key, value, options) => _put.call(db, key, value, { ...options, sync: true });
  db._del = (key, options) => _del.call(db, key, { ...options, sync: true });
  db._batch = (operations, options) => _batch.call(db, operations, { ...options, sync: true });
}

/** What an operator reads when the store cannot be opened: the folder, the cause, what to do. */
function openFailure(folder: string, error: Error): Error {
  const cause = (error.cause ?? error) as Error & { code?: string };
  if (cause.code === 'LEVEL_LOCKED') {
    return new Error(
      `the data folder ${folder} is in use by another server (its store's lock, ${join(folder, 'LOCK')}, is held); stop that one first`,
    );
  }
  return damaged(folder, cause.message);
}

function damaged(folder: string, why: string): Error {
  return new Error(
    `the store in ${folder} is damaged (${why}). To recover: stop every server using it, copy the folder aside (cp -a), then either restore a backup of it, or run \`npm run store:repair -- ${folder}\` (LevelDB's repair: keeps every whole record, drops the damaged ones) and start again`,
  );
}

/** LevelDB's log format: 32 KiB blocks of records, each with a 7-byte header. */
const BLOCK = 32768;
const HEADER = 7;
const FULL = 1;
const FIRST = 2;
const MIDDLE = 3;
const LAST = 4;

/**
 * Why a write-ahead log of the store is damaged, or undefined. LevelDB treats a log that ends
 * inside a record as a writer that died mid-write and silently drops that record; with synced
 * writes that only happens to a write never acknowledged, but a file cut short by a power cut
 * (unsynced writes), a full disk or a copy that stopped early drops acknowledged ones: refuse
 * to open it rather than lose them unseen.
 */
export function logDamage(folder: string): string | undefined {
  for (const name of readdirSync(folder).filter((file) => file.endsWith('.log'))) {
    const log = readFileSync(join(folder, name));
    let at = 0;
    let inRecord = false;
    while (at < log.length) {
      const left = BLOCK - (at % BLOCK);
      if (left < HEADER) {
        at += left; // the block's zero-filled trailer
        continue;
      }
      if (at + HEADER > log.length) return `${name} ends inside a record header`;
      const length = log.readUInt16LE(at + 4);
      const type = log[at + 6] as number;
      if (log.subarray(at).every((byte) => byte === 0)) {
        return `${name} ends in ${log.length - at} zero bytes`;
      }
      if (type < FULL || type > LAST || HEADER + length > left) {
        return `${name} has a malformed record at byte ${at}`;
      }
      if (at + HEADER + length > log.length) return `${name} ends inside a record`;
      if ((type === FULL || type === FIRST) === inRecord) {
        return `${name} has a broken record at byte ${at}`;
      }
      inRecord = type === FIRST || type === MIDDLE;
      at += HEADER + length;
    }
    if (inRecord) return `${name} ends inside a record`;
  }
  return undefined;
}

/** The logs' sizes: they change while another server writes them. */
const logSizes = (folder: string) =>
  readdirSync(folder, { withFileTypes: true })
    .filter((entry) => entry.name.endsWith('.log'))
    .map((entry) => `${entry.name}:${readFileSync(join(folder, entry.name)).length}`)
    .join();

/**
 * Checks the store in `folder` before anything opens it (LevelDB replays the log into a table
 * on open, and so forgets where it ended): a log cut short, or a store without its CURRENT
 * file, stop the start with a message naming the folder and the recovery steps. A log that
 * grows meanwhile is another server's, mid-write: opening will then say the folder is in use.
 * Says whether there is a store yet.
 */
export async function checkStore(folder: string): Promise<{ fresh: boolean }> {
  const files = readdirSync(folder);
  if (!files.includes('CURRENT')) {
    if (files.some((file) => /\.(log|ldb|sst)$|^MANIFEST-/.test(file))) {
      throw damaged(folder, 'its CURRENT file is missing');
    }
    return { fresh: true };
  }
  const damage = logDamage(folder);
  if (damage !== undefined) {
    const sizes = logSizes(folder);
    await sleep(200);
    if (logSizes(folder) === sizes) throw damaged(folder, damage);
  }
  return { fresh: false };
}

/**
 * Opens the store under LevelDB's own lock (an fcntl lock on its LOCK file, which the kernel
 * releases when the process dies, however it dies): a second server is refused, a dead one's
 * never blocks. Files LevelDB cannot read stop the start with a message naming the folder and
 * the recovery steps. Says whether the previous stop was clean.
 */
export async function openLevel(
  db: LevelDatabase,
  folder: string,
  fresh: boolean,
): Promise<{ previousStopClean: boolean }> {
  try {
    await db.open();
  } catch (error) {
    throw openFailure(folder, error as Error);
  }
  const marker = join(folder, CLEAN_STOP);
  const previousStopClean = fresh || existsSync(marker);
  rmSync(marker, { force: true });
  return { previousStopClean };
}

/** After the store closed with nothing lost on the way: the next start need not recount. */
export function markCleanStop(folder: string): void {
  writeFileSync(join(folder, CLEAN_STOP), '');
}

/** What dynalite answers for an operation the store could not do: a retryable DynamoDB 500. */
function unavailable(): Error {
  return Object.assign(new Error('the embedded store is unavailable'), {
    statusCode: 500,
    body: {
      __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
      message: 'the local store cannot be read or written at the moment; retry shortly',
    },
  });
}

/**
 * Keeps a failing disk (full, read-only, gone) from crashing the server: dynalite rethrows any
 * storage error it gets, out of a callback, which ends the process. Every storage error becomes
 * a retryable DynamoDB error instead (the adapters answer 503 `temporarily_unavailable` with
 * Retry-After), the store is closed and opened again until it opens (LevelDB stops writing
 * after a failed sync until then), and meanwhile every operation fails at once. One log line
 * when an episode starts, one when a write succeeds again. A write that failed was never
 * acknowledged; every one that was is on disk already.
 */
export class GuardedLevel {
  /** Operations fail at once: the store is being reopened. */
  private failing = false;
  /** Since the first failure, until a write succeeds again. */
  private episode: { readonly since: number } | undefined;
  private everFailed = false;
  private reopening: Promise<void> | undefined;
  private closed = false;
  private readonly idle: NodeJS.Timeout;
  /** Writes since the last compaction (true at start: what the last run left is compacted too). */
  private written = true;

  constructor(
    private readonly db: LevelDatabase,
    private readonly folder: string,
  ) {
    this.idle = setTimeout(() => void this.compact('idle'), IDLE_COMPACTION_MS).unref();
    this.wrap('put', true);
    this.wrap('del', true);
    this.wrap('batch', true);
    this.wrap('get', false);
    this.wrapIterator('keys');
    this.wrapIterator('values');
  }

  /** Whether any episode happened: a clean stop after one still recounts at the next start. */
  get troubled(): boolean {
    return this.everFailed;
  }

  private wrap(method: 'put' | 'get' | 'del' | 'batch', write: boolean): void {
    const inner = this.db[method] as (...args: unknown[]) => void;
    (this.db as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      const callback = args.pop() as Callback;
      if (this.failing) return setImmediate(callback, unavailable());
      inner.call(this.db, ...args, (error: Error | null, value?: unknown) => {
        if (error && isStorageFault(error)) return callback(this.fault(error));
        if (!error && write) this.wroteOk();
        callback(error, value);
      });
    };
  }

  /** dynalite's queries and scans read through these iterators. */
  private wrapIterator(method: 'keys' | 'values'): void {
    const inner = this.db[method];
    this.db[method] = (options) => {
      if (this.failing) return { next: () => Promise.reject(unavailable()) };
      let iterator: LevelIterator;
      const close = () => iterator.close?.().catch(() => {}) ?? Promise.resolve();
      try {
        iterator = inner.call(this.db, options);
      } catch (error) {
        const fault = this.fault(error as Error);
        return { next: () => Promise.reject(fault) };
      }
      return {
        // Closed at their end, and when dynalite's stream stops early (it calls `return`,
        // which LevelDB's iterators lack): an iterator left open pins the files it read, and
        // compaction could never delete them.
        next: () =>
          iterator.next().then(
            (value) => (value === undefined ? close().then(() => value) : value),
            (error: Error) => close().then(() => Promise.reject(this.fault(error))),
          ),
        return: close,
      };
    };
  }

  private fault(error: Error): Error {
    if (this.closed) return unavailable();
    this.failing = true;
    this.everFailed = true;
    if (this.episode === undefined) {
      this.episode = { since: Date.now() };
      const { code } = error as Error & { code?: string };
      logger.error('store unavailable: answering 503 until it can be written again', {
        folder: this.folder,
        code,
        reason: error.message,
      });
    }
    this.reopening ??= this.reopen().finally(() => {
      this.reopening = undefined;
    });
    return unavailable();
  }

  private async reopen(): Promise<void> {
    while (!this.closed) {
      try {
        // LevelDB's own close: dynalite's replacement closes its store for good.
        if (this.db.status === 'open') await Object.getPrototypeOf(this.db).close.call(this.db);
        await this.db.open();
        this.failing = false;
        return;
      } catch {
        await sleep(REOPEN_MS);
      }
    }
  }

  private wroteOk(): void {
    this.written = true;
    this.idle.refresh();
    if (this.episode === undefined) return;
    logger.info('store available again', {
      folder: this.folder,
      unavailableSeconds: Math.round((Date.now() - this.episode.since) / 1000),
    });
    this.episode = undefined;
  }

  /**
   * Rewrites LevelDB's files without what deletes and overwrites left behind, so the folder's
   * size follows the live data. After each cleanup sweep, and once writes pause.
   */
  async compact(why: 'idle' | 'cleanup'): Promise<void> {
    if (this.failing || this.closed || !this.written) return;
    this.written = false;
    try {
      await this.db.compactRange('', '\uffff');
    } catch (error) {
      logger.warn('store compaction failed', { folder: this.folder, why, error: error as Error });
    }
  }

  /** Stops reopening and compacting: the store is being closed for good. */
  async stop(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idle);
    await this.reopening;
  }
}

/** Errors of the storage itself; not dynalite's own (a value it cannot decode, a missing key). */
function isStorageFault(error: Error): boolean {
  const { code, statusCode } = error as Error & { code?: string; statusCode?: number };
  return (
    statusCode === undefined && code !== 'LEVEL_DECODE_ERROR' && error.name !== 'NotFoundError'
  );
}
