import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { OwlError } from '../../errors.ts';
import type { JobOptions, JobStatus, SettleResult } from '../types.ts';
import { MemoryFrontier, type QueuedEntry } from './frontier.ts';
import type { Core, JobInfo } from './leases.ts';
import { runMigrations } from './migrations.ts';
import { isLive } from './rows.ts';
import { recordChanges, type Change, type SettleReport } from './settle.ts';
import { prepareStatements, type Statements } from './statements.ts';

export interface SqliteStoreOptions {
  /** Database file (its folder is created) or ':memory:' for a private in-memory database. */
  path: string;
  /** How long a writer waits for another connection's write lock before failing with STORE_UNAVAILABLE. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** Page cache of this connection in MiB. Default 32. */
  cacheMiB?: number;
  /**
   * How long settled outcomes and claims may wait to be written together in one transaction
   * (group commit). Reads commit what waits first. Default 50 ms (20 ms and 150 ms both measured
   * slower on the crawl benchmark).
   */
  groupCommitMs?: number;
  /** Called with the error each time a group commit fails (it is retried with backoff). */
  onCommitFailure?: (err: unknown) => void;
}

/** A group commit runs at once when this many outcomes wait. */
const GROUP_MAX_OUTCOMES = 512;
/** Claims are refused (STORE_UNAVAILABLE) while this many outcomes wait on a failing disk. */
export const BACKLOG_LIMIT = 50_000;

const BUSY_CODES = ['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED', 'SQLITE_CANTOPEN', 'SQLITE_IOERR', 'SQLITE_FULL'];

/** Lock contention and I/O trouble are the store being unavailable (retryable); anything else is a bug and propagates. */
export function translate(e: unknown): unknown {
  if (e instanceof Database.SqliteError && BUSY_CODES.some((c) => e.code.startsWith(c))) {
    return new OwlError('STORE_UNAVAILABLE', `SQLite: ${e.message}`, { sqliteCode: e.code }, { cause: e });
  }
  if (e instanceof TypeError && /database connection is not open/i.test(e.message)) {
    return new OwlError('STORE_UNAVAILABLE', 'The SQLite store is closed', {}, { cause: e });
  }
  return e;
}

interface Waiter {
  accepted: boolean[];
  report: SettleReport;
  resolve: (r: SettleResult) => void;
  reject: (e: unknown) => void;
}

/**
 * The embedded store's shared machinery: one better-sqlite3 connection that holds the file's lock
 * for as long as it is open (one process owns a SQLite store), WAL, every writer in a BEGIN
 * IMMEDIATE transaction, the in-memory frontier (frontier.ts) and the group commit that writes
 * claims and settles together. The facets (jobs, frontier, pages, proxies) are built on it.
 */
export class SqliteCore implements Core {
  readonly db: Database.Database;
  private statements: Statements | undefined;
  private readonly jobInfoCache = new Map<number, JobInfo>();
  private memory: MemoryFrontier | undefined;
  /** Changes made in memory and not yet written, in order, with the settle() calls waiting for them. */
  private changes: Change[] = [];
  private waiting: Waiter[] = [];
  private waitingOutcomes = 0;
  private pendingLinks = 0;
  private latestNow = 0;
  private commitTimer: NodeJS.Timeout | null = null;
  private commitFailures = 0;
  private readonly groupCommitMs: number;
  private readonly onCommitFailure: (err: unknown) => void;
  private readonly recordTx: (changes: Change[], now: number) => void;

  constructor(opts: SqliteStoreOptions) {
    const memory = opts.path === ':memory:' || opts.path === '';
    if (!memory) mkdirSync(path.dirname(path.resolve(opts.path)), { recursive: true });
    this.db = new Database(opts.path, { timeout: opts.busyTimeoutMs ?? 5000 });
    try {
      this.configure(memory, opts.cacheMiB ?? 32);
    } catch (e) {
      this.db.close();
      throw translate(e);
    }
    this.groupCommitMs = opts.groupCommitMs ?? 50;
    this.onCommitFailure = opts.onCommitFailure ?? (() => {});
    this.recordTx = this.immediate((changes: Change[], now: number) => recordChanges(this, changes, now));
  }

