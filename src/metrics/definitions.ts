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
  storeUp: define({
    name: 'store_up',
    type: 'gauge',
    help: '1 when the store (SQLite or PostgreSQL) answered the last readiness check, else 0.',
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
  storeUp: API_METRICS.storeUp,
} as const;

export type ApiMetricKey = keyof typeof API_METRICS;
export type WorkerMetricKey = keyof typeof WORKER_METRICS;

/** Every application metric, deduplicated by name. */
export const ALL_APP_METRICS: readonly MetricDefinition[] = [
  ...new Map([...Object.values(API_METRICS), ...Object.values(WORKER_METRICS)].map((d) => [d.name, d])).values(),
];

/** Prefix of prom-client's default Node process/runtime metrics. */
export const PROCESS_METRIC_PREFIXES = ['process_', 'nodejs_'] as const;
