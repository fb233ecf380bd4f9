import { existsSync } from 'node:fs';
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Config } from '../config/schema.ts';
import { createHttpFetcher } from '../crawl/http-fetcher.ts';
import { createProxyPool, loadProxyList, type ProxyPool } from '../crawl/proxy-pool.ts';
import { createRetryPolicy } from '../crawl/retry-policy.ts';
import { createRobotsCache } from '../crawl/robots.ts';
import type { BrowserPool } from '../crawl/browser/pool.ts';
import type { Logger } from '../log.ts';
import type { CrawlMetrics } from '../metrics/registry.ts';
import { SiteLabeler } from '../metrics/site-label.ts';
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
}

/** How long an unreadable robots.txt stays cached as "disallow everything for now". */
const ROBOTS_ERROR_TTL_MS = 30_000;

/** How often proxy health is exchanged with the store so all workers share cooldowns. */
const PROXY_SYNC_MS = 5_000;

export async function buildProxyPool(config: Config): Promise<ProxyPool> {
  const list = await loadProxyList({ proxies: config.proxies, proxyFile: config.proxyFile });
  return createProxyPool({ proxies: list, cooldownBaseMs: config.proxyCooldownMs });
}

/** Wires fetcher, robots, proxies, retries, browser and the claim loop from the configuration. */
export async function createCrawlRuntime(o: CrawlRuntimeOptions): Promise<CrawlRuntime> {
  const { config, store, metrics, logger } = o;
  const workerId = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const fetcher = createHttpFetcher({
    userAgent: config.userAgent,
    connectTimeoutMs: config.connectTimeoutMs,
    headersTimeoutMs: config.headersTimeoutMs,
    bodyTimeoutMs: config.bodyTimeoutMs,
    maxBodyBytes: config.maxBodyBytes,
    maxRedirects: config.maxRedirects,
    connectionsPerOrigin: Math.max(config.perHostConcurrency, 1),
  });
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
      navigationTimeoutMs: config.browserNavigationTimeoutMs,
      userAgent: config.userAgent,
      events: {
        onPage: (outcome) => metrics.browserPages.inc({ outcome }),
        onRestart: (reason) => metrics.browserRestarts.inc({ reason }),
      },
    });
    renderDecider = createRenderDecider();
  }
  const jobs = new JobContexts(store);
  const processor = new PageProcessor({
    store,
    fetcher,
    // A robots.txt that failed is asked again after 30 s (not 10 min): its URLs wait in retry meanwhile.
    robots: createRobotsCache({ fetcher, userAgent: config.userAgent, errorTtlMs: ROBOTS_ERROR_TTL_MS }),
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
  });
  const modes: CrawlMode[] = browser ? ['http', 'browser', 'auto'] : ['http'];
  const crawler = new Crawler({
    store,
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
    proxies.merge(await store.listProxyHealth());
    if (publish) for (const health of proxies.snapshot()) await store.recordProxyHealth(health);
  } catch (err) {
    logger.warn({ err }, 'could not exchange proxy health with the store');
  }
}
