import type { Job, JobOptions, JobStatus, Page, ProxyHealth } from '../types.ts';

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
}

/** The columns settle reads and rewrites. */
export type CountedJobRow = Pick<
  JobRow,
  'seq' | 'id' | 'status' | 'max_pages' | 'max_depth' | 'reason' | 'finished_at' | 'admitted' | 'queued' | 'in_flight' | 'fetched' | 'failed'
>;

export interface PageRow {
  id: number;
  url: string;
  final_url: string | null;
  status_code: number | null;
  title: string | null;
  bytes: number;
  fetch_ms: number;
  error_code: string | null;
  content_type: string | null;
  mode: 'http' | 'browser';
  links_found: number;
  depth: number;
  fetched_at: number;
}

export interface ProxyRow {
  proxy: string;
  failures: number;
  cooldown_until: number;
  last_error: string | null;
}

export function isLive(status: JobStatus): boolean {
  return status === 'queued' || status === 'running';
}

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
    counts: { admitted: row.admitted, queued: row.queued, inFlight: row.in_flight, fetched: row.fetched, failed: row.failed },
  };
}

export function toPage(row: PageRow, jobId: string): Page {
  return {
    id: row.id,
    jobId,
    url: row.url,
    finalUrl: row.final_url,
    statusCode: row.status_code,
    title: row.title,
    bytes: row.bytes,
    fetchMs: row.fetch_ms,
    errorCode: row.error_code,
    contentType: row.content_type,
    mode: row.mode,
    linksFound: row.links_found,
    depth: row.depth,
    fetchedAt: row.fetched_at,
  };
}

export function toProxyHealth(row: ProxyRow): ProxyHealth {
  return { proxy: row.proxy, failures: row.failures, cooldownUntil: row.cooldown_until, lastError: row.last_error };
}
