import path from 'node:path';
import { codeLabel, isOwlError, OwlError, type ErrorCode } from '../errors.ts';
import { detectBlock } from '../crawl/block-detect.ts';
import { extractPage } from '../crawl/links.ts';
import { isLikelyTrap, hostOf } from '../crawl/url.ts';
import type { BrowserPool } from '../crawl/browser/pool.ts';
import type { ProxyPool } from '../crawl/proxy-pool.ts';
import type { RetryDecision } from '../crawl/retry-policy.ts';
import type { RobotsCache } from '../crawl/robots.ts';
import type { BlockVerdict, ExtractedPage, Fetcher, ProxyHandle } from '../crawl/types.ts';
import type { CrawlMetrics } from '../metrics/registry.ts';
import type { SiteLabeler } from '../metrics/site-label.ts';
import type { Logger } from '../log.ts';
import type { DiscoveredUrl, FrontierEntry, Outcome, PageRecord, Store } from '../store/types.ts';
import { JobContexts } from './job-contexts.ts';

export interface RenderDecider {
  needsBrowser(site: string, html: string, extracted: ExtractedPage): boolean;
  siteNeedsBrowser(site: string): boolean;
}

export interface PageProcessorDeps {
  store: Store;
  fetcher: Fetcher;
  robots: RobotsCache;
  proxies: ProxyPool;
  retry: { decide(code: ErrorCode, attemptsSoFar: number, retryAfterMs?: number | null): RetryDecision };
  metrics: CrawlMetrics;
  sites: SiteLabeler;
  jobs: JobContexts;
  logger: Logger;
  /** Politeness floor; a robots crawl-delay above it defers the host for every worker. */
  hostDelayMs: number;
  /** Where screenshots of blocked pages go, for jobs that ask for them (`<dir>/<job id>/<entry id>.png`). */
  screenshotDir?: string;
  browser?: BrowserPool;
  renderDecider?: RenderDecider;
  now?: () => number;
}

/** One fetched (or rendered) answer, whatever path produced it. */
interface Answer {
  finalUrl: string;
  status: number;
  contentType: string | null;
  body: string | null;
  bytes: number;
  fetchMs: number;
  mode: 'http' | 'browser';
  verdict: BlockVerdict;
  /** Links and title when the browser already extracted them from the DOM. */
  extracted: ExtractedPage | null;
}

/**
 * Turns one leased URL into an outcome: robots → proxy → fetch/render → block detection →
 * retry decision or links. Every metric of a page is counted here, exactly once per attempt.
 * Returns null when the fetch was aborted by a stop (the lease is released, not settled).
 */
export class PageProcessor {
  private readonly now: () => number;

  constructor(private readonly deps: PageProcessorDeps) {
    this.now = deps.now ?? Date.now;
  }

  async process(entry: FrontierEntry, signal: AbortSignal): Promise<Outcome | null> {
    const { deps } = this;
    const site = deps.sites.label(entry.host);
    const options = entry.job.options;
    let proxy: ProxyHandle | null = null;
    try {
      if (deps.proxies.configured > 0) {
        proxy = deps.proxies.next();
        if (!proxy) {
          const at = deps.proxies.nextAvailableAt() ?? this.now() + 1_000;
          return this.retryOrFail(entry, site, 'PROXY', Math.max(0, at - this.now()), null, 'http');
        }
      }
      if (options.respectRobots) {
        // Fetched directly, not through this page's proxy: the answer is cached per origin for every
        // proxy, so one dead proxy must not make a whole site unreadable (and it is not the proxy's
        // health that robots.txt measures).
        const robots = await deps.robots.check(entry.url, { proxy: null, allowPrivate: options.allowPrivate });
        if (robots.unavailable) {
          // RFC 9309: nothing may be fetched while the file cannot be read — later, not never.
          return this.retryOrFail(entry, site, 'ROBOTS_UNAVAILABLE', null, null, 'http');
        }
        if (!robots.allowed) return this.fail(entry, site, 'ROBOTS_DENIED', null, 'http');
        if (robots.crawlDelayMs !== null && robots.crawlDelayMs > deps.hostDelayMs) {
          await deps.store.deferHost(entry.host, this.now() + robots.crawlDelayMs);
        }
      }
      const answer = await this.fetch(entry, site, proxy, signal);
      return await this.judge(entry, site, proxy, answer);
    } catch (err) {
      if (signal.aborted) return null;
      return this.onError(entry, site, proxy, err, options.mode === 'browser' ? 'browser' : 'http');
    }
  }