  /**
   * A write transaction that takes the lock up front (BEGIN IMMEDIATE: a deferred transaction that
   * upgrades to a writer can fail with SQLITE_BUSY at once). The in-memory frontier journals its
   * changes and undoes them when the transaction fails.
   */
  immediate<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
    const t = this.db.transaction(fn);
    return (...args: A) => {
      const frontier = this.frontier;
      frontier.begin();
      try {
        const result = t.immediate(...args);
        frontier.commit();
        return result;
      } catch (e) {
        frontier.rollback();
        this.jobInfoCache.clear();
        throw e;
      }
    };
  }

  /** Runs an in-memory change (no SQL transaction) so that it is undone when it throws halfway. */
  inMemory<T>(fn: () => T): T {
    const frontier = this.frontier;
    frontier.begin();
    try {
      const result = fn();
      frontier.commit();
      return result;
    } catch (e) {
      frontier.rollback();
      throw e;
    }
  }

  /** Runs a synchronous store call as a promise, with SQLite errors translated. */
  run<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(translate(e));
    }
  }

  private configure(memory: boolean, cacheMiB: number): void {
    if (!memory) {
      // The lock is taken here and held until close: a second connection (another process) gets
      // STORE_UNAVAILABLE instead of a frontier that does not know this one's leases. It also
      // skips the per-transaction file locks and the shared-memory WAL index.
      this.db.pragma('locking_mode = EXCLUSIVE');
      this.db.pragma('journal_mode = WAL');
      // Checkpoints (which fsync) every 32 MB of WAL instead of 4 MB: a busy frontier rewrites the same index pages many times over.
      this.db.pragma('wal_autocheckpoint = 8000');
    }
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('temp_store = MEMORY');
    // The default 2 MB page cache thrashes on a frontier of a few hundred thousand URLs (every miss is
    // a read syscall). 32 MB holds the hot end of every table and most of a 200,000-URL job's unique
    // index; beyond that, misses are reads from the OS page cache (64 MB cost a 200,000-page crawl
    // 32 MB more RSS for no measurable speed).
    this.db.pragma(`cache_size = -${cacheMiB * 1024}`);
  }

  migrate(): { applied: number[]; version: number } {
    return runMigrations(this.db);
  }

  /** Prepared on first use: the tables exist only after migrate(). */
  get s(): Statements {
    this.statements ??= prepareStatements(this.db);
    return this.statements;
  }

  /**
   * The in-memory frontier, built on first use from the table: no lease outlives the process that
   * held it, so every URL that was not settled waits again, and the jobs' in-flight counts return
   * to their queues.
   */
  get frontier(): MemoryFrontier {
    if (this.memory) return this.memory;
    const { s } = this;
    const frontier = new MemoryFrontier((host, after, limit) => s.waitingAfter.all(host, after, limit) as QueuedEntry[]);
    this.db
      .transaction(() => {
        s.unleaseLiveJobs.run();
        s.unleaseEndedJobs.run();
        for (const entry of s.allWaiting.iterate() as IterableIterator<QueuedEntry>) frontier.admit(entry);
      })
      .immediate();
    this.memory = frontier;
    return frontier;
  }

  jobInfo(seq: number): JobInfo {
    let info = this.jobInfoCache.get(seq);
    if (!info) {
      const row = this.s.jobInfo.get(seq) as { id: string; options: string; mode: JobInfo['mode']; status: JobStatus };
      info = { id: row.id, options: JSON.parse(row.options) as JobOptions, mode: row.mode, live: isLive(row.status) };
      this.jobInfoCache.set(seq, info);
    }
    return info;
  }

  setLive(seq: number, live: boolean): void {
    const info = this.jobInfo(seq);
    const before = info.live;
    info.live = live;
    this.frontier.record(() => {
      info.live = before;
    });
  }

  get backlog(): number {
    return this.waitingOutcomes;
  }

  /** Links admitted by settles still waiting for their commit (not claimable until then). */
  get linksAwaitingCommit(): number {
    return this.pendingLinks;
  }

  /**
   * Queues changes for the next group commit; a settle's `waiter` resolves when they are written.
   * Never throws: a commit that fails is retried with backoff.
   */
  queue(changes: Change[], now: number, settled?: { waiter: Waiter; outcomes: number; links: number }): void {
    if (settled) {
      this.waiting.push(settled.waiter);
      this.waitingOutcomes += settled.outcomes;
      this.pendingLinks += settled.links;
      this.commitTimer?.ref();
    }
    if (changes.length === 0) return;
    this.changes.push(...changes);
    this.latestNow = Math.max(this.latestNow, now);
    // Nothing in flight means no outcome is coming soon to share the commit (a job may just have ended).
    if (this.waitingOutcomes >= GROUP_MAX_OUTCOMES || this.frontier.leaseCount === 0) this.commitInBackground();
    else this.commitTimer ??= this.holdWhileAwaited(setTimeout(() => this.commitInBackground(), this.groupCommitMs));
  }

  /**
   * A commit timer keeps the process alive only while settle() callers wait for it (their writes
   * must happen before exit); one that would only write claims does not.
   */
  private holdWhileAwaited(timer: NodeJS.Timeout): NodeJS.Timeout {
    return this.waiting.length > 0 ? timer.ref() : timer.unref();
  }

  /**
   * Writes every waiting change in one transaction and answers the settle() calls it covers.
   * When it fails, the changes stay queued (memory is ahead of the table; a restart would fetch
   * those URLs again) and the commit is tried again with backoff; the error is thrown to the caller.
   */
  commitWaiting(): void {
    if (this.commitTimer) clearTimeout(this.commitTimer);
    this.commitTimer = null;
    if (this.changes.length === 0) return;
    const changes = this.changes;
    const waiting = this.waiting;
    try {
      this.recordTx(changes, this.latestNow);
    } catch (e) {
      this.commitFailures += 1;
      this.onCommitFailure(e);
      this.commitTimer = this.holdWhileAwaited(setTimeout(() => this.commitInBackground(), Math.min(5_000, 50 * 2 ** Math.min(this.commitFailures, 7))));
      throw translate(e);
    }
    this.commitFailures = 0;
    this.changes = [];
    this.waiting = [];
    this.waitingOutcomes = 0;
    this.pendingLinks = 0;
    for (const w of waiting) w.resolve({ accepted: w.accepted, enqueued: w.report.enqueued, finishedJobs: w.report.finishedJobs });
  }

  private commitInBackground(): void {
    try {
      this.commitWaiting();
    } catch {
      // Reported through onCommitFailure and retried by the timer commitWaiting() set.
    }
  }

  /** Commits what waits, then closes; settles still waiting when that fails are rejected. */
  close(): void {
    if (!this.db.open) return;
    let failure: unknown = null;
    try {
      this.commitWaiting();
    } catch (e) {
      failure = e;
    }
    if (this.commitTimer) clearTimeout(this.commitTimer);
    this.commitTimer = null;
    for (const w of this.waiting) w.reject(failure ?? new OwlError('STORE_UNAVAILABLE', 'The SQLite store closed'));
    this.waiting = [];
    this.db.close();
  }
}

export type { Waiter };
