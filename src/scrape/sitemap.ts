/**
 * Sitemaps (sitemaps.org protocol): `<urlset>` files, `<sitemapindex>` files, gzip, and plain
 * text sitemaps (one URL per line). Streaming: the XML goes through saxes chunk by chunk, so a
 * file is never held whole as text and an oversized one is refused as soon as it passes the limit.
 *
 * - No entity expansion: saxes knows no DTD, so entities declared in a DOCTYPE (billion laughs,
 *   external entities) are never expanded — a document that declares any is refused at once,
 *   and an undeclared entity reference is an XML error.
 * - Limits of the protocol: 50,000 URLs per file (the first 50,000 are kept, `limited` says so),
 *   50 MB uncompressed per file (refused with SitemapError('too_large') as the 50,000,001st byte
 *   arrives — compressed input is counted after inflation).
 * - gzip is recognised by its magic bytes (1f 8b), whatever the content type says.
 * - Only absolute http(s) `<loc>` values are kept (whitespace trimmed, fragment dropped);
 *   `lastmod` is kept as written (W3C datetime) or null.
 */
import zlib from 'node:zlib';
import { SaxesParser } from 'saxes';

export const SITEMAP_LIMITS = {
  maxUrls: 50_000,
  maxBytes: 50 * 1000 * 1000,
  /** Longest <loc> kept (characters); longer ones are skipped. */
  maxUrlLength: 2048,
} as const;

export interface SitemapUrl {
  url: string;
  lastmod: string | null;
}

export interface SitemapResult {
  /** Page URLs of a urlset (or text sitemap). */
  urls: SitemapUrl[];
  /** Child sitemaps of a sitemap index (their `lastmod` in `sitemapLastmod`, same order). */
  sitemaps: string[];
  sitemapLastmod: Array<string | null>;
  kind: 'urlset' | 'sitemapindex' | 'text';
  /** True when entries past the 50,000-URL limit were dropped. */
  limited: boolean;
  /** `<loc>` values dropped: not absolute http(s), too long, or unparsable. */
  skipped: number;
}

export type SitemapErrorCode = 'too_large' | 'not_a_sitemap' | 'invalid_xml' | 'entity_declaration' | 'gzip';

export class SitemapError extends Error {
  constructor(
    readonly code: SitemapErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SitemapError';
  }
}

export interface ParseSitemapOptions {
  /** The sitemap's own URL, for error messages. */
  url?: string;
  /** Override the protocol limits (tests, or a stricter operator). */
  maxUrls?: number;
  maxBytes?: number;
}

type Input = string | Uint8Array | AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

function isIterable(v: unknown): v is Iterable<Uint8Array | string> {
  return typeof v === 'object' && v !== null && Symbol.iterator in v;
}

/** Input as a stream of byte chunks. */
async function* chunksOf(input: Input): AsyncGenerator<Uint8Array> {
  if (typeof input === 'string') {
    yield Buffer.from(input, 'utf8');
    return;
  }
  if (input instanceof Uint8Array) {
    yield input;
    return;
  }
  if (isIterable(input)) {
    for (const c of input) yield typeof c === 'string' ? Buffer.from(c, 'utf8') : c;
    return;
  }
  for await (const c of input) yield typeof c === 'string' ? Buffer.from(c, 'utf8') : c;
}

