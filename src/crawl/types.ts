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
  /** 'html' (default): read bodies of crawlable types only; 'text': read and decode any body (robots.txt). */
  accept?: 'html' | 'text';
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
  /** Decoded body when the content type is crawlable (HTML/XHTML), else null (body drained). */
  body: string | null;
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
}

export type BlockVerdict =
  | { kind: 'captcha'; vendor: string }
  | { kind: 'blocked' }
  | { kind: 'rate_limited'; retryAfterMs: number | null }
  | null;

export type { Dispatcher };
