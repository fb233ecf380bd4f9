import { API_METRICS as API, WORKER_METRICS as W } from '../../../../src/metrics/definitions.ts';
import { selectors } from '../../../prometheus/src/config.ts';
import { PROMETHEUS, RUNTIME } from '../exporter-metrics.ts';
import { dashboard, q, stat, timeseries } from '../panels.ts';
import { increase, quantile, rate } from '../promql.ts';
import type { Dashboard } from '../types.ts';

/**
 * Scrape jobs of the crawling processes: `workers` are `owl worker` processes, `api` is `owl serve`
 * (which crawls too in embedded mode); the rules' selector.
 */
const CRAWLING_JOBS = selectors.crawler;

/** Per-process view of the workers: throughput, retries, failures, browser pool and queue. */
export function workersDashboard(): Dashboard {
  return dashboard({
    uid: 'workers',
    title: 'Workers',
    description: 'Per-instance fetch rate, retries by reason, failures, the browser pool and the queue.',
    tags: ['workers', 'crawler'],
    panels: [
      stat({
        title: 'Crawling processes up',
        description: 'Crawling processes Prometheus can scrape (api and workers jobs). A drop fires WorkerDown / TargetDown.',
        queries: [q(`sum(${PROMETHEUS.up}{${CRAWLING_JOBS}})`, 'up')],
        thresholds: [{ color: 'red', value: null }, { color: 'green', value: 1 }],
      }),
      stat({
        title: 'URLs waiting',
        description: 'URLs waiting in the frontier (all jobs).',
        queries: [q(`max(${W.queueDepth.name})`, 'waiting')],
      }),
      stat({
        title: 'Fetches in flight',
        description: 'Fetches in progress, all processes.',
        queries: [q(`sum(${W.fetchesInFlight.name})`, 'in flight')],
      }),
      stat({
        title: 'Browsers running',
        description: 'Headless Chromium instances running, all processes.',
        queries: [q(`sum(${W.browserPoolActive.name})`, 'browsers')],
      }),
      timeseries({
        title: 'Fetch rate by instance',
        description: 'Pages fetched per second by each process; an instance at zero while others work is stuck or starved.',
        queries: [q(`sum by (instance) (${rate(W.pagesFetched.name)})`, '{{instance}}')],
        unit: 'reqps',
        min: 0,
      }),
      timeseries({
        title: 'Fetches in flight by instance',
        description: 'Concurrent fetches per process against its configured concurrency.',
        queries: [q(`sum by (instance) (${W.fetchesInFlight.name})`, '{{instance}}')],
        min: 0,
      }),
      timeseries({
        title: 'Retries by reason',
        description: 'Fetches scheduled for another attempt, by reason (timeout, network, http_5xx, http_429, http_403, captcha, proxy).',
        queries: [q(`sum by (reason) (${rate(W.retries.name)})`, '{{reason}}')],
        unit: 'reqps',
        min: 0,
        stack: true,
      }),
      timeseries({
        title: 'URLs given up by error code',
        description: 'URLs that exhausted their retry budget, per interval, by error code.',
        queries: [q(`sum by (code) (${increase(W.pagesFailed.name)})`, '{{code}}')],
        min: 0,
        stack: true,
      }),
      timeseries({
        title: 'Queue depth',
        description: 'URLs waiting in the frontier, and jobs not yet finished.',
        queries: [q(`max(${W.queueDepth.name})`, 'URLs waiting'), q(`max(${API.jobsInQueue.name})`, 'jobs in queue')],
        min: 0,
      }),
      timeseries({
        title: 'Download volume by instance',
        description: 'Response body bytes read per second by each process.',
        queries: [q(`sum by (instance) (${rate(W.pageBytes.name)})`, '{{instance}}')],
        unit: 'Bps',
        min: 0,
      }),
      timeseries({
        title: 'Fetch latency p50 / p95',
        description: 'Time to fetch one page, all sites.',
        queries: [q(quantile(0.5, W.scrapeLatency.name), 'p50'), q(quantile(0.95, W.scrapeLatency.name), 'p95')],
        unit: 's',
        min: 0,
      }),
      timeseries({
        title: 'Browser pool by instance',
        description: 'Browsers running per process.',
        queries: [q(`sum by (instance) (${W.browserPoolActive.name})`, '{{instance}}')],
        min: 0,
      }),
      timeseries({
        title: 'Browser pages by outcome',
        description: 'Pages rendered in the browser pool per second, by outcome (ok, error, crash, timeout).',
        queries: [q(`sum by (outcome) (${rate(W.browserPages.name)}) or vector(0)`, '{{outcome}}')],
        unit: 'reqps',
        min: 0,
      }),
      timeseries({
        title: 'Browser restarts by reason',
        description: 'Browsers retired and replaced per interval (page_limit is routine, crash is not).',
        queries: [q(`sum by (reason) (${increase(W.browserRestarts.name)}) or vector(0)`, '{{reason}}')],
        min: 0,
      }),
      timeseries({
        title: 'CPU by instance',
        description: 'CPU seconds per second used by each crawling process (1 = one core).',
        queries: [q(`sum by (instance) (${rate(RUNTIME.cpuSeconds, CRAWLING_JOBS)})`, '{{instance}}')],
        unit: 'percentunit',
        min: 0,
        w: 24,
      }),
    ],
  });
}