/** Inflates gzip chunk by chunk (when the first bytes say so), never more than `limit` bytes in total. */
async function* inflated(source: AsyncGenerator<Uint8Array>, limit: number, where: string): AsyncGenerator<Uint8Array> {
  const first = await source.next();
  if (first.done) return;
  const head = first.value;
  if (!(head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b)) {
    let total = head.length;
    if (total > limit) throw tooLarge(limit, where);
    yield head;
    for await (const c of source) {
      total += c.length;
      if (total > limit) throw tooLarge(limit, where);
      yield c;
    }
    return;
  }
  const gunzip = zlib.createGunzip();
  let total = 0;
  const pending: Buffer[] = [];
  let failure: Error | null = null;
  gunzip.on('data', (c: Buffer) => {
    total += c.length;
    if (total > limit) {
      failure ??= tooLarge(limit, where);
      gunzip.destroy();
      return;
    }
    pending.push(c);
  });
  gunzip.on('error', (err) => {
    failure ??= new SitemapError('gzip', `${where}: the gzip data is corrupt: ${err.message}`, { cause: err });
  });
  // Resolves when zlib took the chunk, or when the inflater fails or closes (its callback may then never come).
  const write = (c: Uint8Array): Promise<void> =>
    new Promise((resolve) => {
      if (gunzip.destroyed) return resolve();
      const done = (): void => {
        gunzip.off('close', done);
        gunzip.off('error', done);
        resolve();
      };
      gunzip.once('close', done);
      gunzip.once('error', done);
      gunzip.write(c, done);
    });
  const drainPending = function* (): Generator<Uint8Array> {
    while (pending.length > 0) yield pending.shift()!;
  };
  try {
    await write(head);
    if (failure) throw failure;
    yield* drainPending();
    for await (const c of source) {
      await write(c);
      if (failure) throw failure;
      yield* drainPending();
    }
    await new Promise<void>((resolve) => {
      if (gunzip.destroyed) return resolve();
      gunzip.once('end', resolve);
      gunzip.once('close', resolve);
      gunzip.end();
    });
    if (failure) throw failure;
    yield* drainPending();
  } finally {
    // A consumer that stops early (50,000 URLs reached) or fails leaves no inflater behind.
    gunzip.destroy();
  }
}

function tooLarge(limit: number, where: string): SitemapError {
  return new SitemapError('too_large', `${where}: the sitemap exceeds ${limit} bytes uncompressed (the protocol's limit is 50 MB): refused`);
}

