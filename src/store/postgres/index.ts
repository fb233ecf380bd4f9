import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { OwlError } from '../../errors.ts';
import type {
  ClaimOptions,
  FrontierEntry,
  Job,
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
import { claimEntries, leaseIn, toEntries } from './claim.ts';
import { Db, HOT_TX, TYPES } from './db.ts';
import { parsePostgresUrl } from './dsn.ts';
import { extendLeases, requeueIn, requeueLeases } from './leases.ts';
import { runMigrations } from './migrate.ts';
import { isLive, isUuid, JOB_COLUMNS, LIVE, toJob, toPage, toProxyHealth, type JobRow, type PageRow, type ProxyRow } from './rows.ts';
import { settleIn, settleOutcomes } from './settle.ts';

export { parsePostgresUrl } from './dsn.ts';

export interface PostgresStoreOptions {
  /** libpq-style URL, e.g. `postgres://owl:secret@db:5432/owl?sslmode=require` (see parsePostgresUrl). */
  url: string;
  /** Connections in this process's pool. Default 10. */
  poolSize?: number;
  /** Server-side limit on one statement. Default 30000 ms. */
  statementTimeoutMs?: number;
  /** How long to wait for a connection before failing with STORE_UNAVAILABLE. Default 5000 ms (the DSN's connect_timeout wins). */
  connectTimeoutMs?: number;
  /** Extra pg pool settings (tests use `options: '-c search_path=…'`); they win over the DSN's. */
  pool?: pg.PoolConfig;
  /**
   * Offer `Store.settleAndClaim` (settle and claim in one transaction; the worker loop uses it when
   * present). Default false here; `owl` turns it on (src/store/open.ts). With it, a worker that
   * holds all of a host's slots tends to re-claim them in the same transaction that frees them
   * (per-host limits still hold; only which worker gets the host changes). It once exposed a
   * crawler bug — links of outcomes refused as stale were never offered again — since fixed in
   * src/worker (the batcher reports refused outcomes and the worker withdraws their links).
   */
  settleAndClaim?: boolean;
}

/** The scale-out store: every worker process shares the frontier through one PostgreSQL database. Connects lazily. */
export function openPostgresStore(opts: PostgresStoreOptions): Store {
  return new PostgresStore(opts);
}

function hostnameOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch (e) {
    throw new OwlError('INVALID_URL', `Not an absolute URL: ${url}`, { url }, { cause: e });
  }
}

const REQUEUE_EVERY_MS = 250;

const STATS = `
  SELECT count(*)::int AS jobs, coalesce(sum(j.admitted - j.fetched - j.failed), 0)::int
    - (SELECT count(*)::int FROM frontier f JOIN jobs j2 ON j2.seq = f.job_seq WHERE f.state = 1 AND j2.status IN ('queued', 'running')) AS depth
  FROM jobs j WHERE ${LIVE}`;

class PostgresStore implements Store {
  readonly backend = 'postgres' as const;
  private readonly db: Db;
  private lastRequeueAt = Number.NEGATIVE_INFINITY;
  /** Present only when the option asks for it: callers test for the method itself. */
  readonly settleAndClaim?: Store['settleAndClaim'];

  constructor(opts: PostgresStoreOptions) {
    const { transactionPooler, sslmode: _sslmode, ...fromUrl } = parsePostgresUrl(opts.url);
    const statementTimeoutMs = opts.statementTimeoutMs ?? 30_000;
    const config: pg.PoolConfig = {
      connectionTimeoutMillis: 5_000,
      ...fromUrl,
      max: opts.poolSize ?? 10,
      types: TYPES,
      keepAlive: true,
      ...opts.pool,
    };
    if (opts.connectTimeoutMs !== undefined) config.connectionTimeoutMillis = opts.connectTimeoutMs;
    // A transaction pooler rejects or ignores startup settings; there the limit is SET LOCAL per transaction and a client-side read timeout.
    if (transactionPooler) config.query_timeout = statementTimeoutMs + 5_000;
    else config.statement_timeout = statementTimeoutMs;
    this.db = new Db(new pg.Pool(config), { transactionPooler, statementTimeoutMs });
    if (opts.settleAndClaim) this.settleAndClaim = (outcomes, claimOpts, now) => this.settleThenClaim(outcomes, claimOpts, now);
  }

