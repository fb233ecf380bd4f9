import type { Store, StoreStats } from '../types.ts';
import { SqliteCore, type SqliteStoreOptions } from './core.ts';
import { SqliteJobs } from './jobs.ts';
import { SqliteAudit, SqliteKeys } from './keys.ts';
import { SqlitePages, SqliteProxies } from './pages.ts';
import { SqliteSchedules } from './schedules.ts';
import { SqliteWebhooks } from './webhooks.ts';
import { SqliteFrontier } from './work.ts';

export type { SqliteStoreOptions } from './core.ts';

/**
 * The embedded store: one process owns the file (it is opened with an exclusive lock; `owl serve`
 * guards its data folder with a lock file too), the frontier's leases and claim order live in that
 * process's memory (frontier.ts), and claims and settles are written in group commits.
 */
export function openSqliteStore(opts: SqliteStoreOptions): Store {
  const core = new SqliteCore(opts);
  const keys = new SqliteKeys(core);
  return {
    backend: 'sqlite',
    keys,
    audit: new SqliteAudit(core, keys),
    jobs: new SqliteJobs(core),
    frontier: new SqliteFrontier(core),
    pages: new SqlitePages(core),
    proxies: new SqliteProxies(core),
    schedules: new SqliteSchedules(core),
    webhooks: new SqliteWebhooks(core),
    migrate: () => core.run(() => core.migrate()),
    ping: () =>
      core.run(() => {
        core.db.prepare('SELECT 1').get();
      }),
    stats: () =>
      core.run((): StoreStats => {
        core.commitWaiting();
        const row = core.s.stats.get() as { jobs: number; depth: number };
        return { jobsInQueue: row.jobs, queueDepth: row.depth };
      }),
    close: () => core.run(() => core.close()),
  };
}
