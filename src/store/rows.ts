/** Row shapes and mappings both stores share (the column names are the same in both schemas). */
import { OwlError } from '../errors.ts';
import type { AttemptResult, Delivery, DeliveryStatus, JobStatus, Page, PageChange, PageWithContent, ProxyHealth, RecentPage } from './types.ts';

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
  content_hash: string | null;
  lastmod: number | null;
  change: PageChange | null;
  previous_page_id: number | null;
}

/** A page row read with its content (BLOB in SQLite, bytea in PostgreSQL). */
export interface PageContentRow extends PageRow {
  content: Uint8Array | null;
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
    contentHash: row.content_hash,
    lastmod: row.lastmod,
    change: row.change,
    previousPageId: row.previous_page_id,
  };
}

export function toPageWithContent(row: PageContentRow, jobId: string): PageWithContent {
  return { ...toPage(row, jobId), content: row.content };
}

export function toProxyHealth(row: ProxyRow): ProxyHealth {
  return { proxy: row.proxy, failures: row.failures, cooldownUntil: row.cooldown_until, lastError: row.last_error };
}

/** The host name of a seed URL (the frontier is keyed by it); INVALID_URL when it is not absolute. */
export function hostnameOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch (e) {
    throw new OwlError('INVALID_URL', `Not an absolute URL: ${url}`, { url }, { cause: e });
  }
}

/** A row of `pages.recent` as both stores read it. */
export interface RecentRow {
  id: number;
  url: string;
  status_code: number | null;
  error_code: string | null;
  fetch_ms: number;
  fetched_at: number;
}

/** Rows read per step of `pages.recent`. */
const RECENT_BATCH = 1000;

/**
 * `pages.recent` on top of one query per backend, "the `n` rows before page id `before`, newest
 * first": page ids grow as results are stored, so reading backwards stops at the first batch
 * that reaches past `since`, and at `limit` rows whatever the window holds.
 */
export async function readRecent(batch: (before: number, n: number) => Promise<RecentRow[]>, since: number, limit: number): Promise<RecentPage[]> {
  const out: RecentPage[] = [];
  let before = Number.MAX_SAFE_INTEGER;
  while (out.length < limit) {
    const rows = await batch(before, Math.min(RECENT_BATCH, limit - out.length));
    let older = false;
    for (const r of rows) {
      if (Number(r.fetched_at) < since) {
        older = true;
        continue;
      }
      out.push({ id: Number(r.id), url: r.url, statusCode: r.status_code, errorCode: r.error_code, fetchMs: r.fetch_ms, fetchedAt: Number(r.fetched_at) });
    }
    if (older || rows.length === 0) break;
    before = Number(rows[rows.length - 1]!.id);
  }
  return out;
}

/** `failuresByCode` rows folded into an object. */
export function countsByCode(rows: Array<{ code: string; n: number | string }>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) out[r.code] = Number(r.n);
  return out;
}

export interface DeliveryRow {
  id: number;
  webhook_id: string;
  event_id: string;
  event_type: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: number | null;
  last_error: string | null;
  last_status_code: number | null;
  created_at: number;
  finished_at: number | null;
}

export function toDelivery(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    webhookId: row.webhook_id,
    eventId: row.event_id,
    eventType: row.event_type,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    lastStatusCode: row.last_status_code,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
  };
}

/** The column values an attempt's end writes: status, next_attempt_at, last_error (null keeps it), last_status_code, finished_at. */
export function attemptColumns(result: AttemptResult, now: number): [DeliveryStatus, number | null, string | null, number | null, number | null] {
  switch (result.status) {
    case 'delivered':
      return ['delivered', null, null, result.statusCode, now];
    case 'pending':
      return ['pending', result.nextAttemptAt, result.error, result.statusCode, null];
    case 'failed':
      return ['failed', null, result.error, result.statusCode, now];
  }
}
