import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { API_METRICS, WORKER_METRICS, type MetricDefinition } from './definitions.ts';

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
  };
}

function createStoreUp(registry: Registry, store?: GaugeSources['store']): Gauge {
  return gauge(registry, API_METRICS.storeUp, store && ((g) => {
    const s = store();
    g.reset();
    g.set({ backend: s.backend }, s.up ? 1 : 0);
  }));
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
  api?: ApiMetrics;
  worker: CrawlMetrics;
  storeUp: Gauge;
}

/** Everything in one registry: `owl serve` with in-process workers (embedded mode). */
export function createEmbeddedMetrics(sources: GaugeSources = {}, registry = new Registry()): ProcessMetrics & { api: ApiMetrics } {
  collectProcessMetrics(registry);
  const api = createApiMetrics(registry, sources);
  const worker = { ...createWorkerMetrics(registry, sources), captchaEncountered: api.captchaEncountered, jobsFailed: api.jobsFailed };
  return { registry, api, worker, storeUp: createStoreUp(registry, sources.store) };
}

/** A worker process's own registry (`owl worker`): the worker set plus captchas. */
export function createWorkerProcessMetrics(sources: GaugeSources = {}, registry = new Registry()): ProcessMetrics {
  collectProcessMetrics(registry);
  const worker = {
    ...createWorkerMetrics(registry, sources),
    captchaEncountered: counter(registry, API_METRICS.captchaEncountered),
    jobsFailed: counter(registry, API_METRICS.jobsFailed),
  };
  return { registry, worker, storeUp: createStoreUp(registry, sources.store) };
}

/** An API-only process (`owl serve` on PostgreSQL without in-process workers). */
export function createApiProcessMetrics(sources: GaugeSources = {}, registry = new Registry()): ProcessMetrics & { api: ApiMetrics } {
  collectProcessMetrics(registry);
  const api = createApiMetrics(registry, sources);
  // queue_depth and proxy_pool_size are global values from the store; the API serves them so
  // dashboards show the true value however many workers run (workers serve no global gauges then).
  const worker = { ...createWorkerMetrics(registry, sources), captchaEncountered: api.captchaEncountered, jobsFailed: api.jobsFailed };
  return { registry, api, worker, storeUp: createStoreUp(registry, sources.store) };
}
