/**
 * What a fetched (or rendered) page yields for its job: the links to follow and the record its
 * formats ask for, compressed for the store. The scraping itself is src/scrape's; this decides,
 * per job, what is kept and counts it.
 */
import { extractPage } from '../crawl/links.ts';
import type { ExtractedPage } from '../crawl/types.ts';
import type { CrawlMetrics } from '../metrics/registry.ts';
import { documentKind, encodeContentJson, linksToFollow, SCRAPE_DEFAULTS, scrapePage, scrapePageNow, type PageContent, type ScrapeCompileCache, type ScrapeInput, type ScrapeOptions } from '../scrape/index.ts';
import { dataHash } from '../scrape/content-hash.ts';
import { storedContentJson } from '../scrape/record.ts';
import type { FrontierEntry } from '../store/types.ts';
import type { PageSeries } from './page-series.ts';

/** A page as the fetcher or the browser gave it. */
export interface FetchedDocument {
  finalUrl: string;
  contentType: string | null;
  /** Decoded text (HTML, text, JSON, XML); null for a PDF or an unread type. */
  body: string | null;
  /** Bytes of a PDF. */
  raw: Uint8Array | null;
  headers: Record<string, string>;
  /** Links the browser read from the rendered DOM (they win over the scan of its HTML). */
  renderedLinks: string[] | null;
}

export interface PageYield {
  /** Links to offer to the frontier (nofollow and robots meta honoured when the job respects robots). */
  links: string[];
  title: string | null;
  contentHash: string;
  /** Hash of the extracted data and items alone; null without extraction rules. */
  dataHash: string | null;
  /** The compressed record; null when the page asks not to be indexed (robots noindex) and the job respects robots. */
  content: Uint8Array | null;
}

export interface ContentDeps {
  cache: ScrapeCompileCache;
  maxContentBytes: number;
  metrics: Pick<CrawlMetrics, 'pagesExtracted'>;
  /** The per-page series (documents by kind, content stored by site). */
  series: PageSeries;
}

/** True when the page can be read as a result (text of a known kind, or a PDF's bytes). */
export function isReadable(doc: Pick<FetchedDocument, 'body' | 'raw'>): boolean {
  return doc.body !== null || doc.raw !== null;
}

/** What the page yields, with a promise only when its job needs one (text or Markdown of HTML, a PDF). */
export function yieldOf(entry: FrontierEntry, site: string, doc: FetchedDocument, deps: ContentDeps): PageYield | Promise<PageYield> {
  const scrape: ScrapeOptions = (entry.job.options.scrape as ScrapeOptions | undefined) ?? SCRAPE_DEFAULTS;
  const compiled = deps.cache.forJob(entry.jobId, scrape);
  let scanned: ExtractedPage | undefined;
  if (doc.body !== null && documentKind(doc.contentType) === 'html') {
    scanned = extractPage(doc.body, doc.finalUrl, SCAN_WITH_METADATA);
    if (doc.renderedLinks !== null) scanned = { ...scanned, links: doc.renderedLinks };
  }
  const input: ScrapeInput = { finalUrl: doc.finalUrl, contentType: doc.contentType, body: doc.body, raw: doc.raw, scanned, headers: doc.headers };
  const limits = { maxContentBytes: deps.maxContentBytes };
  const now = scrapePageNow(input, compiled, limits);
  if (now !== null) return yieldFrom(entry, site, scrape, scanned, now, deps);
  return scrapePage(input, compiled, limits).then((content) => yieldFrom(entry, site, scrape, scanned, content, deps));
}

const SCAN_WITH_METADATA = { metadata: true } as const;

function yieldFrom(entry: FrontierEntry, site: string, scrape: ScrapeOptions, scanned: ExtractedPage | undefined, content: PageContent, deps: ContentDeps): PageYield {
  const options = entry.job.options;
  const { metrics } = deps;
  deps.series.document(content.kind);
  if (content.extraction !== null) metrics.pagesExtracted.inc({ site, outcome: content.extraction.status });
  // "With sitemaps only": just the URLs the sitemaps list are crawled, links are not followed.
  const links = scanned === undefined || scrape.sitemaps === 'only' ? [] : linksToFollow(scanned, content.metadata, options.respectRobots);
  const noindex = options.respectRobots && content.metadata.robots.noindex;
  const stored = noindex ? null : encodeContentJson(storedContentJson(content));
  if (stored !== null) deps.series.site(site).stored(stored.length);
  const extracted = content.data !== undefined || content.items !== undefined ? dataHash(content.data, content.items) : null;
  return { links, title: content.metadata.title ?? scanned?.title ?? null, contentHash: content.contentHash, dataHash: extracted, content: stored };
}
