/**
 * Contracts between the crawl building blocks and the worker loop. The blocks under src/crawl/
 * know nothing of the store, the API or the metrics registry.
 */
import type { Dispatcher } from 'undici';

/** A proxy as handed out by the pool. */
export interface ProxyHandle {
  /** Proxy URL without credentials, used as its identity in logs, metrics and the store. */
  readonly id: string;
  /** Full URL (may carry credentials) for the dispatcher. */
  readonly url: string;
}

export interface FetchRequest {
  url: string;
  proxy?: ProxyHandle | null;
  /** Permit loopback/private targets (operator's own crawls and tests). */
  allowPrivate: boolean;
  signal?: AbortSignal;
  /** Extra request headers (e.g. Accept-Language). */
  headers?: Record<string, string>;
  /**
   * Which bodies are read (the others are drained and `body` is null):
   * - 'html' (default): HTML and XHTML only, decoded;
   * - 'documents': also text/*, JSON, XML (decoded) and PDF (bytes in `raw`);
   * - 'text': any body, decoded as text (robots.txt);
   * - 'bytes': any body, undecoded in `raw` (sitemaps, which may be gzip files).
   */
  accept?: 'html' | 'documents' | 'text' | 'bytes';
  /** Body cap for this request, overriding the fetcher's `maxBodyBytes` (sitemaps may be 50 MB). */
  maxBodyBytes?: number;
}

export interface FetchResponse {
  /** The URL requested. */
  url: string;
  /** The URL after redirects. */
  finalUrl: string;
  status: number;
  /** Lower-case header names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Media type without parameters (`text/html`), or null. */
  contentType: string | null;
  /** Decoded body when the accept mode reads this content type as text, else null. */
  body: string | null;
  /** The body's bytes (content-decoded) for PDF in 'documents' mode and every body in 'bytes' mode; else absent. */
  raw?: Buffer | null;
  /** Bytes of the final response body read from the wire. */
  bytes: number;
  /** Wall time from request start to body end, all redirects included. */
  fetchMs: number;
  redirects: number;
}

export interface Fetcher {
  /**
   * Fetches one URL following redirects. Resolves for every HTTP status; rejects with an
   * OwlError (TIMEOUT, NETWORK, PROXY, TOO_MANY_REDIRECTS, REDIRECT_LOOP, BODY_LIMIT,
   * TARGET_FORBIDDEN, INVALID_URL) when no final response could be read.
   */
  fetch(req: FetchRequest): Promise<FetchResponse>;
  close(): Promise<void>;
}

export interface ExtractedPage {
  /** Absolute, normalised http(s) URLs, fragments dropped, de-duplicated, in document order. */
  links: string[];
  title: string | null;
  /**
   * The links of `links` whose every <a>/<area> carries rel="nofollow" (a link also reached by a
   * plain anchor is followable); absent when there are none. A job that respects robots does not
   * follow them.
   */
  nofollow?: string[];
  /** What page metadata is built from; present only when the scanner was asked for metadata. */
  head?: PageHeadTags;
}

/** Raw facts of a page's markup that metadata is built from (src/scrape/metadata.ts). */
export interface PageHeadTags {
  /** `lang` of the first <html> start tag that has one (raw value), or null. */
  lang: string | null;
  /** The document base URL (first <base href> resolved against the page, else the page URL); null when neither parses. */
  baseUrl: string | null;
  /** Every <meta> with a `content` attribute, in document order; attributes absent are null. */
  metas: Array<{ name: string | null; property: string | null; httpEquiv: string | null; content: string }>;
  /** Every <link> with both `rel` and `href` (raw, unresolved), in document order. */
  links: Array<{ rel: string; href: string }>;
  /** Raw text of every <script type="application/ld+json"> (not self-closing), in document order. */
  jsonLd: string[];
}

export type BlockVerdict =
  | { kind: 'captcha'; vendor: string }
  | { kind: 'blocked' }
  | { kind: 'rate_limited'; retryAfterMs: number | null }
  | null;

export type { Dispatcher };
