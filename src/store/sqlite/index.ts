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
import { settleOutcomes } from './settle.ts';
import { prepareStatements, type Statements } from './statements.ts';

export interface SqliteStoreOptions {
  /** Database file (its folder is created) or ':memory:' for a private in-memory database. */
  path: string;
  /** How long a writer waits for another connection's write lock before failing with STORE_UNAVAILABLE. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** Page cache of this connection in MiB. Default 64. */
  cacheMiB?: number;
}

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
  private readonly db: Database.Database;
  private statements: Statements | undefined;
  private readonly jobInfoCache = new Map<number, JobInfo>();
  private memory: MemoryFrontier | undefined;
  private readonly tx: {
    createJob: (job: NewJob, now: number) => JobRow;
    claim: (opts: ClaimOptions, now: number) => FrontierEntry[];
    settle: (outcomes: Outcome[], now: number) => SettleResult;
    settleAndClaim: (outcomes: Outcome[], opts: ClaimOptions, now: number) => { settled: SettleResult; entries: FrontierEntry[] };
    end: (id: string, status: JobStatus, reason: string, now: number) => JobRow | undefined;
    returnLeases: (which: () => Lease[]) => number;
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
    this.tx = {
      createJob: immediate((job: NewJob, now: number) => this.insertJob(job, now)),
      claim: immediate((o: ClaimOptions, now: number) => claimEntries(this, o, now)),
      settle: immediate((outcomes: Outcome[], now: number) => settleOutcomes(this, outcomes, now)),
      settleAndClaim: immediate((outcomes: Outcome[], o: ClaimOptions, now: number) => ({
        settled: settleOutcomes(this, outcomes, now),
        entries: claimEntries(this, o, now),
      })),
      end: immediate((id: string, status: JobStatus, reason: string, now: number) => this.endJob(id, status, reason, now)),
      returnLeases: immediate((which: () => Lease[]) => {
        const leases = which();
        returnLeases(this, leases);
        return leases.length;
      }),
    };
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

  close(): Promise<void> {
    if (this.db.open) this.db.close();
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
    return this.run(() => toJob(this.tx.createJob(job, now)));
  }

  getJob(id: string): Promise<Job | undefined> {
    return this.run(() => {
      const row = this.s.jobById.get(id) as JobRow | undefined;
      return row && toJob(row);
    });
  }

  listJobs(opts: ListOptions & { status?: JobStatus }): Promise<Job[]> {
    return this.run(() => {
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
      const row = this.tx.end(id, 'cancelled', reason ?? 'cancelled', now);
      return row && toJob(row);
    });
  }

  failJob(id: string, reason: string, now: number = Date.now()): Promise<Job | undefined> {
    return this.run(() => {
      const row = this.tx.end(id, 'failed', reason, now);
      return row && toJob(row);
    });
  }

  claim(opts: ClaimOptions): Promise<FrontierEntry[]> {
    return this.run(() => this.tx.claim(opts, opts.now ?? Date.now()));
  }

  settle(outcomes: Outcome[], now: number = Date.now()): Promise<SettleResult> {
    return this.run(() => (outcomes.length === 0 ? { accepted: [], enqueued: 0, finishedJobs: [] } : this.tx.settle(outcomes, now)));
  }

  settleAndClaim(outcomes: Outcome[], opts: ClaimOptions, now: number = Date.now()): Promise<{ settled: SettleResult; entries: FrontierEntry[] }> {
    return this.run(() => this.tx.settleAndClaim(outcomes, opts, now));
  }

  extendLeases(entries: Pick<FrontierEntry, 'id' | 'leaseToken'>[], leaseMs: number, now: number = Date.now()): Promise<void> {
    return this.run(() => {
      const { frontier } = this;
      for (const e of entries) frontier.extend(e.id, e.leaseToken, now + leaseMs);
    });
  }

  releaseLeases(workerId: string): Promise<number> {
    return this.run(() => this.tx.returnLeases(() => this.frontier.leasesOf(workerId)));
  }

  requeueExpired(now: number = Date.now()): Promise<number> {
    return this.run(() => this.tx.returnLeases(() => this.frontier.expired(now)));
  }

  deferHost(host: string, until: number): Promise<void> {
    return this.run(() => this.frontier.defer(host, until));
  }

  listPages(jobId: string, opts: ListOptions): Promise<Page[]> {
    return this.run(() => {
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
      const row = this.s.stats.get() as { jobs: number; depth: number };
      return { jobsInQueue: row.jobs, queueDepth: row.depth };
    });
  }
}
