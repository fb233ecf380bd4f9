import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { API_METRICS, AUTH_FAILURE_REASONS, type MetricDefinition, RATE_LIMIT_REASONS, SCHEDULE_METRICS, WEBHOOK_METRICS, WORKER_METRICS } from './definitions.ts';

type Value = number | Promise<number>;

/** Values read at scrape time. Missing sources leave the gauge at its last set value. */
export interface GaugeSources {
  /** Jobs queued or running. */
  jobsInQueue?: () => Value;
  /** URLs waiting in the frontier. */
  queueDepth?: () => Value;
  /** Proxies usable now and configured. */
  proxyPool?: () => { usable: number; configured: number };
  /** Browsers running in this process. */
  browserPoolActive?: () => number;
  /** Store reachability: the backend name and whether its last check succeeded. */
  store?: () => { backend: string; up: boolean };
  /** Seconds the earliest due schedule has waited (0 when none is due). */
  schedulesOverdue?: () => Value;
  /** The webhook outbox (pending deliveries, the oldest one's age in seconds, failing webhooks); only the API process reads it. */
  outbox?: () => Promise<{ depth: number; oldestAgeSeconds: number; failing: number }>;
}

function gauge(registry: Registry, d: MetricDefinition, collect?: (g: Gauge) => void | Promise<void>): Gauge {
  return new Gauge({
    name: d.name,
    help: d.help,
    labelNames: [...d.labelNames],
    registers: [registry],
    ...(collect ? { collect(this: Gauge) { return collect(this); } } : {}),
  });
}

function counter(registry: Registry, d: MetricDefinition): Counter {
  return new Counter({ name: d.name, help: d.help, labelNames: [...d.labelNames], registers: [registry] });
}

/** A counter with one series per `reason`, each at 0. */
function zeroed(c: Counter, reasons: readonly string[]): Counter {
  for (const reason of reasons) c.inc({ reason }, 0);
  return c;
}

function histogram(registry: Registry, d: MetricDefinition): Histogram {
  return new Histogram({ name: d.name, help: d.help, labelNames: [...d.labelNames], buckets: [...(d.buckets ?? [])], registers: [registry] });
}

async function setFrom(g: Gauge, read: () => Value): Promise<void> {
  g.set(await read());
}

export function createApiMetrics(registry: Registry, sources: GaugeSources = {}) {
  const { jobsInQueue, proxyPool } = sources;
  return {
    jobsStarted: counter(registry, API_METRICS.jobsStarted),
    jobsFailed: counter(registry, API_METRICS.jobsFailed),
    jobsInQueue: gauge(registry, API_METRICS.jobsInQueue, jobsInQueue && ((g) => setFrom(g, jobsInQueue))),
    proxyPoolSize: gauge(registry, API_METRICS.proxyPoolSize, proxyPool && ((g) => g.set(proxyPool().usable))),
    proxyPoolConfigured: gauge(registry, API_METRICS.proxyPoolConfigured, proxyPool && ((g) => g.set(proxyPool().configured))),
    captchaEncountered: counter(registry, API_METRICS.captchaEncountered),
    apiRequestLatency: histogram(registry, API_METRICS.apiRequestLatency),
    httpRequests: counter(registry, API_METRICS.httpRequests),
    httpRequestsInFlight: gauge(registry, API_METRICS.httpRequestsInFlight),
    // Every reason at 0 from the start: rate() and the dashboard see a refusal-free API as 0, not as no data.
    apiAuthFailures: zeroed(counter(registry, API_METRICS.apiAuthFailures), AUTH_FAILURE_REASONS),
    apiRateLimited: zeroed(counter(registry, API_METRICS.apiRateLimited), RATE_LIMIT_REASONS),
  };
}

