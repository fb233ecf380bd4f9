import path from 'node:path';
import { codeLabel, isOwlError, type OwlError, type ErrorCode } from '../errors.ts';
import { detectBlock } from '../crawl/block-detect.ts';
import { extractPage } from '../crawl/links.ts';
import { ROBOTS_ERROR_TTL_MS, ROBOTS_UNAVAILABLE_GIVE_UP_MS } from '../crawl/robots.ts';
import { isLikelyTrap, hostOf } from '../crawl/url.ts';
import type { BrowserPool } from '../crawl/browser/pool.ts';
import type { ProxyPool } from '../crawl/proxy-pool.ts';
import type { RetryDecision } from '../crawl/retry-policy.ts';
import type { RobotsCache } from '../crawl/robots.ts';
import type { BlockVerdict, ExtractedPage, Fetcher, ProxyHandle } from '../crawl/types.ts';
import type { CrawlMetrics } from '../metrics/registry.ts';
import type { SiteLabeler } from '../metrics/site-label.ts';
import type { Logger } from '../log.ts';
import type { Baseline, DiscoveredUrl, Frontier, FrontierEntry, Outcome, PageRecord, ScheduleStore } from '../store/types.ts';
import { JobContexts } from './job-contexts.ts';
import { isReadable, yieldOf, type ContentDeps, type FetchedDocument } from './page-content.ts';
import { PageSeries } from './page-series.ts';
import { SitemapReader } from './sitemap-reader.ts';

/** Checks of an unreadable robots.txt a URL waits through before it fails as robots_unavailable (about an hour). */
export const ROBOTS_WAITS = Math.ceil(ROBOTS_UNAVAILABLE_GIVE_UP_MS / ROBOTS_ERROR_TTL_MS);

export interface RenderDecider {
  needsBrowser(site: string, html: string, extracted: ExtractedPage): boolean;
  siteNeedsBrowser(site: string): boolean;
}

export interface PageProcessorDeps {
  /** Where host deferrals (crawl-delay, Retry-After) go, for every worker. */
  frontier: Pick<Frontier, 'deferHost'>;
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
  /** What each page yields for its job (formats, extraction rules, the content cap). */
  content: Omit<ContentDeps, 'metrics' | 'series'>;
  /** Checks of an unreadable robots.txt a URL waits through (default ROBOTS_WAITS). */
  robotsWaits?: number;
  /** Schedules' baselines: a schedule's run re-crawls conditionally against them (absent: every page is fetched in full). */
  baselines?: Pick<ScheduleStore, 'baseline'>;
  now?: () => number;
}

/** One fetched (or rendered) answer, whatever path produced it. */
interface Answer {
  finalUrl: string;
  status: number;
  contentType: string | null;
  body: string | null;
  /** Bytes of a PDF (the fetcher reads them for documents). */
  raw: Uint8Array | null;
  headers: Record<string, string>;
  bytes: number;
  fetchMs: number;
  mode: 'http' | 'browser';
  verdict: BlockVerdict;
  /** Links and title when the browser already extracted them from the DOM. */
  extracted: ExtractedPage | null;
}

/** If-None-Match / If-Modified-Since from a baseline that still has the content a 304 would carry over. */
function conditionalHeaders(baseline: Baseline | undefined): Record<string, string> | undefined {
  if (!baseline || baseline.content === null) return undefined;
  const headers: Record<string, string> = {};
  if (baseline.etag) headers['if-none-match'] = baseline.etag;
  if (baseline.lastModified) headers['if-modified-since'] = baseline.lastModified;
  return Object.keys(headers).length > 0 ? headers : undefined;
}

/** An unreadable robots.txt: its URLs wait until it is asked for again, about an hour in all. */
function robotsWait(entry: FrontierEntry, retryAt: number | undefined, now: number, waits: number): { notBefore: number } | null {
  if (entry.attempts + 1 >= waits) return null;
  // A second of jitter so a host's URLs do not all come back in the same instant.
  return { notBefore: Math.max(retryAt ?? now + ROBOTS_ERROR_TTL_MS, now) + Math.floor(Math.random() * 1_000) };
}

/**
 * Turns one leased URL into an outcome: robots → proxy → fetch/render → block detection →
 * retry decision or links. Every metric of a page is counted here, exactly once per attempt.
 * Returns null when the fetch was aborted by a stop (the lease is released, not settled).
 */
export class PageProcessor {
  private readonly now: () => number;
  private readonly sitemaps: SitemapReader;
  /** What yieldOf needs, made once rather than per page. */
  private readonly contentDeps: ContentDeps;
  private readonly series: PageSeries;

