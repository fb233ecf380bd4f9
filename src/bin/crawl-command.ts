import path from 'node:path';
import { loadConfig } from '../config/load.ts';
import { normalizeUrl } from '../crawl/url.ts';
import { createLogger } from '../log.ts';
import { createEmbeddedMetrics } from '../metrics/registry.ts';
import { openSqliteStore } from '../store/sqlite/index.ts';
import type { Job, JobScope } from '../store/types.ts';
import { createCrawlRuntime } from '../worker/runtime.ts';
import { intFlag, UsageError } from './cli-util.ts';

const FINAL = new Set(['done', 'failed', 'cancelled']);

/**
 * `owl crawl <url...>`: one crawl in this process on its own SQLite file under
 * `<dataDir>/crawls/`, a live progress line on a terminal, and with --json a summary object
 * as the last line of stdout. Exit 0 when the crawl ran, whatever pages failed.
 */
export async function runCrawl(values: Record<string, unknown>, positionals: string[]): Promise<number> {
  if (positionals.length === 0) throw new UsageError('owl crawl needs at least one URL, e.g. owl crawl https://example.com/');
  const seeds = positionals.map((raw) => {
    const url = normalizeUrl(raw);
    if (!url) throw new UsageError(`"${raw}" is not an absolute http(s) URL`);
    return url;
  });
  const scope = (values.scope as string | undefined) ?? 'host';
  if (scope !== 'host' && scope !== 'domain') throw new UsageError(`--scope must be host or domain, got "${scope}"`);
  const maxPages = intFlag(values, 'max-pages', 1, 10_000_000) ?? 1_000;
  const maxDepth = intFlag(values, 'max-depth', 0, 1_000) ?? 5;
  const config = loadConfig(process.env, {
    concurrency: intFlag(values, 'concurrency', 1, 1024),
    hostDelayMs: intFlag(values, 'host-delay', 0, 3_600_000),
    perHostConcurrency: intFlag(values, 'per-host', 1, 1024),
  });
  const json = Boolean(values.json);
  const tty = Boolean(process.stderr.isTTY) && !json;
  // Logs go to stderr so stdout carries only the result; warnings only unless asked for more.
  const logger = createLogger({ level: process.env.OWL_LOG_LEVEL ? config.logLevel : 'warn', pretty: tty });

  const dbPath = path.join(config.dataDir, 'crawls', `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.db`);
  const store = openSqliteStore({ path: dbPath });
  await store.migrate();
  const metrics = createEmbeddedMetrics();
  // The crawler says when a job ends (its last outcome settled), so the wait below ends then and
  // not at the next poll; polling stays for the progress line and for a cancel.
  let jobEnded: (() => void) | null = null;
  let finished = false;
  const runtime = await createCrawlRuntime({
    config,
    store,
    metrics: metrics.worker,
    logger,
    browser: false,
    onFinishedJob: () => {
      finished = true;
      jobEnded?.();
    },
  });
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  const job = await store.createJob({
    seeds,
    source: 'cli',
    options: { maxPages, maxDepth, scope: scope as JobScope, mode: 'http', respectRobots: !values['ignore-robots'], allowPrivate: true },
  });
  runtime.crawler.start();

  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    void store.cancelJob(job.id, 'interrupted');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let current: Job = job;
  while (!FINAL.has(current.status)) {
    if (!finished) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        jobEnded = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      jobEnded = null;
    }
    current = (await store.getJob(job.id)) ?? current;
    if (tty) process.stderr.write(`\r${progressLine(current, (performance.now() - started) / 1000)}\x1b[K`);
  }
  await runtime.close();
  current = (await store.getJob(job.id)) ?? current;
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (tty) process.stderr.write(`\r${progressLine(current, seconds)}\x1b[K\n`);

  const summary = {
    jobId: current.id,
    status: current.status,
    pages: current.counts.fetched,
    failed: current.counts.failed,
    queued: current.counts.queued,
    admitted: current.counts.admitted,
    seconds: Number(seconds.toFixed(3)),
    pagesPerSecond: Number((current.counts.fetched / Math.max(seconds, 1e-9)).toFixed(1)),
    cpuSeconds: cpuSecondsSince(cpuAtStart),
    peakRssMb: Number((process.resourceUsage().maxRSS / 1024).toFixed(1)),
    store: dbPath,
  };
  if (json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else console.log(`${summary.status}: ${summary.pages} pages fetched, ${summary.failed} failed in ${summary.seconds} s (${summary.pagesPerSecond} pages/s); results in ${dbPath}`);
  return 0;
}

/** CPU time of the crawl itself (start-up and module loading excluded, as for the benchmark's peers). */
function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return Number(((used.user + used.system) / 1e6).toFixed(3));
}

function progressLine(job: Job, seconds: number): string {
  const c = job.counts;
  return `[owl] ${job.status} ${c.fetched} pages, ${c.failed} failed, ${c.queued} queued, ${c.inFlight} in flight — ${(c.fetched / Math.max(seconds, 1e-9)).toFixed(1)} pages/s`;
}
