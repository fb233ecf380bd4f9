/**
 * Every metric the application emits, defined once: name, type, help, label names, buckets.
 * Rules, dashboards and tests import these definitions; nothing else spells a metric name.
 * Names and labels of the user's plan are kept exactly as written there.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricDefinition {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly buckets?: readonly number[];
}

function define<T extends MetricDefinition>(d: T): T {
  return Object.freeze(d);
}

/** Request latency buckets: sub-millisecond API calls up to slow 10 s outliers. */
const API_LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Page fetch buckets: loopback fetches (ms) up to the 30 s fetch timeout. */
const SCRAPE_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Every `reason` of api_auth_failures_total (each series exists from the start, at 0). */
export const AUTH_FAILURE_REASONS = ['missing', 'malformed', 'unknown', 'revoked', 'expired', 'forbidden', 'query_key', 'metrics_token'] as const;
/** Every `reason` of api_rate_limited_total: the key limit that refused the request. */
export const RATE_LIMIT_REASONS = ['rate', 'maxRunningJobs', 'maxPagesPerDay'] as const;

/** Metrics served by the API process (plan §2.2). */
export const API_METRICS = {
  jobsStarted: define({
    name: 'jobs_started_total',
    type: 'counter',
    help: 'Crawl jobs started, by the source that submitted them.',
    labelNames: ['source'],
  }),
  jobsFailed: define({
    name: 'jobs_failed_total',
    type: 'counter',
    help: 'Crawl jobs that ended failed, by reason code.',
    labelNames: ['reason'],
  }),
  jobsInQueue: define({
    name: 'jobs_in_queue',
    type: 'gauge',
    help: 'Crawl jobs queued or running (not yet finished), read from the store at scrape time.',
    labelNames: [],
  }),
  proxyPoolSize: define({
    name: 'proxy_pool_size',
    type: 'gauge',
    help: 'Proxies usable now (configured minus those in cooldown); 0 when no proxy is configured.',
    labelNames: [],
  }),
  proxyPoolConfigured: define({
    name: 'proxy_pool_configured',
    type: 'gauge',
    help: 'Proxies configured in the pool, usable or not.',
    labelNames: [],
  }),
  captchaEncountered: define({
    name: 'captcha_encountered_total',
    type: 'counter',
    help: 'Captcha or challenge pages detected, by site (registrable domain, capped).',
    labelNames: ['site'],
  }),
  apiRequestLatency: define({
    name: 'api_request_latency_seconds',
    type: 'histogram',
    help: 'API request latency by method, route template and status code.',
    labelNames: ['method', 'route', 'status_code'],
    buckets: API_LATENCY_BUCKETS,
  }),
  httpRequests: define({
    name: 'http_requests_total',
    type: 'counter',
    help: 'HTTP requests served by the API, by method, route template and status code.',
    labelNames: ['method', 'route', 'status_code'],
  }),
  httpRequestsInFlight: define({
    name: 'http_requests_in_flight',
    type: 'gauge',
    help: 'HTTP requests being served by the API right now.',
    labelNames: [],
  }),
  apiAuthFailures: define({
    name: 'api_auth_failures_total',
    type: 'counter',
    help: 'API requests refused by authentication or authorisation, by reason (missing, malformed, unknown, revoked, expired, forbidden, query_key, metrics_token).',
    labelNames: ['reason'],
  }),
  apiRateLimited: define({
    name: 'api_rate_limited_total',
    type: 'counter',
    help: 'API requests refused by a key\'s limits, by reason (rate, maxRunningJobs, maxPagesPerDay).',
    labelNames: ['reason'],
  }),
  storeUp: define({
    name: 'store_up',
    type: 'gauge',
    help: '1 when the store (SQLite or PostgreSQL) answered the last readiness check, else 0.',
    labelNames: ['backend'],
  }),
  storeCommitFailures: define({
    name: 'store_commit_failures_total',
    type: 'counter',
    help: 'Store commits that failed and will be retried (the settled pages wait in memory meanwhile), by backend.',
    labelNames: ['backend'],
  }),
} as const;