  migrate(): Promise<{ applied: number[]; version: number }> {
    return runMigrations(this.db);
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  close(): Promise<void> {
    return this.db.close();
  }

  async createJob(job: NewJob, now: number = Date.now()): Promise<Job> {
    const o = job.options;
    const seeds = [...new Set(job.seeds)].slice(0, Math.max(0, o.maxPages));
    const hosts = seeds.map(hostnameOf);
    const id = randomUUID();
    const row = await this.db.tx(async (q) => {
      const [{ seq }] = (await q<{ seq: number }>(
        `INSERT INTO jobs (id, status, mode, max_pages, max_depth, seeds, options, source, created_at)
         VALUES ($1, 'queued', $2, $3, $4, $5, $6, $7, $8) RETURNING seq`,
        [id, o.mode, o.maxPages, o.maxDepth, job.seeds, JSON.stringify(o), job.source, now],
      )) as [{ seq: number }];
      await q(
        `WITH ins AS (
           INSERT INTO frontier (job_seq, url, host, depth)
           SELECT $1, s.url, s.host, 0 FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS s(url, host, n) ORDER BY s.n
           ON CONFLICT DO NOTHING RETURNING id, host
         ), touched AS (
           INSERT INTO hosts AS h (host, head_id) SELECT host, min(id) FROM ins GROUP BY host ORDER BY host
           ON CONFLICT (host) DO UPDATE SET head_id = least(h.head_id, excluded.head_id)
         )
         UPDATE jobs SET admitted = (SELECT count(*) FROM ins) WHERE seq = $1`,
        [seq, seeds, hosts],
      );
      return (await q<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs j WHERE j.seq = $1`, [seq]))[0]!;
    });
    return toJob(row);
  }

  async getJob(id: string): Promise<Job | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs j WHERE j.id = $1`, [id]);
    return row && toJob(row);
  }

  async listJobs(opts: ListOptions & { status?: JobStatus }): Promise<Job[]> {
    const after = opts.after === undefined ? undefined : String(opts.after);
    if (after !== undefined && !isUuid(after)) return [];
    const rows = await this.db.query<JobRow>(
      `SELECT ${JOB_COLUMNS} FROM jobs j
       WHERE ($1::text IS NULL OR j.status = $1) AND ($2::uuid IS NULL OR j.seq < (SELECT seq FROM jobs WHERE id = $2))
       ORDER BY j.seq DESC LIMIT $3`,
      [opts.status ?? null, after ?? null, opts.limit],
    );
    return rows.map(toJob);
  }

  cancelJob(id: string, reason?: string, now: number = Date.now()): Promise<Job | undefined> {
    return this.endJob(id, 'cancelled', reason ?? 'cancelled', now);
  }

  failJob(id: string, reason: string, now: number = Date.now()): Promise<Job | undefined> {
    return this.endJob(id, 'failed', reason, now);
  }

  /** Ends a live job: its waiting URLs are dropped and the hosts' oldest waiting entries recomputed (lock order jobs → frontier → hosts). */
  private async endJob(id: string, status: JobStatus, reason: string, now: number): Promise<Job | undefined> {
    if (!isUuid(id)) return undefined;
    const row = await this.db.tx(async (q) => {
      const [job] = await q<{ seq: number; status: JobStatus }>('SELECT seq, status FROM jobs WHERE id = $1 FOR UPDATE', [id]);
      if (!job) return undefined;
      if (isLive(job.status)) {
        await q('UPDATE jobs SET status = $2, reason = $3, finished_at = $4 WHERE seq = $1', [job.seq, status, reason, now]);
        const dropped = await q<{ host: string }>(
          `WITH d AS (
             SELECT f.id FROM frontier f WHERE f.job_seq = $1 AND f.state = 0 ORDER BY f.id FOR UPDATE
           ), u AS (UPDATE frontier f SET state = 4 FROM d WHERE f.id = d.id RETURNING f.host)
           SELECT DISTINCT host FROM u ORDER BY host`,
          [job.seq],
        );
        if (dropped.length > 0) {
          const hosts = dropped.map((d) => d.host);
          await q('SELECT 1 FROM hosts WHERE host = ANY ($1::text[]) ORDER BY host FOR UPDATE', [hosts]);
          await q(
            `UPDATE hosts h SET head_id = (
               SELECT f.id FROM frontier f JOIN jobs j ON j.seq = f.job_seq
               WHERE f.host = h.host AND f.state = 0 AND ${LIVE} ORDER BY f.id LIMIT 1)
             WHERE h.host = ANY ($1::text[])`,
            [hosts],
          );
        }
      }
      return (await q<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs j WHERE j.seq = $1`, [job.seq]))[0];
    });
    return row && toJob(row);
  }

  /**
   * On the wall clock, expired leases are looked for at most every REQUEUE_EVERY_MS per handle (a
   * lease is at least 1 s long): one round trip less on most claims. A caller-given clock always looks.
   */
  private requeueDue(explicitNow: boolean, now: number): boolean {
    if (explicitNow) return true;
    const due = now - this.lastRequeueAt >= REQUEUE_EVERY_MS || now < this.lastRequeueAt;
    if (due) this.lastRequeueAt = now;
    return due;
  }

  claim(opts: ClaimOptions): Promise<FrontierEntry[]> {
    const now = opts.now ?? Date.now();
    return claimEntries(this.db, opts, now, this.requeueDue(opts.now !== undefined, now));
  }

  async settle(outcomes: Outcome[], now: number = Date.now()): Promise<SettleResult> {
    if (outcomes.length === 0) return { accepted: [], enqueued: 0, finishedJobs: [] };
    return settleOutcomes(this.db, outcomes, now);
  }

  /**
   * Settle, then claim, in one transaction: one BEGIN/COMMIT pair per worker loop turn instead of
   * two, with the same semantics as settle() then claim(). Expired leases are returned between the
   * two (as claim() does first), so an outcome whose lease expired but was not yet returned is still
   * accepted, exactly as settle() would. The claim part takes locks only with SKIP LOCKED; returning
   * expired leases may wait for host rows and, with several jobs settling at once, join a deadlock,
   * which PostgreSQL breaks and Db.tx retries (only while expired leases exist: crashed workers).
   */
  private async settleThenClaim(outcomes: Outcome[], opts: ClaimOptions, now: number = Date.now()): Promise<{ settled: SettleResult; entries: FrontierEntry[] }> {
    const claimNow = opts.now ?? now;
    const requeue = opts.limit > 0 && this.requeueDue(opts.now !== undefined, claimNow);
    const { settled, rows } = await this.db.tx(async (q) => {
      const settledHere = await settleIn(q, outcomes, now);
      if (requeue) await requeueIn(q, { expiredAt: claimNow });
      return { settled: settledHere, rows: await leaseIn(q, opts, claimNow) };
    }, HOT_TX);
    return { settled, entries: await toEntries(this.db, rows, opts, claimNow) };
  }

  extendLeases(entries: Pick<FrontierEntry, 'id' | 'leaseToken'>[], leaseMs: number, now: number = Date.now()): Promise<void> {
    return extendLeases(this.db, entries, now + leaseMs);
  }

  releaseLeases(workerId: string): Promise<number> {
    return requeueLeases(this.db, { workerId });
  }

  requeueExpired(now: number = Date.now()): Promise<number> {
    return requeueLeases(this.db, { expiredAt: now });
  }

  async deferHost(host: string, until: number): Promise<void> {
    await this.db.query(
      `INSERT INTO hosts AS h (host, next_fetch_at) VALUES ($1, $2)
       ON CONFLICT (host) DO UPDATE SET next_fetch_at = greatest(h.next_fetch_at, excluded.next_fetch_at)`,
      [host, until],
    );
  }

  async listPages(jobId: string, opts: ListOptions): Promise<Page[]> {
    if (!isUuid(jobId)) return [];
    const after = opts.after === undefined ? 0 : Number(opts.after);
    const rows = await this.db.query<PageRow>(
      `SELECT id, url, final_url, status_code, title, bytes, fetch_ms, error_code, content_type, mode, links_found, depth, fetched_at
       FROM pages WHERE job_seq = (SELECT seq FROM jobs WHERE id = $1) AND id > $2 ORDER BY id LIMIT $3`,
      [jobId, after, opts.limit],
    );
    return rows.map((r) => toPage(r, jobId));
  }

  async recordProxyHealth(h: ProxyHealth): Promise<void> {
    await this.db.query(
      `INSERT INTO proxy_health (proxy, failures, cooldown_until, last_error) VALUES ($1, $2, $3, $4)
       ON CONFLICT (proxy) DO UPDATE SET failures = excluded.failures, cooldown_until = excluded.cooldown_until, last_error = excluded.last_error`,
      [h.proxy, h.failures, h.cooldownUntil, h.lastError],
    );
  }

  async listProxyHealth(): Promise<ProxyHealth[]> {
    return (await this.db.query<ProxyRow>('SELECT proxy, failures, cooldown_until, last_error FROM proxy_health ORDER BY proxy')).map(toProxyHealth);
  }

  async stats(): Promise<StoreStats> {
    const [row] = await this.db.query<{ jobs: number; depth: number }>(STATS);
    return { jobsInQueue: row!.jobs, queueDepth: row!.depth };
  }
}
