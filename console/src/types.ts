/** Shapes of the API's answers the console reads (see /openapi.json). */
export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
export const JOB_STATUSES: JobStatus[] = ['queued', 'running', 'done', 'failed', 'cancelled'];

export interface Job {
  id: string;
  status: JobStatus;
  seeds: string[];
  options: {
    maxPages: number;
    maxDepth: number;
    scope: string;
    mode: string;
    scrape?: { formats: string[]; onlyMainContent: boolean; extract: unknown; sitemaps: string };
  };
  source: string;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  reason: string | null;
  counts: { admitted: number; queued: number; inFlight: number; fetched: number; failed: number; sitemaps: number };
}

export interface PageRow {
  id: number;
  url: string;
  statusCode: number | null;
  finalUrl: string | null;
  title: string | null;
  bytes: number;
  fetchMs: number;
  errorCode: string | null;
  contentType: string | null;
  depth: number;
  fetchedAt: number;
  contentHash: string | null;
}

export interface PageDetail {
  id?: number;
  url: string;
  finalUrl: string | null;
  statusCode: number | null;
  contentType: string | null;
  title: string | null;
  fetchedAt?: number;
  fetchMs?: number;
  errorCode?: string | null;
  metadata?: Record<string, unknown>;
  data?: unknown;
  items?: Array<Record<string, unknown>>;
  markdown?: string;
  text?: string;
  html?: string;
  links?: string[];
  truncated?: string[];
  extraction?: { status: string } & Record<string, unknown> | null;
  contentMissing?: boolean;
}

export interface Progress {
  job: Job;
  pagesPerSecond: number;
  failuresByCode: Record<string, number>;
}

export interface SiteHealth {
  site: string;
  pages: number;
  failed: number;
  http403: number;
  http429: number;
  captchas: number;
  medianFetchMs: number;
  trouble: number;
}

export interface Schedule {
  id: string;
  name: string | null;
  cron: string;
  timezone: string;
  job: Record<string, unknown>;
  overlap: 'skip' | 'queue';
  revisit: 'all' | 'adaptive';
  enabled: boolean;
  keyId: string | null;
  nextRunAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface Run {
  id: number;
  jobId: string | null;
  plannedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  outcome: string;
  reason: string | null;
}

export interface Change {
  url: string;
  change: 'new' | 'changed' | 'unchanged' | 'gone';
  pageId: number;
}

export interface PageDiff {
  pageId: number;
  url: string;
  change: string | null;
  previousPageId: number | null;
  previousJobId: string | null;
  content: { format: string | null; diff: string };
  data: Array<{ field: string; before?: unknown; after?: unknown }>;
}

export interface Webhook {
  id: string;
  url: string;
  events: string[];
  keyId: string | null;
  createdAt: number;
}

export interface Delivery {
  id: number;
  webhookId: string;
  eventId: string;
  eventType: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  nextAttemptAt: number | null;
  lastError: string | null;
  lastStatusCode: number | null;
  createdAt: number;
  finishedAt: number | null;
}

export interface SitesAnswer {
  window: string;
  /** `key`: the calling key's own jobs only, without the proxy pool; `all`: everything. */
  view: 'all' | 'key';
  since: number;
  results: number;
  sampled: boolean;
  sites: SiteHealth[];
  proxies: Array<{ proxy: string; failures: number; cooldownUntil: number; lastError: string | null; usable: boolean }>;
  grafanaUrl: string | null;
}
