import type { Job, JobOptions, JobStatus } from '../types.ts';

export { isLive, toPage, toPageWithContent, toProxyHealth, type PageContentRow, type PageRow, type ProxyRow } from '../rows.ts';

export interface JobRow {
  seq: number;
  id: string;
  status: JobStatus;
  mode: string;
  max_pages: number;
  max_depth: number;
  seeds: string;
  options: string;
  source: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  reason: string | null;
  admitted: number;
  queued: number;
  in_flight: number;
  fetched: number;
  failed: number;
  /** Sitemap entries waiting or leased. */
  sitemaps: number;
  key_id: string | null;
}

/** The columns settle reads and rewrites. */
export type CountedJobRow = Pick<
  JobRow,
  'seq' | 'id' | 'status' | 'max_pages' | 'max_depth' | 'reason' | 'started_at' | 'finished_at' | 'admitted' | 'queued' | 'in_flight' | 'fetched' | 'failed' | 'sitemaps'
> & {
  /** Sitemap entries the job ever admitted (read when a settle first admits one). */
  sitemaps_admitted?: number;
};

export function toJob(row: JobRow): Job {
  return {
    id: row.id,
    status: row.status,
    seeds: JSON.parse(row.seeds) as string[],
    options: JSON.parse(row.options) as JobOptions,
    source: row.source,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    reason: row.reason,
    counts: { admitted: row.admitted, queued: row.queued, inFlight: row.in_flight, fetched: row.fetched, failed: row.failed, sitemaps: row.sitemaps },
    keyId: row.key_id ?? null,
  };
}
