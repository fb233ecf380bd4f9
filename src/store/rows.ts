/** Row shapes and mappings both stores share (the column names are the same in both schemas). */
import type { JobStatus, Page, ProxyHealth } from './types.ts';

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
