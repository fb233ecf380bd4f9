import { readFileSync } from 'node:fs';
import path from 'node:path';
import { exportRecords } from '../api/routes/jobs.ts';
import { sitemapRoots } from '../jobs/new-job.ts';
import { loadConfig } from '../config/load.ts';
import { isOwlError } from '../errors.ts';
import { columnsFor, type ExportRecord } from '../scrape/export.ts';
import { compileScrapeOptions, parseFormatsList, validateScrapeOptions, type ScrapeOptions } from '../scrape/options.ts';
import { normalizeUrl } from '../crawl/url.ts';
import { createLogger } from '../log.ts';
import { createEmbeddedMetrics } from '../metrics/registry.ts';
import { openSqliteStore } from '../store/sqlite/index.ts';
import type { Job, JobScope, PageStore } from '../store/types.ts';
import { createCrawlRuntime } from '../worker/runtime.ts';
import { intFlag, UsageError } from './cli-util.ts';
import { outputFormat, writeRecords } from './output-file.ts';
import { commitFailureReporter } from './process-state.ts';
import { startupSignals } from '../../bin/early-signals.js';

const FINAL = new Set(['done', 'failed', 'cancelled']);

/** `--formats`, `--extract FILE`, `--sitemaps`: the job's scraping options, checked as the API checks them. */
function scrapeFlags(values: Record<string, unknown>): ScrapeOptions {
  const body: Record<string, unknown> = {};
  try {
    if (values.formats !== undefined) body.formats = parseFormatsList(String(values.formats));
    if (values.sitemaps !== undefined) body.sitemaps = String(values.sitemaps);
    if (values.extract !== undefined) {
      const file = String(values.extract);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new UsageError(`--extract ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
      }
      try {
        body.extract = JSON.parse(text);
      } catch {
        throw new UsageError(`--extract ${file}: not valid JSON`);
      }
    }
    return validateScrapeOptions(body);
  } catch (err) {
    // The message names the field (`formats[1]: unknown format "md" …`, `extract.fields.price.selector: …`).
    if (isOwlError(err, 'VALIDATION')) throw new UsageError(err.message);
    throw err;
  }
}

/** The job's records as its pages are stored, until the job is over and every page is read. */
async function* liveRecords(pages: PageStore, jobId: string, over: () => boolean, wait: () => Promise<void>): AsyncIterable<ExportRecord> {
  let after = 0;
  for (;;) {
    const ended = over();
    for await (const record of exportRecords(pages, jobId, after)) {
      after = (record as unknown as { id: number }).id;
      yield record;
    }
    if (ended) return;
    await wait();
  }
}

/**
 * `owl crawl <url...>`: one crawl in this process on its own SQLite file under
 * `<dataDir>/crawls/`, a live progress line on a terminal, and with --json a summary object
 * as the last line of stdout (stderr when --output is `-`). With --output, every page's record
 * is written while the crawl goes. Exit 0 when the crawl ran, whatever pages failed.
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
  const scrape = scrapeFlags(values);
  const output = values.output === undefined ? null : String(values.output);
  const format = output === null ? null : outputFormat(output);
  const json = Boolean(values.json);
  const tty = Boolean(process.stderr.isTTY) && !json;
  // With records on stdout, the summary goes to stderr.
  const say = output === '-' ? (line: string) => process.stderr.write(`${line}\n`) : (line: string) => process.stdout.write(`${line}\n`);
  // Logs go to stderr so stdout carries only the result; warnings only unless asked for more.
  const logger = createLogger({ level: process.env.OWL_LOG_LEVEL ? config.logLevel : 'warn', pretty: tty });
  const signals = startupSignals();

  const dbPath = path.join(config.dataDir, 'crawls', `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.db`);
  const commits = commitFailureReporter(logger);
  const store = openSqliteStore({ path: dbPath, onCommitFailure: commits.onCommitFailure });
  await store.migrate();
  await signals.step('crawl store migrated');
  const metrics = createEmbeddedMetrics();
  commits.attach(metrics.storeCommitFailures);
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
  await signals.step('crawl runtime created');
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  const job = await store.jobs.create({
    seeds,
    source: 'cli',
    sitemaps: sitemapRoots(seeds, scrape),
    options: { maxPages, maxDepth, scope: scope as JobScope, mode: 'http', respectRobots: !values['ignore-robots'], allowPrivate: true, scrape },
  });
  // A signal from now on (or one that came during start-up: bin/early-signals.js) cancels the
  // job; the crawl then ends as any interrupted crawl does, with its summary. A second one exits.
  let cancelling: Promise<unknown> | null = null;
  const stopSignals = signals.handOver(() => {
    if (cancelling !== null) process.exit(130);
    cancelling = store.jobs.cancel(job.id, 'interrupted');
  });
  // Cancelled before it started: nothing to crawl.
  if (signals.signal) await cancelling;
  else runtime.crawler.start();
  await signals.step('crawl started');
  const writing =
    output === null || format === null
      ? null
      : writeRecords(output, format, liveRecords(store.pages, job.id, () => finished, () => new Promise((r) => setTimeout(r, 200))), columnsFor(compileScrapeOptions(scrape).extract));

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
    current = (await store.jobs.get(job.id)) ?? current;
    if (tty) process.stderr.write(`\r${progressLine(current, (performance.now() - started) / 1000)}\x1b[K`);
  }
  await runtime.close();
  current = (await store.jobs.get(job.id)) ?? current;
  // An interrupted crawl's job is cancelled, not finished: the records written so far are complete.
  finished = true;
  const records = writing === null ? null : await writing;
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  stopSignals();
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
    ...(records === null ? {} : { records, output }),
  };
  if (json) say(JSON.stringify(summary));
  else {
    const where = records === null ? `results in ${dbPath}` : `${records} records in ${output === '-' ? 'stdout' : output}`;
    say(`${summary.status}: ${summary.pages} pages fetched, ${summary.failed} failed in ${summary.seconds} s (${summary.pagesPerSecond} pages/s); ${where}`);
  }
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