/** Metrics served by every worker process (plan §2.3). */
export const WORKER_METRICS = {
  pagesFetched: define({
    name: 'pages_fetched_total',
    type: 'counter',
    help: 'Pages fetched successfully (2xx after redirects), by site.',
    labelNames: ['site'],
  }),
  http403: define({
    name: 'http_403_total',
    type: 'counter',
    help: 'Responses with status 403 (blocked), by site.',
    labelNames: ['site'],
  }),
  http429: define({
    name: 'http_429_total',
    type: 'counter',
    help: 'Responses with status 429 (rate limited), by site.',
    labelNames: ['site'],
  }),
  retries: define({
    name: 'retries_total',
    type: 'counter',
    help: 'Fetches scheduled for another attempt, by reason (timeout, network, http_5xx, http_429, http_403, captcha, proxy, browser, robots).',
    labelNames: ['reason'],
  }),
  scrapeLatency: define({
    name: 'scrape_latency_seconds',
    type: 'histogram',
    help: 'Time to fetch one page (request sent to body read), by site.',
    labelNames: ['site'],
    buckets: SCRAPE_LATENCY_BUCKETS,
  }),
  browserPoolActive: define({
    name: 'browser_pool_active',
    type: 'gauge',
    help: 'Browser instances running in this process.',
    labelNames: [],
  }),
  queueDepth: define({
    name: 'queue_depth',
    type: 'gauge',
    help: 'URLs waiting in the frontier (all jobs), read from the store at scrape time.',
    labelNames: [],
  }),
  pagesFailed: define({
    name: 'pages_failed_total',
    type: 'counter',
    help: 'URLs given up on after the retry budget, by error code.',
    labelNames: ['code'],
  }),
  fetchesInFlight: define({
    name: 'fetches_in_flight',
    type: 'gauge',
    help: 'Fetches in progress in this process.',
    labelNames: [],
  }),
  pageBytes: define({
    name: 'page_bytes_total',
    type: 'counter',
    help: 'Response body bytes read, by site.',
    labelNames: ['site'],
  }),
  browserPages: define({
    name: 'browser_pages_total',
    type: 'counter',
    help: 'Pages rendered in the browser pool, by outcome (ok, error, crash, timeout).',
    labelNames: ['outcome'],
  }),
  browserRestarts: define({
    name: 'browser_restarts_total',
    type: 'counter',
    help: 'Browsers retired and replaced, by reason (page_limit, crash).',
    labelNames: ['reason'],
  }),
  pagesExtracted: define({
    name: 'pages_extracted_total',
    type: 'counter',
    help: "Pages run through a job's extraction rules, by site and outcome (complete, missing_required: a required field was empty, failed).",
    labelNames: ['site', 'outcome'],
  }),
  contentStoredBytes: define({
    name: 'content_stored_bytes_total',
    type: 'counter',
    help: "Bytes of page content stored (the compressed record a job's formats asked for), by site.",
    labelNames: ['site'],
  }),
  documentsFetched: define({
    name: 'documents_fetched_total',
    type: 'counter',
    help: 'Pages stored as results, by kind of document (html, text, json, xml, pdf).',
    labelNames: ['kind'],
  }),
  sitemapUrls: define({
    name: 'sitemap_urls_total',
    type: 'counter',
    help: 'URLs read from sitemaps, by what became of them (admitted: offered to the frontier, out_of_scope, trap).',
    labelNames: ['result'],
  }),
  pagesNotModified: define({
    name: 'pages_not_modified_total',
    type: 'counter',
    help: "Pages of a schedule's run the server answered 304 Not Modified to a conditional re-crawl (not downloaded), by site.",
    labelNames: ['site'],
  }),
  storeUp: API_METRICS.storeUp,
  storeCommitFailures: API_METRICS.storeCommitFailures,
} as const;

/** Start lag buckets: a tick (1 s) late up to a run started minutes after its planned time. */
const SCHEDULE_LAG_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300];

/** Metrics of the scheduler, which runs in every process (`owl serve`, `owl worker`). */
export const SCHEDULE_METRICS = {
  scheduleRuns: define({
    name: 'schedule_runs_total',
    type: 'counter',
    help: 'Runs of schedules recorded by this process, by outcome (started, queued, skipped: previous job still going, missed: due while nothing ran or start interrupted, not_started: the job could not be created).',
    labelNames: ['outcome'],
  }),
  scheduleStartLag: define({
    name: 'schedule_start_lag_seconds',
    type: 'histogram',
    help: "Time from a run's planned time to its job's creation (due vs started).",
    labelNames: [],
    buckets: SCHEDULE_LAG_BUCKETS,
  }),
  schedulesOverdue: define({
    name: 'schedules_overdue_seconds',
    type: 'gauge',
    help: 'How long the earliest due run of an enabled schedule has waited to be claimed (0 when none is due), read from the store at scrape time.',
    labelNames: [],
  }),
  scheduleChanges: define({
    name: 'schedule_page_changes_total',
    type: 'counter',
    help: "Pages of finished schedule runs by change against the schedule's baseline (new, changed, unchanged, gone).",
    labelNames: ['change'],
  }),
} as const;

/**
 * Webhook metrics. Every process that runs a sender (`owl serve`, `owl worker` on PostgreSQL)
 * counts its attempts; the outbox gauges are read from the store at scrape time by `owl serve`
 * only (global values: max(), never sum()).
 */
export const WEBHOOK_METRICS = {
  deliveries: define({
    name: 'webhook_deliveries_total',
    type: 'counter',
    help: 'Webhook delivery attempts, by event type and outcome (delivered: a 2xx answer; retried: failed, another attempt is scheduled; failed: failed and given up).',
    labelNames: ['event', 'outcome'],
  }),
  outboxDepth: define({
    name: 'webhook_outbox_depth',
    type: 'gauge',
    help: 'Webhook deliveries pending in the outbox (due now or waiting for a retry), read from the store at scrape time.',
    labelNames: [],
  }),
  outboxOldestAge: define({
    name: 'webhook_outbox_oldest_pending_seconds',
    type: 'gauge',
    help: 'Age of the oldest pending webhook delivery (0 when none), read from the store at scrape time.',
    labelNames: [],
  }),
  failing: define({
    name: 'webhooks_failing',
    type: 'gauge',
    help: 'Webhooks with a pending delivery whose last attempts failed (WEBHOOK_FAILING_ATTEMPTS or more), read from the store at scrape time.',
    labelNames: [],
  }),
} as const;

/** Failed attempts in a row after which a webhook counts in `webhooks_failing` (5 s + 30 s + 2 min of retries: about 2.5 minutes of failures). */
export const WEBHOOK_FAILING_ATTEMPTS = 3;

export type ApiMetricKey = keyof typeof API_METRICS;
export type WorkerMetricKey = keyof typeof WORKER_METRICS;
export type ScheduleMetricKey = keyof typeof SCHEDULE_METRICS;

/** Every application metric, deduplicated by name. */
export const ALL_APP_METRICS: readonly MetricDefinition[] = [
  ...new Map(
    [...Object.values(API_METRICS), ...Object.values(WORKER_METRICS), ...Object.values(SCHEDULE_METRICS), ...Object.values(WEBHOOK_METRICS)].map((d) => [d.name, d]),
  ).values(),
];

/** Prefix of prom-client's default Node process/runtime metrics. */
export const PROCESS_METRIC_PREFIXES = ['process_', 'nodejs_'] as const;