export function createWorkerMetrics(registry: Registry, sources: GaugeSources = {}) {
  const { queueDepth, browserPoolActive } = sources;
  return {
    pagesFetched: counter(registry, WORKER_METRICS.pagesFetched),
    http403: counter(registry, WORKER_METRICS.http403),
    http429: counter(registry, WORKER_METRICS.http429),
    retries: counter(registry, WORKER_METRICS.retries),
    scrapeLatency: histogram(registry, WORKER_METRICS.scrapeLatency),
    browserPoolActive: gauge(registry, WORKER_METRICS.browserPoolActive, browserPoolActive && ((g) => g.set(browserPoolActive()))),
    queueDepth: gauge(registry, WORKER_METRICS.queueDepth, queueDepth && ((g) => setFrom(g, queueDepth))),
    pagesFailed: counter(registry, WORKER_METRICS.pagesFailed),
    fetchesInFlight: gauge(registry, WORKER_METRICS.fetchesInFlight),
    pageBytes: counter(registry, WORKER_METRICS.pageBytes),
    browserPages: counter(registry, WORKER_METRICS.browserPages),
    browserRestarts: counter(registry, WORKER_METRICS.browserRestarts),
    pagesExtracted: counter(registry, WORKER_METRICS.pagesExtracted),
    contentStoredBytes: counter(registry, WORKER_METRICS.contentStoredBytes),
    documentsFetched: counter(registry, WORKER_METRICS.documentsFetched),
    sitemapUrls: counter(registry, WORKER_METRICS.sitemapUrls),
    pagesNotModified: counter(registry, WORKER_METRICS.pagesNotModified),
  };
}

/** The `outcome` values of schedule_runs_total. */
export const SCHEDULE_RUN_OUTCOMES = ['started', 'queued', 'skipped', 'missed', 'not_started'] as const;

/** The scheduler's metrics (every process runs a scheduler). */
export function createScheduleMetrics(registry: Registry, sources: GaugeSources = {}) {
  const { schedulesOverdue } = sources;
  const scheduleRuns = counter(registry, SCHEDULE_METRICS.scheduleRuns);
  // Served at 0 from the first scrape on, so Prometheus sees the first missed run as an increase.
  for (const outcome of SCHEDULE_RUN_OUTCOMES) scheduleRuns.inc({ outcome }, 0);
  return {
    scheduleRuns,
    scheduleStartLag: histogram(registry, SCHEDULE_METRICS.scheduleStartLag),
    schedulesOverdue: gauge(registry, SCHEDULE_METRICS.schedulesOverdue, schedulesOverdue && ((g) => setFrom(g, schedulesOverdue))),
    scheduleChanges: counter(registry, SCHEDULE_METRICS.scheduleChanges),
  };
}

export type ScheduleMetrics = ReturnType<typeof createScheduleMetrics>;
/**
 * Webhook metrics: the attempts counter in every process that sends, the outbox gauges where
 * `sources.outbox` is given. The three gauges share one store read per scrape.
 */
export function createWebhookMetrics(registry: Registry, sources: Pick<GaugeSources, 'outbox'> = {}) {
  const d = WEBHOOK_METRICS.deliveries;
  const deliveries = new Counter({ name: d.name, help: d.help, labelNames: ['event', 'outcome'] as const, registers: [registry] });
  const { outbox } = sources;
  if (!outbox) return { deliveries };
  let read: { at: number; value: ReturnType<NonNullable<GaugeSources['outbox']>> } | null = null;
  const current = () => {
    const now = Date.now();
    if (!read || now - read.at > 1_000) read = { at: now, value: outbox() };
    return read.value;
  };
  return {
    deliveries,
    outboxDepth: gauge(registry, WEBHOOK_METRICS.outboxDepth, async (g) => g.set((await current()).depth)),
    outboxOldestAge: gauge(registry, WEBHOOK_METRICS.outboxOldestAge, async (g) => g.set((await current()).oldestAgeSeconds)),
    failing: gauge(registry, WEBHOOK_METRICS.failing, async (g) => g.set((await current()).failing)),
  };
}

export type WebhookMetrics = ReturnType<typeof createWebhookMetrics>;

function createStoreMetrics(registry: Registry, store?: GaugeSources['store']): Pick<ProcessMetrics, 'storeUp' | 'storeCommitFailures'> {
  return { storeUp: createStoreUp(registry, store), storeCommitFailures: createStoreCommitFailures(registry, store) };
}

