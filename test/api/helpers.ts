import { Registry, type MetricValue } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import { buildApp, type ApiDeps } from '../../src/api/app.ts';
import { DEFAULTS, type Config } from '../../src/config/schema.ts';
import { createApiMetrics, type ApiMetrics } from '../../src/metrics/registry.ts';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import type { Job, PageRecord } from '../../src/store/types.ts';
import { withFaults, type FaultyStore } from './faulty-store.ts';
import { claim, settle } from '../store/frontier-calls.ts';

export interface TestApp {
  app: FastifyInstance;
  store: FaultyStore;
  registry: Registry;
  metrics: ApiMetrics;
}

/**
 * A fresh app on a fresh in-memory SQLite store and registry; `app.close()` closes the store too.
 * Authentication is off unless `auth` says otherwise: these apps are reached through inject()
 * only, and the suites about keys (test/auth/) turn it on.
 */
export async function makeApp(opts: { config?: Partial<Config> } & Partial<Omit<ApiDeps, 'config'>> = {}): Promise<TestApp> {
  const sqlite = openSqliteStore({ path: ':memory:' });
  await sqlite.migrate();
  const store = withFaults(sqlite);
  const registry = new Registry();
  const metrics = createApiMetrics(registry);
  const app = await buildApp({ store, registry, metrics, auth: { mode: 'off' }, ...opts, config: { ...DEFAULTS, ...opts.config } });
  app.addHook('onClose', async () => sqlite.close());
  return { app, store, registry, metrics };
}

/**
 * Stores one result page per seed of `job` the way workers do (claim, then settle as done), in
 * seed order. Use a store holding no other queued job, and seeds sharing one host, so the claim
 * order is the admission order.
 */
export async function fetchAllSeeds(store: FaultyStore, job: Job, page: (url: string, i: number) => PageRecord): Promise<void> {
  const entries = await claim(store, { workerId: 'test', limit: job.seeds.length, leaseMs: 60_000, maxPerHost: 1000, hostDelayMs: 0 });
  entries.sort((a, b) => a.id - b.id);
  if (entries.length !== job.seeds.length || entries.some((e) => e.jobId !== job.id)) {
    throw new Error(`claimed ${entries.length} entries, expected the ${job.seeds.length} seeds of job ${job.id} only`);
  }
  const result = await settle(store, entries.map((entry, i) => ({ kind: 'done' as const, entry, page: page(entry.url, i), discovered: [] })));
  if (result.accepted.some((a) => !a)) throw new Error('settle refused an outcome');
}

/**
 * Value of the series of `name` whose labels are exactly `labels` (undefined when absent).
 * For a histogram pass `${name}_count` or `${name}_sum` as `series`.
 */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}, series = name): Promise<number | undefined> {
  const m = registry.getSingleMetric(name);
  if (!m) throw new Error(`no metric ${name}`);
  const wanted = Object.entries(labels);
  const hit = (await m.get()).values.find((v) => (metricName(v) ?? name) === series
    && Object.keys(v.labels).length === wanted.length
    && wanted.every(([k, val]) => String(v.labels[k]) === val));
  return hit?.value;
}

/** All label sets of one series of a metric. */
export async function seriesLabels(registry: Registry, name: string, series = name): Promise<Record<string, string | number>[]> {
  const m = registry.getSingleMetric(name);
  if (!m) throw new Error(`no metric ${name}`);
  return (await m.get()).values.filter((v) => (metricName(v) ?? name) === series).map((v) => v.labels as Record<string, string | number>);
}

function metricName(v: MetricValue<string>): string | undefined {
  return (v as MetricValue<string> & { metricName?: string }).metricName;
}

export const json = { 'content-type': 'application/json' };