  private async fetch(entry: FrontierEntry, site: string, proxy: ProxyHandle | null, signal: AbortSignal): Promise<Answer> {
    const { deps } = this;
    const { mode, allowPrivate } = entry.job.options;
    const { metrics } = deps;
    metrics.fetchesInFlight.inc();
    try {
      const useBrowser = deps.browser && (mode === 'browser' || (mode === 'auto' && deps.renderDecider?.siteNeedsBrowser(site)));
      if (useBrowser) return await this.render(entry, site, proxy, signal);
      const res = await deps.fetcher.fetch({ url: entry.url, proxy, allowPrivate, signal });
      metrics.scrapeLatency.observe({ site }, res.fetchMs / 1000);
      metrics.pageBytes.inc({ site }, res.bytes);
      const answer: Answer = {
        finalUrl: res.finalUrl,
        status: res.status,
        contentType: res.contentType,
        body: res.body,
        bytes: res.bytes,
        fetchMs: res.fetchMs,
        mode: 'http',
        verdict: detectBlock({ status: res.status, headers: res.headers, body: res.body, now: this.now() }),
        extracted: null,
      };
      if (mode === 'auto' && deps.browser && deps.renderDecider && answer.verdict === null && res.status < 300 && res.body !== null) {
        const extracted = extractPage(res.body, res.finalUrl);
        answer.extracted = extracted;
        if (deps.renderDecider.needsBrowser(site, res.body, extracted)) {
          return await this.render(entry, site, proxy, signal);
        }
      }
      return answer;
    } finally {
      metrics.fetchesInFlight.dec();
    }
  }

  private async render(entry: FrontierEntry, site: string, proxy: ProxyHandle | null, signal: AbortSignal): Promise<Answer> {
    const { allowPrivate, screenshots } = entry.job.options;
    const screenshotPath = screenshots && this.deps.screenshotDir ? path.join(this.deps.screenshotDir, entry.jobId, `${entry.id}-${entry.attempts + 1}.png`) : null;
    const r = await this.deps.browser!.render({ url: entry.url, proxy, allowPrivate, signal, session: proxy?.id ?? site, screenshotPath });
    this.deps.metrics.scrapeLatency.observe({ site }, r.fetchMs / 1000);
    this.deps.metrics.pageBytes.inc({ site }, r.bytes);
    return {
      finalUrl: r.finalUrl,
      status: r.status,
      contentType: 'text/html',
      body: r.html,
      bytes: r.bytes,
      fetchMs: r.fetchMs,
      mode: 'browser',
      verdict: r.blocked,
      extracted: { links: r.links, title: r.title },
    };
  }

  private async judge(entry: FrontierEntry, site: string, proxy: ProxyHandle | null, a: Answer): Promise<Outcome> {
    const { metrics, proxies } = this.deps;
    const { status, verdict } = a;
    if (status === 403) metrics.http403.inc({ site });
    if (status === 429) metrics.http429.inc({ site });
    if (verdict?.kind === 'captcha') {
      metrics.captchaEncountered.inc({ site });
      if (proxy) proxies.report(proxy, 'blocked', `captcha:${verdict.vendor}`);
      return this.retryOrFail(entry, site, 'CAPTCHA', null, a, a.mode);
    }
    if (status === 429) {
      const retryAfterMs = verdict?.kind === 'rate_limited' ? verdict.retryAfterMs : null;
      if (retryAfterMs !== null && retryAfterMs > 0) await this.deps.store.deferHost(entry.host, this.now() + retryAfterMs);
      return this.retryOrFail(entry, site, 'HTTP_429', retryAfterMs, a, a.mode);
    }
    if (status === 403) {
      if (proxy) proxies.report(proxy, 'blocked', 'http_403');
      return this.retryOrFail(entry, site, 'HTTP_403', null, a, a.mode);
    }
    if (status >= 500) return this.retryOrFail(entry, site, 'HTTP_5XX', null, a, a.mode);
    if (proxy) proxies.report(proxy, 'ok');
    if (status >= 300) return this.finalFailure(entry, site, status >= 400 ? `http_${status}` : 'http_3xx', a, a.mode);
    if (a.body === null) return this.finalFailure(entry, site, codeLabel('UNSUPPORTED_CONTENT'), a, a.mode);

    const extracted = a.extracted ?? extractPage(a.body, a.finalUrl);
    const discovered = await this.admissible(entry, extracted.links);
    metrics.pagesFetched.inc({ site });
    this.deps.logger.debug({ jobId: entry.jobId, site, url: entry.url, status, links: extracted.links.length, ms: a.fetchMs }, 'page fetched');
    return { kind: 'done', entry, page: this.record(entry, a, extracted.title, null, extracted.links.length), discovered };
  }

