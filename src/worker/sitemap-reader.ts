/**
 * Reads one sitemap entry of the frontier: fetches the file (politely, like a page: the frontier
 * claimed it under the host's limits), parses it (src/scrape/sitemap.ts: streaming, no entity
 * expansion, the protocol's 50,000 URLs and 50 MB), and returns the URLs it lists — pages at
 * depth 0 with their lastmod, nested sitemaps one level deeper — within the job's scope. A root
 * sitemap (depth 0: the seed origin's /sitemap.xml) also brings in the robots.txt `Sitemap:` lines.
 * Nothing is stored as a page: the outcome is of kind `sitemap`.
 */
import { codeLabel, isOwlError, type ErrorCode } from '../errors.ts';
import type { RobotsCache } from '../crawl/robots.ts';
import type { Fetcher, ProxyHandle } from '../crawl/types.ts';
import { hostOf, isLikelyTrap, normalizeUrl } from '../crawl/url.ts';
import type { Logger } from '../log.ts';
import type { CrawlMetrics } from '../metrics/registry.ts';
import { parseSitemap, SITEMAP_LIMITS, SitemapError } from '../scrape/sitemap.ts';
import type { DiscoveredUrl, FrontierEntry, Outcome } from '../store/types.ts';
import { JobContexts } from './job-contexts.ts';

export interface SitemapReaderDeps {
  fetcher: Fetcher;
  robots: RobotsCache;
  jobs: JobContexts;
  metrics: Pick<CrawlMetrics, 'sitemapUrls' | 'pageBytes'>;
  logger: Logger;
  /** The page processor's retry decision (same budget and backoff as pages). */
  retry: (entry: FrontierEntry, site: string, code: ErrorCode, retryAfterMs: number | null) => { retry: true; notBefore: number } | { retry: false };
}

export class SitemapReader {
  constructor(private readonly deps: SitemapReaderDeps) {}

  async read(entry: FrontierEntry, site: string, proxy: ProxyHandle | null, signal: AbortSignal): Promise<Outcome> {
    const { deps } = this;
    const { allowPrivate } = entry.job.options;
    // The robots.txt `Sitemap:` lines of a root come first: they count even when /sitemap.xml does not exist.
    const named = entry.depth === 0 ? await this.namedInRobots(entry, proxy) : [];
    let code: ErrorCode | null = null;
    let status = 0;
    let retryAfterMs: number | null = null;
    try {
      const res = await deps.fetcher.fetch({ url: entry.url, proxy, allowPrivate, signal, accept: 'bytes', maxBodyBytes: SITEMAP_LIMITS.maxBytes });
      deps.metrics.pageBytes.inc({ site }, res.bytes);
      status = res.status;
      if (res.status >= 200 && res.status < 300) {
        const parsed = await parseSitemap(res.raw ?? new Uint8Array(0), { url: entry.url });
        return { kind: 'sitemap', entry, errorCode: null, discovered: [...named, ...(await this.admissible(entry, parsed))] };
      }
      if (res.status === 429 || res.status >= 500) {
        code = res.status === 429 ? 'HTTP_429' : 'HTTP_5XX';
        const ra = Number(res.headers['retry-after']);
        retryAfterMs = Number.isFinite(ra) && ra >= 0 ? ra * 1000 : null;
      } else {
        return { kind: 'sitemap', entry, errorCode: `http_${res.status}`, discovered: named };
      }
    } catch (err) {
      if (signal.aborted) throw err;
      if (err instanceof SitemapError) {
        deps.logger.warn({ jobId: entry.jobId, site, url: entry.url, code: err.code, err: err.message }, 'sitemap refused');
        return { kind: 'sitemap', entry, errorCode: `sitemap_${err.code}`, discovered: named };
      }
      if (!isOwlError(err)) throw err;
      if (!err.retryable) return { kind: 'sitemap', entry, errorCode: codeLabel(err.code), discovered: named };
      code = err.code;
    }
    const decision = deps.retry(entry, site, code, retryAfterMs);
    if (decision.retry) return { kind: 'retry', entry, notBefore: decision.notBefore, errorCode: status ? `http_${status}` : codeLabel(code) };
    return { kind: 'sitemap', entry, errorCode: status ? `http_${status}` : codeLabel(code), discovered: named };
  }

  /** Sitemaps a root's robots.txt names (nested one level, so they do not look at robots.txt again). */
  private async namedInRobots(entry: FrontierEntry, proxy: ProxyHandle | null): Promise<DiscoveredUrl[]> {
    const { allowPrivate } = entry.job.options;
    let urls: string[];
    try {
      urls = await this.deps.robots.sitemaps(entry.url, { proxy, allowPrivate });
    } catch {
      return [];
    }
    const ctx = await this.deps.jobs.get(entry.jobId);
    const out: DiscoveredUrl[] = [];
    for (const raw of urls) {
      const url = normalizeUrl(raw);
      if (url === null || url === entry.url || !ctx.inScope(url)) continue;
      out.push({ url, host: hostOf(url), depth: 1, kind: 'sitemap' });
    }
    return out;
  }

  /** The listed URLs the job may crawl: normalised, in scope, not traps, not offered before by this process. */
  private async admissible(entry: FrontierEntry, parsed: Awaited<ReturnType<typeof parseSitemap>>): Promise<DiscoveredUrl[]> {
    const ctx = await this.deps.jobs.get(entry.jobId);
    const count = this.deps.metrics.sitemapUrls;
    const out: DiscoveredUrl[] = [];
    for (const { url: raw, lastmod } of parsed.urls) {
      const url = normalizeUrl(raw);
      if (url === null || !ctx.inScope(url)) {
        count.inc({ result: 'out_of_scope' });
        continue;
      }
      if (isLikelyTrap(url)) {
        count.inc({ result: 'trap' });
        continue;
      }
      if (!JobContexts.firstOffer(ctx, url)) continue;
      count.inc({ result: 'admitted' });
      const time = lastmod === null ? Number.NaN : Date.parse(lastmod);
      out.push({ url, host: hostOf(url), depth: 0, lastmod: Number.isFinite(time) ? time : null });
    }
    for (const raw of parsed.sitemaps) {
      const url = normalizeUrl(raw);
      if (url === null || !ctx.inScope(url)) continue;
      out.push({ url, host: hostOf(url), depth: entry.depth + 1, kind: 'sitemap' });
    }
    return out;
  }
}
