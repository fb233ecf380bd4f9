import { Registry, type MetricValue } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import { buildApp, type ApiDeps } from '../../src/api/app.ts';
import { DEFAULTS, type Config } from '../../src/config/schema.ts';
import { createApiMetrics, type ApiMetrics } from '../../src/metrics/registry.ts';
import { createFakeStore, type FakeStore } from './fake-store.ts';

export interface TestApp {
  app: FastifyInstance;
  store: FakeStore;
  registry: Registry;
  metrics: ApiMetrics;
}

/** A fresh app on a fresh store and registry; close it with `app.close()`. */
export async function makeApp(opts: { config?: Partial<Config> } & Partial<Omit<ApiDeps, 'config'>> = {}): Promise<TestApp> {
  const store = createFakeStore();
  const registry = new Registry();
  const metrics = createApiMetrics(registry);
  const app = await buildApp({ store, registry, metrics, ...opts, config: { ...DEFAULTS, ...opts.config } });
  return { app, store, registry, metrics };
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