function cleanUrl(raw: string): string | null {
  const t = raw.trim();
  if (t === '' || t.length > SITEMAP_LIMITS.maxUrlLength) return null;
  let url: URL;
  try {
    url = new URL(t);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  url.hash = '';
  return url.href;
}

/**
 * Reads a sitemap (bytes, text, or a stream of chunks — a fetched body or a file) and returns
 * its URLs or child sitemaps. Rejects with SitemapError for a refused file.
 */
export async function parseSitemap(input: Input, opts: ParseSitemapOptions = {}): Promise<SitemapResult> {
  const where = opts.url ?? 'sitemap';
  const maxUrls = opts.maxUrls ?? SITEMAP_LIMITS.maxUrls;
  const maxBytes = opts.maxBytes ?? SITEMAP_LIMITS.maxBytes;
  const result: SitemapResult = { urls: [], sitemaps: [], sitemapLastmod: [], kind: 'urlset', limited: false, skipped: 0 };
  const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false });
  const stream = inflated(chunksOf(input), maxBytes, where);

  // Sniff the first text: XML starts with `<` (after a BOM and whitespace); anything else is a text sitemap.
  let textMode: boolean | null = null;
  let textCarry = '';
  const parser = new SaxesParser({ xmlns: false, position: false });
  let root: string | null = null;
  let depth = 0;
  /** The element whose text is collected (`loc`, `lastmod`) inside the current url/sitemap entry. */
  let field: 'loc' | 'lastmod' | null = null;
  let entry: { loc: string; lastmod: string } | null = null;
  let entryTag: 'url' | 'sitemap' | null = null;
  let full = false;
  let xmlError: Error | null = null;

  const addEntry = (loc: string, lastmod: string | null, isSitemap: boolean): void => {
    const url = cleanUrl(loc);
    if (url === null) {
      result.skipped++;
      return;
    }
    if (result.urls.length + result.sitemaps.length >= maxUrls) {
      result.limited = true;
      full = true;
      return;
    }
    if (isSitemap) {
      result.sitemaps.push(url);
      result.sitemapLastmod.push(lastmod);
    } else {
      result.urls.push({ url, lastmod });
    }
  };

  parser.on('doctype', (doctype) => {
    if (/<!ENTITY/i.test(doctype)) {
      xmlError = new SitemapError('entity_declaration', `${where}: the sitemap declares XML entities (refused: no entity expansion)`);
    }
  });
  parser.on('opentag', (tag) => {
    depth++;
    const local = tag.name.includes(':') ? tag.name.slice(tag.name.indexOf(':') + 1) : tag.name;
    if (depth === 1) {
      root = local;
      if (local === 'sitemapindex') result.kind = 'sitemapindex';
      else if (local !== 'urlset') xmlError = new SitemapError('not_a_sitemap', `${where}: the root element is <${tag.name}>, not <urlset> or <sitemapindex>`);
      return;
    }
    if (depth === 2 && ((root === 'urlset' && local === 'url') || (root === 'sitemapindex' && local === 'sitemap'))) {
      entry = { loc: '', lastmod: '' };
      entryTag = local;
      return;
    }
    if (depth === 3 && entry !== null && (local === 'loc' || local === 'lastmod')) field = local;
  });
  parser.on('text', (text) => {
    if (field !== null && entry !== null) {
      // Bound what one field may collect: a <loc> of megabytes is skipped, not kept.
      if (entry[field].length <= SITEMAP_LIMITS.maxUrlLength) entry[field] += text;
    }
  });
  parser.on('cdata', (text) => {
    if (field !== null && entry !== null && entry[field].length <= SITEMAP_LIMITS.maxUrlLength) entry[field] += text;
  });
  parser.on('closetag', () => {
    if (depth === 3) field = null;
    if (depth === 2 && entry !== null) {
      const lastmod = entry.lastmod.trim();
      addEntry(entry.loc, lastmod === '' ? null : lastmod.slice(0, 64), entryTag === 'sitemap');
      entry = null;
      entryTag = null;
    }
    depth--;
  });
  parser.on('error', (err) => {
    xmlError ??= new SitemapError('invalid_xml', `${where}: not well-formed XML: ${err.message}`, { cause: err });
  });

  const feedText = (text: string): void => {
    textCarry += text;
    const lines = textCarry.split(/\r?\n/);
    textCarry = lines.pop() ?? '';
    for (const line of lines) {
      if (full) return;
      if (line.trim() !== '') addEntry(line, null, false);
    }
  };

  for await (const chunk of stream) {
    const text = decoder.decode(chunk, { stream: true });
    if (textMode === null) {
      const start = text.replace(/^\uFEFF/, '').trimStart();
      if (start === '') continue;
      textMode = !start.startsWith('<');
      if (textMode) result.kind = 'text';
    }
    if (textMode) feedText(text);
    else {
      parser.write(text);
      if (xmlError) throw xmlError;
    }
    if (full) break;
  }
  if (full) return result;
  const rest = decoder.decode();
  if (textMode) {
    feedText(`${rest}\n`);
    return result;
  }
  if (textMode === null) throw new SitemapError('not_a_sitemap', `${where}: the sitemap is empty`);
  parser.write(rest);
  if (xmlError) throw xmlError;
  parser.close();
  if (xmlError) throw xmlError;
  if (root === null) throw new SitemapError('not_a_sitemap', `${where}: no root element`);
  return result;
}

/**
 * Where to look for a site's sitemaps: the robots.txt `Sitemap:` lines (RobotsCache.sitemaps),
 * then `/sitemap.xml` of the origin, de-duplicated, http(s) only.
 */
export function sitemapCandidates(origin: string, robotsSitemaps: readonly string[] = []): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (raw: string): void => {
    const url = cleanUrl(raw);
    if (url !== null && !seen.has(url)) {
      seen.add(url);
      out.push(url);
    }
  };
  for (const s of robotsSitemaps) add(s);
  try {
    add(new URL('/sitemap.xml', origin).href);
  } catch {
    // an origin that is not a URL has no /sitemap.xml
  }
  return out;
}
