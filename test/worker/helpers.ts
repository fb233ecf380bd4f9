import { loadConfig } from '../../src/config/load.ts';
import type { SettingKey } from '../../src/config/schema.ts';
import { silentLogger } from '../../src/log.ts';
import { createEmbeddedMetrics } from '../../src/metrics/registry.ts';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import type { Job, JobOptions, Store } from '../../src/store/types.ts';
import { createCrawlRuntime, type CrawlRuntime, type CrawlRuntimeOptions } from '../../src/worker/runtime.ts';

/** Fast, deterministic crawl settings for fixture sites on 127.0.0.1. */
export const TEST_SETTINGS: Partial<Record<SettingKey, unknown>> = {
  allowPrivateTargets: true,
  hostDelayMs: 0,
  perHostConcurrency: 8,
  concurrency: 8,
  maxAttempts: 2,
  retryBaseMs: 0,
  retryMaxMs: 50,
  browserMax: 0,
  headersTimeoutMs: 2_000,
  bodyTimeoutMs: 2_000,
  connectTimeoutMs: 1_000,
};

export const JOB_DEFAULTS: JobOptions = { maxPages: 1_000, maxDepth: 5, scope: 'host', mode: 'http', respectRobots: true, allowPrivate: true };

export interface TestCrawler {
  store: Store;
  runtime: CrawlRuntime;
  metrics: ReturnType<typeof createEmbeddedMetrics>;
  finished: Array<{ id: string; status: string; reason: string | null }>;
  close(): Promise<void>;
}

export async function startTestCrawler(
  settings: Partial<Record<SettingKey, unknown>> = {},
  store: Store = openSqliteStore({ path: ':memory:' }),
  overrides: Pick<CrawlRuntimeOptions, 'robots' | 'now'> = {},
): Promise<TestCrawler> {
  await store.migrate();
  const config = loadConfig({}, { ...TEST_SETTINGS, ...settings });
  const metrics = createEmbeddedMetrics();
  const finished: TestCrawler['finished'] = [];
  const runtime = await createCrawlRuntime({
    config,
    store,
    metrics: metrics.worker,
    logger: silentLogger(),
    onFinishedJob: (job) => finished.push(job),
    ...overrides,
  });
  runtime.crawler.start();
  return {
    store,
    runtime,
    metrics,
    finished,
    async close() {
      await runtime.close();
      await store.close();
    },
  };
}

/** Polls the store until the job is final (bounded: ~30 s of 50 ms polls). */
export async function waitForJob(store: Store, id: string, polls = 600): Promise<Job> {
  for (let i = 0; i < polls; i++) {
    const job = await store.jobs.get(id);
    if (job && ['done', 'failed', 'cancelled'].includes(job.status)) return job;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`job ${id} did not finish: ${JSON.stringify(await store.jobs.get(id))}`);
}

/** The value of one series of a metric, 0 when the series does not exist. */
export async function metricValue(metrics: { registry: { getSingleMetric(name: string): unknown } }, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name) as { get(): Promise<{ values: Array<{ value: number; labels: Record<string, string | number> }> }> } | undefined;
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const match = values.filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want));
  return match.reduce((sum, v) => sum + v.value, 0);
}
