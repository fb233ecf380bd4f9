/**
 * Scraping: from a fetched page to the record a job asked for (issue #11). Pure modules — no
 * store, no HTTP server, no metrics registry — for the worker, the store, the API and the CLI.
 *
 * Design note for wiring:
 * - Job options: `validateScrapeOptions(body)` (options.ts) reads `formats`, `onlyMainContent`,
 *   `extract`, `sitemaps` from a `POST /jobs` body (or the CLI's, with `parseFormatsList` for
 *   `--formats a,b`) and throws OwlError('VALIDATION', 'extract.fields.x.selector: …', {field})
 *   → a 400. Merge `scrapeOptionsSchema` into the body schema's properties for Fastify/OpenAPI.
 *   Store the returned ScrapeOptions with the job; in the worker,
 *   `cache.forJob(jobId, options)` (ScrapeCompileCache) compiles selectors once per job.
 * - Fetching: `accept: 'documents'` makes the fetcher read HTML, text, JSON, XML (decoded into
 *   `body`) and PDF (bytes in `raw`, `body` null) within the same size cap; other types are
 *   drained as before. Sitemaps: `accept: 'bytes'` (gzip files are bytes) and `maxBodyBytes`.
 * - Per page: `extractPage(body, finalUrl, {metadata: true})` (src/crawl/links.ts) once; its
 *   `links` minus `nofollow` are the links to follow when the job respects robots (none when
 *   `metadata.robots.nofollow`) — `linksToFollow()` below. Then
 *   `await scrapePage({finalUrl, contentType, body, raw, scanned, headers}, compiled, {maxContentBytes})`
 *   gives the PageContent: only the formats asked for (metadata always), `contentHash`,
 *   `truncated` (capped fields) and `extraction` (null without rules or for non-HTML; else its
 *   `status` is the `outcome` label of `pages_extracted_total{site,outcome}`). A page with
 *   `metadata.robots.noindex` should not be stored as content when the job respects robots.
 *   `scrapePage` never throws for a page's content (a failed extraction is `failed`, a failed
 *   main-content or PDF read is a `warnings` entry).
 * - Storing: `encodeContent(content)` / `decodeContent(blob)` (content-codec.ts) is the one
 *   compressed format for both stores (BLOB / BYTEA).
 * - Exporting: `writeExport(format, records, out, columnsFor(compiled.extract))` (export.ts)
 *   streams jsonl/json/csv with backpressure in constant memory.
 * - Sitemaps: `sitemapCandidates(origin, robotsSitemaps)` and `parseSitemap(body, {url})`
 *   (sitemap.ts) give `{urls: [{url, lastmod}], sitemaps: [url]}`; robots.txt `Sitemap:` lines
 *   come from `RobotsCache.sitemaps(url, ctx)`.
 */
import { parseDocument } from 'htmlparser2';
import { extractPage } from '../crawl/links.ts';
import type { ExtractedPage } from '../crawl/types.ts';
import { capJson, capString } from './content-cap.ts';
import { bytesHash, contentHash } from './content-hash.ts';
import { documentKind, fenced, normaliseText, pdfText, type DocumentKind } from './documents.ts';
import { applyExtract, failedExtraction, type ExtractionReport } from './extract.ts';
import { buildMetadata, emptyMetadata, type PageMetadata } from './metadata.ts';
import type { MainContent } from './main-content.ts';
import type { CompiledScrape } from './options.ts';

export { compileExtractRules, EXTRACT_LIMITS, VALUE_TYPES, type CompiledExtract, type ExtractionStatus, type ExtractRules, type Rule, type RuleObject } from './extract.ts';
export { compileScrapeOptions, FORMATS, parseFormatsList, ScrapeCompileCache, SCRAPE_DEFAULTS, scrapeOptionsSchema, SITEMAP_MODES, validateScrapeOptions, type CompiledScrape, type Format, type ScrapeOptions, type SitemapMode } from './options.ts';
export { decodeContent, encodeContent, encodeContentJson } from './content-codec.ts';
export { documentKind, type DocumentKind } from './documents.ts';
export type { PageMetadata, RobotsMeta } from './metadata.ts';
export type { ExtractionReport } from './extract.ts';

