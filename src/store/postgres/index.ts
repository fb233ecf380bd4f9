import pg from 'pg';
import { FrontierKind as K, FrontierState as S } from '../frontier-state.ts';
import type { Store, StoreStats } from '../types.ts';
import { Db, TYPES } from './db.ts';
import { parsePostgresUrl } from './dsn.ts';
import { PgJobs } from './jobs.ts';
import { PgAudit, PgKeys } from './keys.ts';
import { runMigrations } from './migrate.ts';
import { PgPages, PgProxies } from './pages.ts';
import { LIVE } from './rows.ts';
import { PgSchedules } from './schedules.ts';
import { PgWebhooks } from './webhooks.ts';
import { PgFrontier } from './work.ts';

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
}

const STATS = `
  SELECT count(*)::int AS jobs, coalesce(sum(j.admitted - j.fetched - j.failed), 0)::int
    - (SELECT count(*)::int FROM frontier f JOIN jobs j2 ON j2.seq = f.job_seq WHERE f.state = ${S.leased} AND f.kind = ${K.page} AND j2.status IN ('queued', 'running')) AS depth
  FROM jobs j WHERE ${LIVE}`;

/** The pg pool settings for a store: the DSN's, this store's defaults, then the caller's `pool`. */
export function poolConfigFor(opts: PostgresStoreOptions): { config: pg.PoolConfig; transactionPooler: boolean; statementTimeoutMs: number } {
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
  return { config, transactionPooler, statementTimeoutMs };
}

/** The scale-out store: every worker process shares the frontier through one PostgreSQL database. Connects lazily. */
export function openPostgresStore(opts: PostgresStoreOptions): Store {
  const { config, transactionPooler, statementTimeoutMs } = poolConfigFor(opts);
  const db = new Db(new pg.Pool(config), { transactionPooler, statementTimeoutMs });
  return {
    backend: 'postgres',
    keys: new PgKeys(db),
    audit: new PgAudit(db),
    jobs: new PgJobs(db),
    frontier: new PgFrontier(db),
    pages: new PgPages(db),
    proxies: new PgProxies(db),
    schedules: new PgSchedules(db),
    webhooks: new PgWebhooks(db),
    migrate: () => runMigrations(db),
    ping: async () => {
      await db.query('SELECT 1');
    },
    stats: async (): Promise<StoreStats> => {
      const [row] = await db.query<{ jobs: number; depth: number }>(STATS);
      return { jobsInQueue: row!.jobs, queueDepth: row!.depth };
    },
    close: () => db.close(),
  };
}
