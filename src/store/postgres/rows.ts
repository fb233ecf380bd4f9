import type { Job, JobOptions, JobStatus, Page, ProxyHealth } from '../types.ts';

/** SQL for "the job is live" on a jobs row aliased `j`. */
export const LIVE = `j.status IN ('queued', 'running')`;

/** Columns of a job row, with its leased URLs counted from the small partial index of leased entries. */
export const JOB_COLUMNS = `j.seq, j.id, j.status, j.seeds, j.options, j.source, j.created_at, j.started_at, j.finished_at, j.reason,
  j.admitted, j.fetched, j.failed,
  (SELECT count(*) FROM frontier f WHERE f.job_seq = j.seq AND f.state = 1) AS leased`;

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
  leased: number;
}

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

/** A live job's waiting URLs are what was admitted and is neither finished nor leased; a finished job waits for nothing. */
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
    counts: { admitted: row.admitted, queued, inFlight: row.leased, fetched: row.fetched, failed: row.failed },
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Job ids are uuid columns: anything else is simply unknown (PostgreSQL would reject the cast). */
export function isUuid(id: string): boolean {
  return UUID.test(id);
}
