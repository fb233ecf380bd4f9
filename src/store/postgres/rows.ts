import { FrontierKind as K, FrontierState as S } from '../frontier-state.ts';
import type { Job, JobOptions, JobStatus } from '../types.ts';
import { isLive } from '../rows.ts';

export { isLive, toPage, toPageWithContent, toProxyHealth, type PageContentRow, type PageRow, type ProxyRow } from '../rows.ts';

/** SQL for "the job is live" on a jobs row aliased `j`. */
export const LIVE = `j.status IN ('queued', 'running')`;

/** Columns of a job row, with its leased URLs counted from the small partial index of leased entries. */
export const JOB_COLUMNS = `j.seq, j.id, j.status, j.seeds, j.options, j.source, j.created_at, j.started_at, j.finished_at, j.reason,
  j.admitted, j.fetched, j.failed, j.sitemaps, j.key_id,
  (SELECT count(*) FROM frontier f WHERE f.job_seq = j.seq AND f.state = ${S.leased} AND f.kind = ${K.page}) AS leased`;

export interface JobRow {
  seq: number;
  id: string;
  status: JobStatus;
  seeds: string[];
  options: JobOptions;
  source: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  reason: string | null;
  admitted: number;
  fetched: number;
  failed: number;
  sitemaps: number;
  leased: number;
  key_id: string | null;
}

export function toJob(row: JobRow): Job {
  const queued = isLive(row.status) ? row.admitted - row.fetched - row.failed - row.leased : 0;
  return {
    id: row.id,
    status: row.status,
    seeds: row.seeds,
    options: row.options,
    source: row.source,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    reason: row.reason,
    counts: { admitted: row.admitted, queued, inFlight: row.leased, fetched: row.fetched, failed: row.failed, sitemaps: row.sitemaps },
    keyId: row.key_id ?? null,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Job ids are uuid columns: anything else is simply unknown (PostgreSQL would reject the cast). */
export function isUuid(id: string): boolean {
  return UUID.test(id);
}
