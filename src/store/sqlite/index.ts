import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { OwlError } from '../../errors.ts';
import type {
  ClaimOptions,
  FrontierEntry,
  Job,
  JobOptions,
  JobStatus,
  ListOptions,
  NewJob,
  Outcome,
  Page,
  ProxyHealth,
  SettleResult,
  Store,
  StoreStats,
} from '../types.ts';
import { claimEntries } from './claim.ts';
import { MemoryFrontier, type Lease, type QueuedEntry } from './frontier.ts';
import { returnLeases, type Core, type JobInfo } from './leases.ts';
import { runMigrations } from './migrations.ts';
import { isLive, toJob, toPage, toProxyHealth, type JobRow, type PageRow, type ProxyRow } from './rows.ts';
import { acceptOutcomes, recordChanges, type Change, type SettleReport } from './settle.ts';
import { prepareStatements, type Statements } from './statements.ts';

export interface SqliteStoreOptions {
  /** Database file (its folder is created) or ':memory:' for a private in-memory database. */
  path: string;
  /** How long a writer waits for another connection's write lock before failing with STORE_UNAVAILABLE. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** Page cache of this connection in MiB. Default 64. */
  cacheMiB?: number;
  /**
   * How long settled outcomes and claims may wait to be written together in one transaction
   * (group commit). Reads commit what waits first. Default 50 ms (20 ms and 150 ms both measured
   * slower on the crawl benchmark).
   */
  groupCommitMs?: number;
}

/** A group commit runs at once when this many outcomes wait. */
const GROUP_MAX_OUTCOMES = 512;
/** Claims are refused (STORE_UNAVAILABLE) while this many outcomes wait on a failing disk. */
const BACKLOG_LIMIT = 50_000;

/**
 * The embedded store: one better-sqlite3 connection that holds the file's lock for as long as it
 * is open (one process owns a SQLite store; `owl serve` guards its data folder with a lock file
 * too), WAL, every writer in a BEGIN IMMEDIATE transaction, leases and claim order in memory
 * (frontier.ts).
 */
export function openSqliteStore(opts: SqliteStoreOptions): Store {
  return new SqliteStore(opts);
}

const BUSY_CODES = new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED', 'SQLITE_CANTOPEN', 'SQLITE_IOERR']);

/** Lock contention and I/O trouble are the store being unavailable (retryable); anything else is a bug and propagates. */
function translate(e: unknown): unknown {
  if (e instanceof Database.SqliteError && [...BUSY_CODES].some((c) => e.code.startsWith(c))) {
    return new OwlError('STORE_UNAVAILABLE', `SQLite: ${e.message}`, { sqliteCode: e.code }, { cause: e });
  }
  if (e instanceof TypeError && /database connection is not open/i.test(e.message)) {
    return new OwlError('STORE_UNAVAILABLE', 'The SQLite store is closed', {}, { cause: e });
  }
  return e;
}

function hostnameOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch (e) {
    throw new OwlError('INVALID_URL', `Not an absolute URL: ${url}`, { url }, { cause: e });
  }
}

class SqliteStore implements Store, Core {
  readonly backend = 'sqlite' as const;
  readonly settleFreesSlotsAtOnce = true;
  private readonly db: Database.Database;
  private statements: Statements | undefined;
  private readonly jobInfoCache = new Map<number, JobInfo>();
  private memory: MemoryFrontier | undefined;
  /** Changes made in memory and not yet written, in order, with the settle() calls waiting for them. */
  private changes: Change[] = [];
  private waiting: Array<{ accepted: boolean[]; report: SettleReport; resolve: (r: SettleResult) => void; reject: (e: unknown) => void }> = [];
  private waitingOutcomes = 0;
  private waitingLinks = 0;
  private latestNow = 0;
  private commitTimer: NodeJS.Timeout | null = null;
  private commitFailures = 0;
  private readonly groupCommitMs: number;
  private readonly tx: {
    createJob: (job: NewJob, now: number) => JobRow;
    record: (changes: Change[], now: number) => void;
    end: (id: string, status: JobStatus, reason: string, now: number) => JobRow | undefined;
  };

  constructor(opts: SqliteStoreOptions) {
    const memory = opts.path === ':memory:' || opts.path === '';
    if (!memory) mkdirSync(path.dirname(path.resolve(opts.path)), { recursive: true });
    this.db = new Database(opts.path, { timeout: opts.busyTimeoutMs ?? 5000 });
    try {
      this.configure(memory, opts.cacheMiB ?? 64);
    } catch (e) {
      this.db.close();
      throw translate(e);
    }
    // Writers take the lock up front (BEGIN IMMEDIATE): a deferred transaction that upgrades to a writer can fail with SQLITE_BUSY at once.
    // The in-memory frontier journals its changes and undoes them when the transaction fails.
    const immediate = <A extends unknown[], R>(fn: (...args: A) => R): ((...args: A) => R) => {
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
    };
    this.groupCommitMs = opts.groupCommitMs ?? 50;
    this.tx = {
      createJob: immediate((job: NewJob, now: number) => this.insertJob(job, now)),
      record: immediate((changes: Change[], now: number) => recordChanges(this, changes, now)),
      end: immediate((id: string, status: JobStatus, reason: string, now: number) => this.endJob(id, status, reason, now)),
    };
  }