  private async admissible(entry: FrontierEntry, links: string[]): Promise<DiscoveredUrl[]> {
    const depth = entry.depth + 1;
    if (depth > entry.job.options.maxDepth) return [];
    const ctx = await this.deps.jobs.get(entry.jobId);
    const out: DiscoveredUrl[] = [];
    for (const url of links) {
      // The Set lookup first: most links of a page were seen before, and the other checks cost more.
      if (!JobContexts.firstOffer(ctx, url) || !ctx.inScope(url) || isLikelyTrap(url)) continue;
      out.push({ url, host: hostOf(url), depth });
    }
    return out;
  }

  private onError(entry: FrontierEntry, site: string, proxy: ProxyHandle | null, err: unknown, mode: 'http' | 'browser'): Outcome {
    if (!isOwlError(err)) {
      this.deps.logger.error({ err, jobId: entry.jobId, site, url: entry.url }, 'unexpected error while crawling a page');
      return this.finalFailure(entry, site, codeLabel('INTERNAL'), null, mode);
    }
    if (proxy && (err.code === 'PROXY' || err.code === 'TIMEOUT')) this.deps.proxies.report(proxy, 'failure', err.code.toLowerCase());
    return this.retryOrFail(entry, site, err.code, null, null, mode, err);
  }

  private retryOrFail(entry: FrontierEntry, site: string, code: ErrorCode, retryAfterMs: number | null, a: Answer | null, mode: 'http' | 'browser', err?: OwlError): Outcome {
    const decision = this.deps.retry.decide(code, entry.attempts + 1, retryAfterMs);
    const errorCode = a && code.startsWith('HTTP_') ? `http_${a.status}` : codeLabel(code);
    if (decision.retry) {
      this.deps.metrics.retries.inc({ reason: decision.reason });
      this.deps.logger.info({ jobId: entry.jobId, site, url: entry.url, code: errorCode, attempt: entry.attempts + 1, delayMs: Math.round(decision.delayMs), err: err?.message }, 'fetch will be retried');
      return { kind: 'retry', entry, notBefore: this.now() + decision.delayMs, errorCode };
    }
    return this.finalFailure(entry, site, errorCode, a, mode, err);
  }

  private finalFailure(entry: FrontierEntry, site: string, errorCode: string, a: Answer | null, mode: 'http' | 'browser', err?: OwlError): Outcome {
    this.deps.metrics.pagesFailed.inc({ code: errorCode });
    this.deps.logger.warn({ jobId: entry.jobId, site, url: entry.url, code: errorCode, attempts: entry.attempts + 1, err: err?.message }, 'page failed');
    return { kind: 'failed', entry, page: this.record(entry, a, null, errorCode, 0, mode) };
  }

  private fail(entry: FrontierEntry, site: string, code: ErrorCode, a: Answer | null, mode: 'http' | 'browser'): Outcome {
    return this.finalFailure(entry, site, codeLabel(code), a, mode);
  }

  private record(entry: FrontierEntry, a: Answer | null, title: string | null, errorCode: string | null, linksFound: number, mode?: 'http' | 'browser'): PageRecord {
    return {
      url: entry.url,
      finalUrl: a?.finalUrl ?? null,
      statusCode: a?.status ?? null,
      title,
      bytes: a?.bytes ?? 0,
      fetchMs: Math.round(a?.fetchMs ?? 0),
      errorCode,
      contentType: a?.contentType ?? null,
      mode: a?.mode ?? mode ?? 'http',
      linksFound,
      depth: entry.depth,
      fetchedAt: this.now(),
    };
  }
}
