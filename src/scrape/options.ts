/**
 * A job's scraping options (`POST /jobs` body and `owl crawl` flags): their validation with errors
 * naming the field, and their compiled form, built once per job. Their type, defaults and JSON
 * schema fragment are in options-schema.ts (re-exported here).
 */
import { OwlError } from '../errors.ts';
import { compileExtractRules, type CompiledExtract } from './extract.ts';
import { FORMATS, SCRAPE_DEFAULTS, SITEMAP_MODES, type Format, type ScrapeOptions, type SitemapMode } from './options-schema.ts';

export { FORMATS, SCRAPE_DEFAULTS, scrapeOptionsSchema, SITEMAP_MODES, type Format, type ScrapeOptions, type SitemapMode } from './options-schema.ts';

function invalid(field: string, message: string): OwlError {
  return new OwlError('VALIDATION', `${field}: ${message}`, { field });
}

function parseFormats(raw: unknown, field: string): Format[] {
  if (!Array.isArray(raw)) throw invalid(field, `must be an array of ${FORMATS.join(', ')}`);
  if (raw.length > 20) throw invalid(field, 'must list at most 20 formats');
  const wanted = new Set<Format>();
  raw.forEach((f, i) => {
    if (typeof f !== 'string' || !(FORMATS as readonly string[]).includes(f)) {
      throw invalid(`${field}[${i}]`, `unknown format ${JSON.stringify(String(f).slice(0, 40))} (known: ${FORMATS.join(', ')})`);
    }
    wanted.add(f as Format);
  });
  // Canonical order, metadata always first: records and caches do not depend on how it was written.
  wanted.add('metadata');
  return FORMATS.filter((f) => wanted.has(f));
}

/**
 * The scraping options of a job body (other keys are ignored), with defaults. Throws
 * OwlError('VALIDATION') naming the field: `formats[1]: unknown format "md" …`,
 * `extract.items.fields.url.selector: unknown pseudo-class :foo`.
 */
export function validateScrapeOptions(body: Record<string, unknown>): ScrapeOptions {
  const formats = body.formats === undefined ? [...SCRAPE_DEFAULTS.formats] : parseFormats(body.formats, 'formats');
  let onlyMainContent = SCRAPE_DEFAULTS.onlyMainContent;
  if (body.onlyMainContent !== undefined) {
    if (typeof body.onlyMainContent !== 'boolean') throw invalid('onlyMainContent', 'must be true or false');
    onlyMainContent = body.onlyMainContent;
  }
  const extract = body.extract === undefined || body.extract === null ? null : compileExtractRules(body.extract, 'extract').rules;
  let sitemaps = SCRAPE_DEFAULTS.sitemaps;
  if (body.sitemaps !== undefined) {
    if (typeof body.sitemaps !== 'string' || !(SITEMAP_MODES as readonly string[]).includes(body.sitemaps)) {
      throw invalid('sitemaps', `must be one of ${SITEMAP_MODES.join(', ')}`);
    }
    sitemaps = body.sitemaps as SitemapMode;
  }
  return { formats, onlyMainContent, extract, sitemaps };
}

/** `--formats metadata,markdown` → the formats; errors name `formats`. */
export function parseFormatsList(csv: string): Format[] {
  const parts = csv.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length === 0) throw invalid('formats', `must list at least one of ${FORMATS.join(', ')}`);
  return parseFormats(parts, 'formats');
}

/** A job's options, compiled: what scrapePage reads for every page. */
export interface CompiledScrape {
  readonly options: ScrapeOptions;
  readonly links: boolean;
  readonly text: boolean;
  readonly markdown: boolean;
  readonly html: boolean;
  readonly onlyMainContent: boolean;
  readonly extract: CompiledExtract | null;
}

export function compileScrapeOptions(options: ScrapeOptions): CompiledScrape {
  const has = (f: Format): boolean => options.formats.includes(f);
  return Object.freeze({
    options,
    links: has('links'),
    text: has('text'),
    markdown: has('markdown'),
    html: has('html'),
    onlyMainContent: options.onlyMainContent,
    extract: options.extract === null ? null : compileExtractRules(options.extract),
  });
}

/**
 * Compiled options by job id, so rules are compiled once per job and not once per page. Bounded:
 * the least recently used job is dropped past `maxJobs` (it recompiles on its next page).
 */
export class ScrapeCompileCache {
  private readonly byJob = new Map<string, CompiledScrape>();
  private last: { jobId: string; compiled: CompiledScrape } | null = null;

  constructor(private readonly maxJobs = 1000) {}

  forJob(jobId: string, options: ScrapeOptions): CompiledScrape {
    // Pages of one job come in runs: the job asked for last needs no lookup or LRU move.
    const last = this.last;
    if (last !== null && last.jobId === jobId && last.compiled.options === options) return last.compiled;
    let compiled = this.byJob.get(jobId);
    if (compiled !== undefined && compiled.options !== options) {
      // A different options object for the same job (re-read from the store): same content, keep.
      // Kept under the new object, so the next page of the job is recognised by identity.
      compiled = JSON.stringify(compiled.options) === JSON.stringify(options) ? { ...compiled, options } : undefined;
    }
    if (compiled === undefined) compiled = compileScrapeOptions(options);
    this.byJob.delete(jobId);
    this.byJob.set(jobId, compiled);
    while (this.byJob.size > this.maxJobs) this.byJob.delete(this.byJob.keys().next().value!);
    this.last = { jobId, compiled };
    return compiled;
  }

  /** Forget a finished job. */
  drop(jobId: string): void {
    this.byJob.delete(jobId);
    if (this.last?.jobId === jobId) this.last = null;
  }

  get size(): number {
    return this.byJob.size;
  }
}