export interface ScrapeInput {
  /** The URL after redirects: links, canonical and `url` values resolve against it (or its <base>). */
  finalUrl: string;
  /** Media type without parameters (`text/html`), as FetchResponse gives it. */
  contentType: string | null;
  /** The decoded body (HTML, text, JSON, XML); null for PDF. */
  body: string | null;
  /** The body's bytes, for PDF (FetchResponse.raw). */
  raw?: Uint8Array | null;
  /** `extractPage(body, finalUrl, {metadata: true})` when the worker already ran it (else run here). */
  scanned?: ExtractedPage;
  /** Response headers, lower-case names (X-Robots-Tag is read). */
  headers?: Record<string, string>;
}

export interface ScrapeLimits {
  /** Per content field (html, markdown, text, links, data, items, jsonLd): UTF-8 bytes of JSON kept. */
  maxContentBytes: number;
}

/** What one page yields; optional fields are present only when the job's formats ask for them. */
export interface PageContent {
  contentType: string | null;
  kind: DocumentKind;
  metadata: PageMetadata;
  links?: string[];
  text?: string;
  markdown?: string;
  html?: string;
  /** `fields` values (HTML), or the parsed document (JSON). */
  data?: unknown;
  items?: Array<Record<string, unknown>>;
  /** See content-hash.ts for exactly what it covers. */
  contentHash: string;
  /** Fields cut by the content cap or a per-page bound (`markdown`, `items`, `data.tags`). */
  truncated: string[];
  /** Null when the job has no rules or the document is not HTML. */
  extraction: ExtractionReport | null;
  /** Problems that are not failures: `main_content_failed`, `json_invalid`, `pdf_unreadable`. */
  warnings?: string[];
}

/**
 * The links a job follows from a page: all of them when it ignores robots; otherwise none on a
 * page whose robots meta says nofollow, and never those whose anchors are all rel=nofollow.
 */
export function linksToFollow(scanned: ExtractedPage, metadata: PageMetadata | null, respectRobots: boolean): string[] {
  if (!respectRobots) return scanned.links;
  if (metadata?.robots.nofollow) return [];
  if (scanned.nofollow === undefined) return scanned.links;
  const skip = new Set(scanned.nofollow);
  return scanned.links.filter((l) => !skip.has(l));
}

/** The content cap applied field by field, with the names of what it cut. */
class RecordBudget {
  readonly truncated: string[] = [];
  readonly warnings: string[] = [];
  constructor(private readonly maxBytes: number) {}

  string(name: string, value: string): string {
    const c = capString(value, this.maxBytes);
    if (c.truncated) this.truncated.push(name);
    return c.value;
  }

  json<T>(name: string, value: T): T {
    const c = capJson(value, this.maxBytes);
    if (c.truncated) this.truncated.push(name);
    return c.value;
  }
}

/** Turns one fetched page into its content record. Never rejects because of the page's content. */
export async function scrapePage(input: ScrapeInput, job: CompiledScrape, limits: ScrapeLimits): Promise<PageContent> {
  const now = scrapePageNow(input, job, limits);
  if (now !== null) return now;
  const rec = new RecordBudget(limits.maxContentBytes);
  const page = documentKind(input.contentType) === 'pdf' ? await scrapePdf(input, job, rec) : await scrapeHtmlWithMainContent(input, job, rec);
  return finish(page, rec);
}

/**
 * scrapePage without waiting, for every page but those that need a library loaded or a PDF read
 * (HTML whose job asks for text or Markdown, PDF): null for those. A crawl that wants metadata,
 * links, HTML or extracted data records each page without a promise.
 */
export function scrapePageNow(input: ScrapeInput, job: CompiledScrape, limits: ScrapeLimits): PageContent | null {
  const kind = documentKind(input.contentType) ?? 'text';
  if (kind === 'pdf' || (kind === 'html' && (job.text || job.markdown))) return null;
  const rec = new RecordBudget(limits.maxContentBytes);
  return finish(kind === 'html' ? scrapeHtml(input, job, rec, null) : scrapeTextual(input, kind, job, rec), rec);
}

function finish(page: PageContent, rec: RecordBudget): PageContent {
  if (page.metadata.jsonLd.length > 0) page.metadata.jsonLd = rec.json('metadata.jsonLd', page.metadata.jsonLd);
  for (const t of rec.truncated) if (!page.truncated.includes(t)) page.truncated.push(t);
  if (rec.warnings.length > 0) page.warnings = rec.warnings;
  return page;
}

/**
 * The main-content libraries (linkedom, Readability, turndown), loaded on the first page that asks
 * for text or Markdown: a crawl that only wants metadata or extracted data never pays for loading them.
 */
let mainContentModule: Promise<typeof import('./main-content.ts')> | null = null;

