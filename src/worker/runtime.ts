import { existsSync } from 'node:fs';
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Config } from '../config/schema.ts';
import { createHttpFetcher, fetcherOptionsFrom } from '../crawl/http-fetcher.ts';
import { buildProxyPool, type ProxyPool } from '../crawl/proxy-pool.ts';
import { createRetryPolicy } from '../crawl/retry-policy.ts';
import { createRobotsCache } from '../crawl/robots.ts';
import type { BrowserPool } from '../crawl/browser/pool.ts';
import type { Logger } from '../log.ts';
import type { CrawlMetrics } from '../metrics/registry.ts';
import { SiteLabeler } from '../metrics/site-label.ts';
import { ScrapeCompileCache } from '../scrape/index.ts';
import type { CrawlMode, FinishedJob, Store } from '../store/types.ts';
import { Crawler } from './crawler.ts';
import { JobContexts } from './job-contexts.ts';
import { PageProcessor, type RenderDecider } from './page-processor.ts';

export interface CrawlRuntime {
  crawler: Crawler;
  proxies: ProxyPool;
  browser: BrowserPool | null;
  workerId: string;
  /** Stops crawling (drains in-flight fetches) and closes fetchers, browsers and timers. */
  close(): Promise<void>;
}

export interface CrawlRuntimeOptions {
  config: Config;
  store: Store;
  metrics: CrawlMetrics;
  logger: Logger;
  onFinishedJob?: (job: FinishedJob) => void;
  onStoreHealth?: (up: boolean) => void;
  /** Start a browser pool for browser/auto jobs (default: config.browserMax > 0). */
  browser?: boolean;
  /** Proxy pool to share (the API process reads its size); built from config when absent. */
  proxies?: ProxyPool;
  /** Tests: how soon an unreadable robots.txt is asked again, and how many times before its URLs fail. */
  robots?: { errorTtlMs: number; waits: number };
  /** Tests: the clock pages are stamped with and adaptive re-visits are judged by (default Date.now). */
  now?: () => number;
}

/** How often proxy health is exchanged with the store so all workers share cooldowns. */
const PROXY_SYNC_MS = 5_000;

/** Wires fetcher, robots, proxies, retries, browser and the claim loop from the configuration. */
export async function createCrawlRuntime(o: CrawlRuntimeOptions): Promise<CrawlRuntime> {
  const { config, store, metrics, logger } = o;
  const workerId = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const fetcher = createHttpFetcher(fetcherOptionsFrom(config, Math.max(config.perHostConcurrency, 1)));
  const proxies = o.proxies ?? (await buildProxyPool(config));
  let browser: BrowserPool | null = null;
  let renderDecider: RenderDecider | undefined;
  let wantBrowser = o.browser ?? config.browserMax > 0;
  if (wantBrowser && !existsSync(config.chromiumPath)) {
    logger.warn({ chromiumPath: config.chromiumPath }, 'no Chromium at OWL_CHROMIUM_PATH: browser and auto jobs wait for a worker that has one (make install-dev installs it)');
    wantBrowser = false;
  }
  if (wantBrowser) {
    const { createBrowserPool } = await import('../crawl/browser/pool.ts');
    const { createRenderDecider } = await import('../crawl/browser/render-decider.ts');
    browser = createBrowserPool({
      executablePath: config.chromiumPath,
      maxBrowsers: config.browserMax,
      pagesPerBrowser: config.browserPagesPerBrowser,
      retireAfter: config.browserRetireAfter,
      idleCloseMs: config.browserIdleCloseMs,
      navigationTimeoutMs: config.browserNavigationTimeoutMs,
      userAgent: config.userAgent,
      events: {
        onPage: (outcome) => metrics.browserPages.inc({ outcome }),
        onRestart: (reason) => metrics.browserRestarts.inc({ reason }),
      },
    });
    renderDecider = createRenderDecider();
  }
  const jobs = new JobContexts(store.jobs);
  const processor = new PageProcessor({
    frontier: store.frontier,
    fetcher,
    robots: createRobotsCache({ fetcher, userAgent: config.userAgent, errorTtlMs: o.robots?.errorTtlMs }),
    robotsWaits: o.robots?.waits,
    proxies,
    retry: createRetryPolicy({ maxAttempts: config.maxAttempts, baseMs: config.retryBaseMs, maxMs: config.retryMaxMs }),
    metrics,
    sites: new SiteLabeler(config.maxSites),
    jobs,
    logger,
    hostDelayMs: config.hostDelayMs,
    screenshotDir: config.screenshotDir,
    browser: browser ?? undefined,
    renderDecider,
    content: { cache: new ScrapeCompileCache(), maxContentBytes: config.maxContentBytes },
    baselines: store.schedules,
    now: o.now,
  });
  const modes: CrawlMode[] = browser ? ['http', 'browser', 'auto'] : ['http'];
  const crawler = new Crawler({
    frontier: store.frontier,
    processor,
    logger,
    workerId,
    concurrency: config.concurrency,
    leaseMs: config.leaseMs,
    maxPerHost: config.perHostConcurrency,
    hostDelayMs: config.hostDelayMs,
    modes,
    onFinishedJob: (job) => {
      if (job.status === 'failed') metrics.jobsFailed.inc({ reason: job.reason ?? 'unknown' });
      logger.info({ jobId: job.id, status: job.status, reason: job.reason }, 'job finished');
      o.onFinishedJob?.(job);
    },
    onStoreHealth: o.onStoreHealth,
    onRefused: (outcome) => {
      if (outcome.kind === 'done') jobs.withdraw(outcome.entry.jobId, outcome.discovered.map((d) => d.url));
    },
  });

  const proxySync = proxies.configured > 0 ? setInterval(() => void syncProxyHealth(store, proxies, logger), PROXY_SYNC_MS) : null;
  proxySync?.unref();

  return {
    crawler,
    proxies,
    browser,
    workerId,
    async close() {
      await crawler.stop();
      if (proxySync) clearInterval(proxySync);
      if (proxies.configured > 0) await syncProxyHealth(store, proxies, logger);
      await browser?.close();
      await fetcher.close();
    },
  };
}

/**
 * Shares cooldowns between processes: adopt the later cooldowns others recorded, then (unless
 * `publish` is false, as in an API-only process that never uses its proxies) record the merged
 * view, so a process never overwrites a cooldown it has not seen.
 */
export async function syncProxyHealth(store: Store, proxies: ProxyPool, logger: Logger, publish = true): Promise<void> {
  try {
    proxies.merge(await store.proxies.list());
    if (publish) for (const health of proxies.snapshot()) await store.proxies.record(health);
  } catch (err) {
    logger.warn({ err }, 'could not exchange proxy health with the store');
  }
}