  constructor(private readonly deps: PageProcessorDeps) {
    this.now = deps.now ?? Date.now;
    this.series = new PageSeries(deps.metrics);
    this.contentDeps = { ...deps.content, metrics: deps.metrics, series: this.series };
    this.sitemaps = new SitemapReader({
      fetcher: deps.fetcher,
      robots: deps.robots,
      jobs: deps.jobs,
      metrics: deps.metrics,
      logger: deps.logger,
      retry: (entry, _site, code, retryAfterMs) => {
        const decision = deps.retry.decide(code, entry.attempts + 1, retryAfterMs);
        if (!decision.retry) return { retry: false };
        deps.metrics.retries.inc({ reason: decision.reason });
        return { retry: true, notBefore: this.now() + decision.delayMs };
      },
    });
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
          // RFC 9309: nothing may be fetched while the file cannot be read — later, not never. The
          // wait does not use the URL's retry budget: it lasts until the file is asked for again.
          const wait = robotsWait(entry, robots.retryAt, this.now(), deps.robotsWaits ?? ROBOTS_WAITS);
          if (wait === null) return this.fail(entry, site, 'ROBOTS_UNAVAILABLE', null, 'http');
          deps.metrics.retries.inc({ reason: 'robots' });
          return { kind: 'retry', entry, notBefore: wait.notBefore, errorCode: codeLabel('ROBOTS_UNAVAILABLE') };
        }
        if (robots.forbidden) return this.fail(entry, site, 'TARGET_FORBIDDEN', null, 'http');
        if (!robots.allowed) return entry.kind === 'sitemap' ? { kind: 'sitemap', entry, errorCode: codeLabel('ROBOTS_DENIED'), discovered: [] } : this.fail(entry, site, 'ROBOTS_DENIED', null, 'http');
        if (robots.crawlDelayMs !== null && robots.crawlDelayMs > deps.hostDelayMs) {
          await deps.frontier.deferHost(entry.host, this.now() + robots.crawlDelayMs);
        }
      }
      if (entry.kind === 'sitemap') return await this.sitemaps.read(entry, site, proxy, signal);
      const schedule = options.schedule;
      const baseline = schedule && deps.baselines ? await deps.baselines.baseline(schedule.id, entry.url) : undefined;
      // Adaptive re-visits: a URL whose interval has not run out is not fetched; the baseline carries over.
      if (baseline && schedule?.revisit === 'adaptive' && baseline.nextVisitAt > this.now()) return await this.carry(entry, site, baseline, null);
      const answer = await this.fetch(entry, site, proxy, signal, baseline);
      return await this.judge(entry, site, proxy, answer, schedule === undefined ? null : (baseline ?? 'none'));
    } catch (err) {
      if (signal.aborted) return null;
      return this.onError(entry, site, proxy, err, options.mode === 'browser' ? 'browser' : 'http');
    }
  }

  private async fetch(entry: FrontierEntry, site: string, proxy: ProxyHandle | null, signal: AbortSignal, baseline?: Baseline): Promise<Answer> {
    const { deps } = this;
    const { mode, allowPrivate } = entry.job.options;
    const { metrics } = deps;
    metrics.fetchesInFlight.inc();
    try {
      const useBrowser = deps.browser && (mode === 'browser' || (mode === 'auto' && deps.renderDecider?.siteNeedsBrowser(site)));
      if (useBrowser) return await this.render(entry, site, proxy, signal);
      const res = await deps.fetcher.fetch({ url: entry.url, proxy, allowPrivate, signal, accept: 'documents', headers: conditionalHeaders(baseline) });
      const series = this.series.site(site);
      series.latency(res.fetchMs / 1000);
      series.bytes(res.bytes);
      const answer: Answer = {
        finalUrl: res.finalUrl,
        status: res.status,
        contentType: res.contentType,
        body: res.body,
        raw: res.raw ?? null,
        headers: res.headers,
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
    const series = this.series.site(site);
    series.latency(r.fetchMs / 1000);
    series.bytes(r.bytes);
    return {
      finalUrl: r.finalUrl,
      status: r.status,
      contentType: 'text/html',
      body: r.html,
      raw: null,
      headers: {},
      bytes: r.bytes,
      fetchMs: r.fetchMs,
      mode: 'browser',
      verdict: r.blocked,
      extracted: { links: r.links, title: r.title },
    };
  }

  /**
   * `baseline`: null for a job no schedule started; 'none' for a URL a schedule's baseline does
   * not know (the page is new); else what the schedule knows of the URL.
   */
  private async judge(entry: FrontierEntry, site: string, proxy: ProxyHandle | null, a: Answer, baseline: Baseline | 'none' | null): Promise<Outcome> {
    const { metrics, proxies } = this.deps;
    const { status, verdict } = a;
    if (status === 304 && baseline !== null && baseline !== 'none') {
      if (proxy) proxies.report(proxy, 'ok');
      return this.carry(entry, site, baseline, a);
    }
    if (status === 403) metrics.http403.inc({ site });
    if (status === 429) metrics.http429.inc({ site });
    if (verdict?.kind === 'captcha') {
      metrics.captchaEncountered.inc({ site });
      if (proxy) proxies.report(proxy, 'blocked', `captcha:${verdict.vendor}`);
      return this.retryOrFail(entry, site, 'CAPTCHA', null, a, a.mode);
    }
    if (status === 429) {
      const retryAfterMs = verdict?.kind === 'rate_limited' ? verdict.retryAfterMs : null;
      if (retryAfterMs !== null && retryAfterMs > 0) await this.deps.frontier.deferHost(entry.host, this.now() + retryAfterMs);
      return this.retryOrFail(entry, site, 'HTTP_429', retryAfterMs, a, a.mode);
    }
    if (status === 403) {
      if (proxy) proxies.report(proxy, 'blocked', 'http_403');
      return this.retryOrFail(entry, site, 'HTTP_403', null, a, a.mode);
    }
    if (status >= 500) return this.retryOrFail(entry, site, 'HTTP_5XX', null, a, a.mode);
    if (proxy) proxies.report(proxy, 'ok');
    if (status >= 300) {
      const out = this.finalFailure(entry, site, status >= 400 ? `http_${status}` : 'http_3xx', a, a.mode);
      if (out.kind === 'failed' && baseline !== null && baseline !== 'none' && (status === 404 || status === 410)) {
        out.page.change = 'gone';
        out.page.previousPageId = baseline.pageId;
      }
      return out;
    }
    if (!isReadable(a)) return this.finalFailure(entry, site, codeLabel('UNSUPPORTED_CONTENT'), a, a.mode);

    const doc: FetchedDocument = {
      finalUrl: a.finalUrl,
      contentType: a.contentType,
      body: a.body,
      raw: a.raw,
      headers: a.headers,
      renderedLinks: a.mode === 'browser' ? (a.extracted?.links ?? null) : null,
    };
    let yielded = yieldOf(entry, site, doc, this.contentDeps);
    if (yielded instanceof Promise) yielded = await yielded;
    const discovered = await this.admissible(entry, yielded.links);
    this.series.site(site).fetched();
    this.deps.logger.debug({ jobId: entry.jobId, site, url: entry.url, status, links: yielded.links.length, ms: a.fetchMs }, 'page fetched');
    const page = this.record(entry, a, yielded.title, null, yielded.links.length);
    page.contentHash = yielded.contentHash;
    page.content = yielded.content;
    if (baseline !== null) {
      const known = baseline === 'none' ? null : baseline;
      page.change = known === null ? 'new' : known.contentHash === yielded.contentHash && known.dataHash === yielded.dataHash ? 'unchanged' : 'changed';
      page.previousPageId = known?.pageId ?? null;
      page.revisit = { etag: a.headers.etag ?? null, lastModified: a.headers['last-modified'] ?? null, dataHash: yielded.dataHash, links: yielded.links };
    }
    return { kind: 'done', entry, page, discovered };
  }

  /**
   * A page of a schedule's run that did not change: the server answered 304 (`a`), or adaptive
   * re-visits found it not due (`a` null, nothing fetched). Its stored content and links carry
   * over from the baseline, so the crawl still reaches the rest of the site.
   */
  private async carry(entry: FrontierEntry, site: string, baseline: Baseline, a: Answer | null): Promise<Outcome> {
    const page = this.record(entry, a, baseline.title, null, baseline.links.length);
    page.contentType = baseline.contentType;
    page.contentHash = baseline.contentHash;
    page.content = baseline.content;
    page.change = 'unchanged';
    page.previousPageId = baseline.pageId;
    page.revisit = {
      etag: a?.headers.etag ?? baseline.etag,
      lastModified: a?.headers['last-modified'] ?? baseline.lastModified,
      dataHash: baseline.dataHash,
      links: baseline.links,
      ...(a === null ? { notDue: true } : {}),
    };
    if (a !== null) this.deps.metrics.pagesNotModified.inc({ site });
    this.deps.logger.debug({ jobId: entry.jobId, site, url: entry.url, notModified: a !== null }, 'page unchanged, carried over');
    return { kind: 'done', entry, page, discovered: await this.admissible(entry, baseline.links) };
  }

  private async admissible(entry: FrontierEntry, links: string[]): Promise<DiscoveredUrl[]> {
    const depth = entry.depth + 1;
    if (depth > entry.job.options.maxDepth) return [];
    const ctx = await this.deps.jobs.get(entry.jobId);
    if (JobContexts.full(ctx, entry.job.options.maxPages)) return [];
    const out: DiscoveredUrl[] = [];
    for (const url of links) {
      // The Set lookup first: most links of a page were seen before, and the other checks cost more.
      if (!JobContexts.firstOffer(ctx, url) || !ctx.inScope(url) || isLikelyTrap(url)) continue;
      out.push({ url, host: hostOf(url), depth });
    }
    JobContexts.counted(ctx, out.length);
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
    // A sitemap that cannot be read (no usable proxy, robots.txt unreadable, …) is not a page: it
    // settles as a sitemap, or its job would wait for it forever.
    if (entry.kind === 'sitemap') {
      this.deps.logger.warn({ jobId: entry.jobId, site, url: entry.url, code: errorCode, attempts: entry.attempts + 1, err: err?.message }, 'sitemap failed');
      return { kind: 'sitemap', entry, errorCode, discovered: [] };
    }
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
      contentHash: null,
      lastmod: entry.lastmod,
      content: null,
    };
  }
}