function createStoreUp(registry: Registry, store?: GaugeSources['store']): Gauge {
  return gauge(registry, API_METRICS.storeUp, store && ((g) => {
    const s = store();
    g.reset();
    g.set({ backend: s.backend }, s.up ? 1 : 0);
  }));
}

/**
 * Failed store commits. The process that owns the store counts each failed attempt with
 * `metrics.storeCommitFailures.inc({ backend: store.backend })`. The current backend's series is
 * served at 0 from the first scrape on, so Prometheus sees the first failure as an increase.
 */
function createStoreCommitFailures(registry: Registry, store?: GaugeSources['store']): Counter<'backend'> {
  const d = API_METRICS.storeCommitFailures;
  return new Counter({
    name: d.name,
    help: d.help,
    labelNames: ['backend'] as const,
    registers: [registry],
    ...(store ? { collect(this: Counter<'backend'>) { this.inc({ backend: store().backend }, 0); } } : {}),
  });
}

/**
 * prom-client's default process and runtime metrics, less the three gauges it names with a
 * `_total` suffix (`nodejs_active_{handles,requests,resources}_total`), which `promtool check
 * metrics` rejects; their per-type gauges (`nodejs_active_handles{type}`, …) stay.
 */
function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const kind of ['handles', 'requests', 'resources']) registry.removeSingleMetric(`nodejs_active_${kind}_total`);
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;
export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

/**
 * The worker side needs `captcha_encountered_total` too (detection happens while fetching),
 * so worker processes register that one counter from the API set as well.
 */
export interface CrawlMetrics extends WorkerMetrics {
  captchaEncountered: Counter;
  /** Jobs are finalised by whichever process settles their last URL: a worker in scale-out. */
  jobsFailed: Counter;
}

export interface ProcessMetrics {
  registry: Registry;
  schedules: ScheduleMetrics;
  /** The webhook sender's counter (and, in the API process, the outbox gauges). */
  webhooks: WebhookMetrics;
  api?: ApiMetrics;
  worker: CrawlMetrics;
  storeUp: Gauge;
  /** The store's hook: `.inc({ backend })` once per commit attempt that failed. */
  storeCommitFailures: Counter<'backend'>;
}

/** Everything in one registry: `owl serve` with in-process workers (embedded mode). */
export function createEmbeddedMetrics(sources: GaugeSources = {}, registry = new Registry()): ProcessMetrics & { api: ApiMetrics } {
  collectProcessMetrics(registry);
  const api = createApiMetrics(registry, sources);
  const worker = { ...createWorkerMetrics(registry, sources), captchaEncountered: api.captchaEncountered, jobsFailed: api.jobsFailed };
  return { registry, api, worker, schedules: createScheduleMetrics(registry, sources), webhooks: createWebhookMetrics(registry, sources), ...createStoreMetrics(registry, sources.store) };
}

/** A worker process's own registry (`owl worker`): the worker set plus captchas. */
export function createWorkerProcessMetrics(sources: GaugeSources = {}, registry = new Registry()): ProcessMetrics {
  collectProcessMetrics(registry);
  const worker = {
    ...createWorkerMetrics(registry, sources),
    captchaEncountered: counter(registry, API_METRICS.captchaEncountered),
    jobsFailed: counter(registry, API_METRICS.jobsFailed),
  };
  return { registry, worker, schedules: createScheduleMetrics(registry, sources), webhooks: createWebhookMetrics(registry), ...createStoreMetrics(registry, sources.store) };
}

/** An API-only process (`owl serve` on PostgreSQL without in-process workers). */
export function createApiProcessMetrics(sources: GaugeSources = {}, registry = new Registry()): ProcessMetrics & { api: ApiMetrics } {
  collectProcessMetrics(registry);
  const api = createApiMetrics(registry, sources);
  // queue_depth and proxy_pool_size are global values from the store; the API serves them so
  // dashboards show the true value however many workers run (workers serve no global gauges then).
  const worker = { ...createWorkerMetrics(registry, sources), captchaEncountered: api.captchaEncountered, jobsFailed: api.jobsFailed };
  return { registry, api, worker, schedules: createScheduleMetrics(registry, sources), webhooks: createWebhookMetrics(registry, sources), ...createStoreMetrics(registry, sources.store) };
}