  /** Runs an in-memory change (no SQL transaction) so that it is undone when it throws halfway. */
  private inMemory<T>(fn: () => T): T {
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

  private queue(changes: Change[], now: number): void {
    if (changes.length === 0) return;
    this.changes.push(...changes);
    this.latestNow = Math.max(this.latestNow, now);
    // Nothing in flight means no outcome is coming soon to share the commit (a job may just have ended).
    if (this.waitingOutcomes >= GROUP_MAX_OUTCOMES || this.frontier.leaseCount === 0) this.commitWaiting();
    else this.commitTimer ??= setTimeout(() => this.commitInBackground(), this.groupCommitMs);
  }

  /**
   * Writes every waiting change in one transaction and answers the settle() calls it covers.
   * When it fails, the changes stay queued (memory is ahead of the table; a restart would fetch
   * those URLs again) and the commit is tried again with backoff; the error is thrown to the caller.
   */
  private commitWaiting(): void {
    if (this.commitTimer) clearTimeout(this.commitTimer);
    this.commitTimer = null;
    if (this.changes.length === 0) return;
    const changes = this.changes;
    const waiting = this.waiting;
    try {
      this.tx.record(changes, this.latestNow);
    } catch (e) {
      this.commitFailures += 1;
      this.commitTimer = setTimeout(() => this.commitInBackground(), Math.min(5_000, 50 * 2 ** Math.min(this.commitFailures, 7)));
      throw e;
    }
    this.commitFailures = 0;
    this.changes = [];
    this.waiting = [];
    this.waitingOutcomes = 0;
    this.waitingLinks = 0;
    for (const w of waiting) w.resolve({ accepted: w.accepted, enqueued: w.report.enqueued, finishedJobs: w.report.finishedJobs });
  }

  private commitInBackground(): void {
    try {
      this.commitWaiting();
    } catch {
      // Retried by the timer commitWaiting() set; readers and claims see the error meanwhile.
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
    // The default 2 MB page cache thrashes on a frontier of a few hundred thousand URLs (every miss is a read syscall).
    this.db.pragma(`cache_size = -${cacheMiB * 1024}`);
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
    this.db.transaction(() => {
      s.unleaseLiveJobs.run();
      s.unleaseEndedJobs.run();
      for (const entry of s.allWaiting.iterate() as IterableIterator<QueuedEntry>) frontier.admit(entry);
    }).immediate();
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

  private run<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(translate(e));
    }
  }

  migrate(): Promise<{ applied: number[]; version: number }> {
    return this.run(() => runMigrations(this.db));
  }

  ping(): Promise<void> {
    return this.run(() => {
      this.db.prepare('SELECT 1').get();
    });
  }

  /** Commits what waits, then closes; settle() calls still waiting when that fails are rejected. */
  close(): Promise<void> {
    if (!this.db.open) return Promise.resolve();
    let failure: unknown = null;
    try {
      this.commitWaiting();
    } catch (e) {
      failure = translate(e);
    }
    if (this.commitTimer) clearTimeout(this.commitTimer);
    this.commitTimer = null;
    for (const w of this.waiting) w.reject(failure ?? new OwlError('STORE_UNAVAILABLE', 'The SQLite store closed'));
    this.waiting = [];
    this.db.close();
    return Promise.resolve();
  }

  private insertJob(job: NewJob, now: number): JobRow {
    const { s } = this;
    const id = randomUUID();
    const o = job.options;
    const seq = Number(s.insertJob.run(id, o.mode, o.maxPages, o.maxDepth, JSON.stringify(o), job.source, now).lastInsertRowid);
    s.insertSeeds.run(seq, JSON.stringify(job.seeds));
    let admitted = 0;
    for (const url of job.seeds) {
      if (admitted >= o.maxPages) break;
      const host = hostnameOf(url);
      const info = s.insertEntry.run(seq, url, host, 0);
      if (info.changes === 0) continue;
      admitted++;
      this.frontier.admit({ id: Number(info.lastInsertRowid), jobSeq: seq, url, host, depth: 0, attempts: 0, notBefore: 0 });
    }
    s.addJobCounts.run(admitted, admitted, seq);
    return s.jobBySeq.get(seq) as JobRow;
  }

  private endJob(id: string, status: JobStatus, reason: string, now: number): JobRow | undefined {
    const { s } = this;
    const row = s.jobById.get(id) as JobRow | undefined;
    if (!row || !isLive(row.status)) return row;
    const hosts = s.hostsOfQueued.all(row.seq) as string[];
    s.dropQueued.run(row.seq);
    s.endJob.run(status, reason, now, row.seq);
    this.frontier.dropJob(row.seq, hosts);
    this.setLive(row.seq, false);
    return s.jobBySeq.get(row.seq) as JobRow;
  }

  createJob(job: NewJob, now: number = Date.now()): Promise<Job> {
    return this.run(() => {
      this.commitWaiting();
      return toJob(this.tx.createJob(job, now));
    });
  }

  getJob(id: string): Promise<Job | undefined> {
    return this.run(() => {
      this.commitWaiting();
      const row = this.s.jobById.get(id) as JobRow | undefined;
      return row && toJob(row);
    });
  }

  listJobs(opts: ListOptions & { status?: JobStatus }): Promise<Job[]> {
    return this.run(() => {
      this.commitWaiting();
      const { s } = this;
      const after = opts.after === undefined ? undefined : String(opts.after);
      let rows: unknown[];
      if (opts.status === undefined) rows = after === undefined ? s.listJobs.all(opts.limit) : s.listJobsAfter.all(after, opts.limit);
      else if (after === undefined) rows = s.listJobsByStatus.all(opts.status, opts.limit);
      else rows = s.listJobsByStatusAfter.all(opts.status, after, opts.limit);
      return (rows as JobRow[]).map(toJob);
    });
  }

  cancelJob(id: string, reason?: string, now: number = Date.now()): Promise<Job | undefined> {
    return this.run(() => {
      this.commitWaiting();
      const row = this.tx.end(id, 'cancelled', reason ?? 'cancelled', now);
      return row && toJob(row);
    });
  }

  failJob(id: string, reason: string, now: number = Date.now()): Promise<Job | undefined> {
    return this.run(() => {
      this.commitWaiting();
      const row = this.tx.end(id, 'failed', reason, now);
      return row && toJob(row);
    });
  }

  claim(opts: ClaimOptions): Promise<FrontierEntry[]> {
    return this.run(() => {
      if (this.waitingOutcomes > BACKLOG_LIMIT) this.commitWaiting();
      const now = opts.now ?? Date.now();
      let claimed = this.inMemory(() => claimEntries(this, opts, now));
      // Links admitted by settles still waiting for their commit are not claimable yet: commit now
      // rather than let a frontier that only has those go idle.
      if (claimed.entries.length === 0 && this.waitingLinks > 0) {
        this.commitWaiting();
        claimed = this.inMemory(() => claimEntries(this, opts, now));
      }
      this.queue(claimed.changes, now);
      return claimed.entries;
    });
  }

  /**
   * Frees the leases' host slots and puts retries back in line at once; writes the pages, states
   * and admitted links with the next group commit, and resolves then.
   */
  settle(outcomes: Outcome[], now: number = Date.now()): Promise<SettleResult> {
    let accepted: boolean[];
    let items: ReturnType<typeof acceptOutcomes>['items'];
    try {
      ({ accepted, items } = this.inMemory(() => acceptOutcomes(this, outcomes)));
    } catch (e) {
      return Promise.reject(translate(e));
    }
    if (items.length === 0) return Promise.resolve({ accepted, enqueued: 0, finishedJobs: [] });
    const report: SettleReport = { enqueued: 0, finishedJobs: [] };
    const settled = new Promise<SettleResult>((resolve, reject) => this.waiting.push({ accepted, report, resolve, reject }));
    this.waitingOutcomes += items.length;
    for (const item of items) if (item.kind === 'done') this.waitingLinks += item.discovered.length;
    try {
      this.queue([{ kind: 'settled', items, report }], now);
    } catch {
      // The group commit failed; it is retried, and this settle resolves when it succeeds.
    }
    return settled;
  }

  extendLeases(entries: Pick<FrontierEntry, 'id' | 'leaseToken'>[], leaseMs: number, now: number = Date.now()): Promise<void> {
    return this.run(() => {
      const { frontier } = this;
      for (const e of entries) frontier.extend(e.id, e.leaseToken, now + leaseMs);
    });
  }

  releaseLeases(workerId: string): Promise<number> {
    return this.run(() => this.returnNow(this.frontier.leasesOf(workerId), Date.now()));
  }

  requeueExpired(now: number = Date.now()): Promise<number> {
    return this.run(() => this.returnNow(this.frontier.expired(now), now));
  }

  private returnNow(leases: Lease[], now: number): number {
    const change = this.inMemory(() => returnLeases(this, leases));
    if (change) this.queue([change], now);
    return leases.length;
  }

  deferHost(host: string, until: number): Promise<void> {
    return this.run(() => this.frontier.defer(host, until));
  }

  listPages(jobId: string, opts: ListOptions): Promise<Page[]> {
    return this.run(() => {
      this.commitWaiting();
      const after = opts.after === undefined ? 0 : Number(opts.after);
      return (this.s.listPages.all(jobId, after, opts.limit) as PageRow[]).map((row) => toPage(row, jobId));
    });
  }

  recordProxyHealth(h: ProxyHealth): Promise<void> {
    return this.run(() => {
      this.s.upsertProxy.run(h.proxy, h.failures, h.cooldownUntil, h.lastError);
    });
  }

  listProxyHealth(): Promise<ProxyHealth[]> {
    return this.run(() => (this.s.listProxies.all() as ProxyRow[]).map(toProxyHealth));
  }

  stats(): Promise<StoreStats> {
    return this.run(() => {
      this.commitWaiting();
      const row = this.s.stats.get() as { jobs: number; depth: number };
      return { jobsInQueue: row.jobs, queueDepth: row.depth };
    });
  }
}