/** An HTML page whose job asks for text or Markdown: its main content first (the only part that may wait, for loading the libraries). */
async function scrapeHtmlWithMainContent(input: ScrapeInput, job: CompiledScrape, rec: RecordBudget): Promise<PageContent> {
  const scanned = scanOf(input);
  let main: MainContent | null = null;
  try {
    mainContentModule ??= import('./main-content.ts');
    const { extractMainContent } = await mainContentModule;
    main = extractMainContent(input.body ?? '', scanned.head!.baseUrl, { onlyMainContent: job.onlyMainContent, markdown: job.markdown });
  } catch {
    rec.warnings.push('main_content_failed');
  }
  return scrapeHtml({ ...input, scanned }, job, rec, main);
}

/** `extractPage(body, finalUrl, {metadata: true})`, unless the worker already ran it. */
function scanOf(input: ScrapeInput): ExtractedPage {
  return input.scanned?.head !== undefined ? input.scanned : extractPage(input.body ?? '', input.finalUrl, { metadata: true });
}

/** The record of an HTML page; `main` is its main content when the job asked for text or Markdown (null otherwise, or when it failed). */
function scrapeHtml(input: ScrapeInput, job: CompiledScrape, rec: RecordBudget, main: MainContent | null): PageContent {
  const body = input.body ?? '';
  const scanned = scanOf(input);
  const head = scanned.head!;
  const metadata = buildMetadata(scanned.title, head, input.headers?.['x-robots-tag']);
  const page: PageContent = { contentType: input.contentType, kind: 'html', metadata, contentHash: '', truncated: [], extraction: null };
  if (job.links) page.links = rec.json('links', scanned.links);
  if (job.html) page.html = rec.string('html', body);

  const mainText = main?.text ?? null;
  if (main !== null) {
    if (job.text) page.text = rec.string('text', main.text);
    if (job.markdown) page.markdown = rec.string('markdown', main.markdown ?? '');
  }

  let data: unknown;
  let items: unknown;
  if (job.extract !== null) {
    try {
      const result = applyExtract(job.extract, parseDocument(body), head.baseUrl);
      data = result.data;
      items = result.items;
      if (result.data !== undefined) page.data = rec.json('data', result.data);
      if (result.items !== undefined) page.items = rec.json('items', result.items);
      page.truncated.push(...result.truncated);
      page.extraction = result.extraction;
    } catch (err) {
      page.extraction = failedExtraction(err);
    }
  }
  page.contentHash = contentHash({
    mainText,
    fallback: { title: metadata.title, description: metadata.description, canonical: metadata.canonical },
    data,
    items,
  });
  return page;
}

function scrapeTextual(input: ScrapeInput, kind: DocumentKind, job: CompiledScrape, rec: RecordBudget): PageContent {
  const body = normaliseText(input.body ?? '');
  const page: PageContent = { contentType: input.contentType, kind, metadata: emptyMetadata(), contentHash: '', truncated: [], extraction: null };
  let data: unknown;
  if (kind === 'json') {
    try {
      data = JSON.parse(body);
      page.data = rec.json('data', data);
    } catch {
      page.data = null;
      rec.warnings.push('json_invalid');
    }
  }
  if (job.text) page.text = rec.string('text', body);
  if (job.markdown) page.markdown = rec.string('markdown', kind === 'json' ? fenced(body, 'json') : kind === 'xml' ? fenced(body, 'xml') : body);
  if (job.html) page.html = rec.string('html', body);
  page.contentHash = data !== undefined ? contentHash({ mainText: null, data }) : contentHash({ mainText: body });
  return page;
}

async function scrapePdf(input: ScrapeInput, job: CompiledScrape, rec: RecordBudget): Promise<PageContent> {
  const page: PageContent = { contentType: input.contentType, kind: 'pdf', metadata: emptyMetadata(), contentHash: '', truncated: [], extraction: null };
  const bytes = input.raw ?? new Uint8Array(0);
  let text: string | null = null;
  if ((job.text || job.markdown) && bytes.length > 0) {
    try {
      const pdf = await pdfText(bytes);
      text = pdf.text;
      page.metadata.title = pdf.title;
      if (job.text) page.text = rec.string('text', pdf.text);
      if (job.markdown) page.markdown = rec.string('markdown', pdf.text);
    } catch {
      rec.warnings.push('pdf_unreadable');
    }
  }
  page.contentHash = text !== null ? contentHash({ mainText: text }) : bytesHash(bytes);
  return page;
}
