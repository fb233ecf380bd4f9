/**
 * The HTTP fetcher: undici agents with keep-alive, manual redirects re-checked against the SSRF
 * guard, timeouts, a hard cap on (decompressed) body bytes, charset detection and one error
 * code per failure. Built for thousands of fetches per second: agents, headers and regexes are
 * created once; a fetch allocates its URL, one timer and its body buffer.
 */
import type { Dispatcher } from 'undici';
import { Agent, ProxyAgent } from './undici-parts.ts';
import type { Config } from '../config/schema.ts';
import { OwlError, isOwlError, type ErrorCode } from '../errors.ts';
import { Exchange, type BodyPlan, type BodyPolicy, type Hop, type ResponseHeaders } from './http-exchange.ts';
import { assertHostResolvesAllowed, checkTarget, createGuardedLookup, isForbiddenAddress } from './target-guard.ts';
import type { FetchRequest, FetchResponse, Fetcher, ProxyHandle } from './types.ts';

export interface HttpFetcherOptions {
  /** User-Agent header sent with every request. */
  userAgent: string;
  /** TCP (and TLS) connect timeout, to the target or to the proxy. */
  connectTimeoutMs: number;
  /** Time from sending the request to the end of the response headers. */
  headersTimeoutMs: number;
  /** Longest gap between two body chunks, and longest time to read the whole body. */
  bodyTimeoutMs: number;
  /** Largest body read, counted after decompression; more fails with BODY_LIMIT. */
  maxBodyBytes: number;
  /** Redirects followed; one more fails with TOO_MANY_REDIRECTS. */
  maxRedirects: number;
  /** Connections per origin (default 32). */
  connectionsPerOrigin?: number;
  /** Media types whose body is read (default text/html, application/xhtml+xml). */
  acceptedContentTypes?: string[];
  /** Deadline for the whole fetch, redirects included (default connect + headers + body timeouts). */
  totalTimeoutMs?: number;
  /**
   * Addresses refused when a request does not allow private targets (default `isForbiddenAddress`).
   * For operators with extra internal ranges, and tests that need one loopback address allowed.
   */
  isForbiddenAddress?: (ip: string) => boolean;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const DRAIN: BodyPlan = { collect: false };

function firstValue(v: string | string[] | undefined): string | undefined {
  return typeof v === 'string' ? v : v?.[0];
}
const CHARSET_PARAM = /charset\s*=\s*["']?\s*([\w.:-]+)/i;
// <meta charset="x"> and <meta http-equiv="Content-Type" content="text/html; charset=x">
const META_CHARSET = /<meta\b[^>]*?charset\s*=\s*["']?\s*([\w.:-]+)/i;
// <?xml version="1.0" encoding="x"?>
const XML_ENCODING = /^\s*<\?xml\b[^>]*?encoding\s*=\s*["']\s*([\w.:-]+)/;
const SNIFF_BYTES = 1024;

const decoders = new Map<string, TextDecoder | null>();
/** A cached decoder for `label`, or null for UTF-8 (decoded with Buffer#toString) or an unknown label. */
function decoderFor(label: string): TextDecoder | null {
  const key = label.toLowerCase();
  let d = decoders.get(key);
  if (d === undefined) {
    try {
      const dec = new TextDecoder(key);
      d = dec.encoding === 'utf-8' ? null : dec;
    } catch {
      d = null;
    }
    decoders.set(key, d);
  }
  return d;
}

/** How a 'documents' body is handled, by media type; null: not read. */
type DocumentBody = 'html' | 'xml' | 'text' | 'bytes';
function documentBody(contentType: string | null, htmlTypes: ReadonlySet<string>): DocumentBody | null {
  if (contentType === null) return null;
  if (htmlTypes.has(contentType)) return 'html';
  if (contentType === 'application/pdf') return 'bytes';
  if (contentType === 'application/xml' || contentType === 'text/xml' || contentType.endsWith('+xml')) return 'xml';
  if (contentType.startsWith('text/') || contentType === 'application/json' || contentType.endsWith('+json')) return 'text';
  return null;
}

function decodeBody(buf: Buffer, contentTypeHeader: string | undefined, sniff: 'html' | 'xml' | 'none' = 'html'): string {
  // A byte-order mark wins over every declaration (WHATWG encoding sniffing).
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) return buf.toString('utf8', 3);
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) return decoderFor('utf-16le')!.decode(buf.subarray(2));
  if (buf.length >= 2 && buf[0] === 0xfe && buf[1] === 0xff) return decoderFor('utf-16be')!.decode(buf.subarray(2));
  let label = contentTypeHeader === undefined ? undefined : CHARSET_PARAM.exec(contentTypeHeader)?.[1];
  if (label === undefined && sniff !== 'none') {
    const head = buf.toString('latin1', 0, Math.min(buf.length, SNIFF_BYTES));
    label = (sniff === 'html' ? META_CHARSET : XML_ENCODING).exec(head)?.[1];
  }
  const dec = label === undefined ? null : decoderFor(label);
  return dec === null ? buf.toString('utf8') : dec.decode(buf);
}

function mediaType(header: string | undefined): string | null {
  if (header === undefined) return null;
  const semi = header.indexOf(';');
  const t = (semi < 0 ? header : header.slice(0, semi)).trim().toLowerCase();
  return t === '' ? null : t;
}

function flattenHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  for (const k in raw) {
    const v = raw[k];
    if (typeof v !== 'string') {
      const out: Record<string, string> = {};
      for (const key in raw) {
        const val = raw[key];
        if (val !== undefined) out[key] = typeof val === 'string' ? val : val.join(', ');
      }
      return out;
    }
  }
  return raw as Record<string, string>;
}

function errorCode(err: unknown): string | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

/** Maps a failure to the catalogue. `viaProxy`: socket-level failures are the proxy's, not the target's. */
function toOwlError(err: unknown, url: string, viaProxy: boolean): OwlError {
  if (isOwlError(err)) {
    return err.details.url === undefined ? new OwlError(err.code, err.message, { ...err.details, url }, { cause: err.cause ?? err }) : err;
  }
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  let owl: ErrorCode;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') owl = 'TIMEOUT';
  // Through a proxy every socket we open goes to the proxy: refusals, resets, a failed CONNECT
  // or a 407 are the proxy's failures, not the target's.
  else if (viaProxy) owl = 'PROXY';
  else if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') owl = 'TIMEOUT';
  else owl = 'NETWORK';
  return new OwlError(owl, `${ERROR_PREFIX[owl]}: ${message}`, { url, cause: code }, { cause: err });
}

const ERROR_PREFIX: Partial<Record<ErrorCode, string>> = { TIMEOUT: 'The fetch timed out', NETWORK: 'The connection failed', PROXY: 'The proxy failed' };

/**
 * The fetches listening to each caller signal. Every fetch of a crawler shares its one stop
 * signal, and adding and removing an EventTarget listener per fetch cost about 5 µs: the signal
 * gets one listener, which ends every deadline still registered when it fires.
 */
const watchers = new WeakMap<AbortSignal, Set<Deadline>>();

function watch(signal: AbortSignal, deadline: Deadline): void {
  let set = watchers.get(signal);
  if (set === undefined) {
    const deadlines = new Set<Deadline>();
    signal.addEventListener('abort', () => {
      for (const d of deadlines) d.handleEvent();
      deadlines.clear();
    }, { once: true });
    watchers.set(signal, deadlines);
    set = deadlines;
  }
  set.add(deadline);
}

/**
 * The deadline of one fetch: the total timeout and the caller's signal in one abortable object
 * with `aborted`, `reason` and abort listeners (a real AbortController per fetch, an EventTarget,
 * showed up at about 20 µs of CPU per page). The timer takes the deadline as its argument, so a
 * fetch creates no closure here.
 */
class Deadline {
  aborted = false;
  reason: unknown = undefined;
  /** The exchange in progress: aborting the deadline aborts it. */
  exchange: Exchange | null = null;
  private listeners: Array<() => void> = [];
  private timer: NodeJS.Timeout;
  private readonly endsAt: number;

  constructor(
    totalMs: number,
    private readonly url: string,
    private readonly callerSignal: AbortSignal | undefined,
  ) {
    this.endsAt = Date.now() + totalMs;
    this.timer = setTimeout(expireDeadline, totalMs, this);
    if (callerSignal !== undefined) {
      if (callerSignal.aborted) this.handleEvent();
      else watch(callerSignal, this);
    }
  }

  /** The caller's signal aborted. */
  handleEvent(): void {
    const reason: unknown = this.callerSignal?.reason;
    this.abort(isOwlError(reason) ? reason : new OwlError('CANCELLED', 'The fetch was aborted', { url: this.url }, { cause: reason }));
  }

  expire(): void {
    this.abort(new OwlError('TIMEOUT', 'The fetch exceeded its deadline', { url: this.url }));
  }

  private abort(reason: OwlError): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    clearTimeout(this.timer);
    this.exchange?.abort(reason);
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }

  addEventListener(type: string, listener: () => void): void {
    if (type === 'abort') this.listeners.push(listener);
  }

  removeEventListener(type: string, listener: () => void): void {
    const i = type === 'abort' ? this.listeners.indexOf(listener) : -1;
    if (i !== -1) this.listeners.splice(i, 1);
  }

  /** Brings the deadline forward to `ms` from now when that is sooner (whole-body limit). */
  tighten(ms: number): void {
    if (!this.aborted && Date.now() + ms < this.endsAt) {
      clearTimeout(this.timer);
      this.timer = setTimeout(expireDeadline, ms, this);
    }
  }

  dispose(): void {
    clearTimeout(this.timer);
    if (this.callerSignal !== undefined) watchers.get(this.callerSignal)?.delete(this);
  }
}

function expireDeadline(deadline: Deadline): void {
  deadline.expire();
}

/**
 * `pending` (a request through a proxy), rejected with the deadline's reason when it has not
 * settled right after the deadline aborted it. undici 7's ProxyAgent re-sends a CONNECT forever
 * when the proxy closes it unanswered and ignores the abort (nodejs/undici#3897); `onStuck` then
 * destroys that agent, which ends the loop. An aborted request that is merely queued for a
 * connection counts as stuck too: its agent is rebuilt on the next fetch.
 */
function settleByDeadline<T>(pending: Promise<T>, deadline: Deadline, onStuck: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const onAbort = (): void => {
      // undici settles an aborted request within microtasks; one turn later it is stuck.
      setImmediate(() => {
        if (settled) return;
        onStuck();
        reject(deadline.reason);
      });
    };
    deadline.addEventListener('abort', onAbort);
    const done = (): void => {
      settled = true;
      deadline.removeEventListener('abort', onAbort);
    };
    pending.then(
      (value) => {
        done();
        resolve(value);
      },
      (err: unknown) => {
        done();
        reject(err);
      },
    );
  });
}

/**
 * Decides, per response of one fetch, when its headers arrive: redirects, a proxy's 407 and
 * uncrawled types are drained; a crawlable body is read within the size cap (a declared length
 * over it fails at once), and from then on only the body timeout applies to the deadline.
 */
class FetchPolicy implements BodyPolicy {
  constructor(
    private readonly opts: HttpFetcherOptions,
    private readonly accepted: ReadonlySet<string>,
    private readonly viaProxy: boolean,
    private readonly accept: NonNullable<FetchRequest['accept']>,
    private readonly maxBodyBytes: number,
    private readonly deadline: Deadline,
  ) {}

  plan(status: number, h: ResponseHeaders, url: string): BodyPlan {
    if ((REDIRECT_STATUSES.has(status) && h.location !== undefined) || (this.viaProxy && status === 407)) return DRAIN;
    const contentType = mediaType(firstValue(h['content-type']));
    const { accept } = this;
    if (accept === 'html' && (contentType === null || !this.accepted.has(contentType))) return DRAIN;
    if (accept === 'documents' && documentBody(contentType, this.accepted) === null) return DRAIN;
    const enc = h['content-encoding'];
    const encoding = typeof enc === 'string' ? enc : enc?.[enc.length - 1];
    const length = Number(h['content-length']);
    const { maxBodyBytes } = this;
    const { bodyTimeoutMs } = this.opts;
    if ((encoding === undefined || encoding === 'identity') && length > maxBodyBytes) {
      throw new OwlError('BODY_LIMIT', undefined, { url, limit: maxBodyBytes, contentLength: length });
    }
    this.deadline.tighten(bodyTimeoutMs);
    return { collect: true, encoding };
  }
}

/** The settings a fetcher is built from. */
type FetcherSettings = Pick<Config, 'userAgent' | 'connectTimeoutMs' | 'headersTimeoutMs' | 'bodyTimeoutMs' | 'maxBodyBytes' | 'maxRedirects'>;

/** A fetcher's options as the settings give them (the crawl's and POST /scrape's fetchers differ only in connections per origin). */
export function fetcherOptionsFrom(config: FetcherSettings, connectionsPerOrigin: number): HttpFetcherOptions {
  return {
    userAgent: config.userAgent,
    connectTimeoutMs: config.connectTimeoutMs,
    headersTimeoutMs: config.headersTimeoutMs,
    bodyTimeoutMs: config.bodyTimeoutMs,
    maxBodyBytes: config.maxBodyBytes,
    maxRedirects: config.maxRedirects,
    connectionsPerOrigin,
  };
}

export function createHttpFetcher(opts: HttpFetcherOptions): Fetcher {
  const connections = opts.connectionsPerOrigin ?? 32;
  const accepted = new Set((opts.acceptedContentTypes ?? ['text/html', 'application/xhtml+xml']).map((t) => t.toLowerCase()));
  const totalTimeoutMs = opts.totalTimeoutMs ?? opts.connectTimeoutMs + opts.headersTimeoutMs + opts.bodyTimeoutMs;
  const agentOptions = {
    connections,
    keepAliveTimeout: 4_000,
    headersTimeout: opts.headersTimeoutMs,
    bodyTimeout: opts.bodyTimeoutMs,
  };
  const isForbidden = opts.isForbiddenAddress ?? isForbiddenAddress;
  const guarded = new Agent({ ...agentOptions, connect: { timeout: opts.connectTimeoutMs, lookup: createGuardedLookup(isForbidden) } });
  const open = new Agent({ ...agentOptions, connect: { timeout: opts.connectTimeoutMs } });
  const proxies = new Map<string, ProxyAgent>();
  const baseHeaders: Record<string, string> = {
    'user-agent': opts.userAgent,
    accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
    'accept-encoding': 'gzip, deflate, br',
  };
  let closed = false;

  const proxyAgent = (proxy: ProxyHandle): ProxyAgent => {
    let agent = proxies.get(proxy.url);
    if (agent === undefined) {
      agent = new ProxyAgent({
        uri: proxy.url,
        // http:// targets go as absolute-URI requests, so the proxy (and its blocks) answer them.
        proxyTunnel: false,
        connections,
        keepAliveTimeout: 4_000,
        headersTimeout: opts.headersTimeoutMs,
        bodyTimeout: opts.bodyTimeoutMs,
        proxyTls: { timeout: opts.connectTimeoutMs },
        requestTls: { timeout: opts.connectTimeoutMs },
      });
      proxies.set(proxy.url, agent);
    }
    return agent;
  };

  const dropProxyAgent = (proxy: ProxyHandle, agent: Dispatcher): void => {
    if (proxies.get(proxy.url) === agent) proxies.delete(proxy.url);
    destroyAgent(agent).catch(() => {});
  };

  const fetch = async (req: FetchRequest): Promise<FetchResponse> => {
    if (closed) throw new OwlError('NETWORK', 'The fetcher is closed', { url: req.url });
    const started = performance.now();
    const proxy = req.proxy ?? null;
    const dispatcher: Dispatcher = proxy !== null ? proxyAgent(proxy) : req.allowPrivate ? open : guarded;
    const headers = req.headers === undefined ? baseHeaders : { ...baseHeaders, ...lowerKeys(req.headers) };
    const accept = req.accept ?? 'html';
    const maxBodyBytes = req.maxBodyBytes ?? opts.maxBodyBytes;
    const deadline = new Deadline(totalTimeoutMs, req.url, req.signal);
    let url = req.url;
    let redirects = 0;
    let visited: Set<string> | null = null;
    const policy = new FetchPolicy(opts, accepted, proxy !== null, accept, maxBodyBytes, deadline);
    try {
      for (;;) {
        const target = checkTarget(url, req.allowPrivate, isForbidden);
        if (proxy !== null && !req.allowPrivate) {
          // The proxy would resolve the name itself, out of reach of guardedLookup.
          try {
            await assertHostResolvesAllowed(target.hostname, isForbidden);
          } catch (err) {
            throw toOwlError(err, url, false);
          }
        }
        const exchange = new Exchange(policy, maxBodyBytes, url);
        deadline.exchange = exchange;
        let hop: Hop;
        try {
          if (deadline.aborted) exchange.abort(deadline.reason as Error);
          dispatcher.dispatch({ origin: target.origin, path: target.pathname + target.search, method: 'GET', headers }, exchange);
          hop = proxy === null ? await exchange.done : await settleByDeadline(exchange.done, deadline, () => dropProxyAgent(proxy, dispatcher));
        } catch (err) {
          throw toOwlError(deadline.aborted ? deadline.reason : err, url, proxy !== null);
        } finally {
          deadline.exchange = null;
        }
        const { status, headers: rawHeaders } = hop;
        const location = rawHeaders.location;
        if (REDIRECT_STATUSES.has(status) && location !== undefined) {
          const next = resolveLocation(typeof location === 'string' ? location : location[0]!, target, url);
          visited ??= new Set([target.href]);
          if (visited.has(next)) throw new OwlError('REDIRECT_LOOP', undefined, { url: req.url, location: next });
          if (++redirects > opts.maxRedirects) throw new OwlError('TOO_MANY_REDIRECTS', undefined, { url: req.url, location: next, maxRedirects: opts.maxRedirects });
          visited.add(next);
          url = next;
          continue;
        }
        if (proxy !== null && status === 407) {
          throw new OwlError('PROXY', 'The proxy requires authentication (407)', { url, proxy: proxy.id });
        }
        const ct = firstValue(rawHeaders['content-type']);
        const contentType = mediaType(ct);
        let body: string | null = null;
        let raw: Buffer | null | undefined;
        if (hop.body !== null) {
          if (accept === 'html' || accept === 'text') body = decodeBody(hop.body, ct);
          else if (accept === 'bytes') raw = hop.body;
          else {
            const kind = documentBody(contentType, accepted);
            if (kind === 'bytes') raw = hop.body;
            else body = decodeBody(hop.body, ct, kind === 'html' ? 'html' : kind === 'xml' ? 'xml' : 'none');
          }
        }
        const response: FetchResponse = {
          url: req.url,
          finalUrl: url,
          status,
          headers: flattenHeaders(rawHeaders),
          contentType,
          body,
          bytes: hop.wireBytes,
          fetchMs: performance.now() - started,
          redirects,
        };
        if (raw !== undefined) response.raw = raw;
        return response;
      }
    } finally {
      deadline.dispose();
    }
  };

  return {
    fetch,
    close: async () => {
      closed = true;
      const agents: Dispatcher[] = [guarded, open, ...proxies.values()];
      proxies.clear();
      // destroy() rather than close(): a fetch still waiting on a hung server must not hold shutdown.
      await Promise.all(agents.map((a) => destroyAgent(a).catch(() => {})));
    },
  };
}

/**
 * Destroys an agent with an error that holds no stack frames. An agent destroys each of its
 * sockets with its error, and Node's streams read that error's `stack`; with source maps on,
 * formatting its frames parsed the source map of the bundle's undici chunk: 27 ms at the end of
 * every crawl (CPU profile of a 5,000-page `owl crawl`), and TurboFan optimised the map parser on
 * the side. undici's own error for this (`ClientDestroyedError`) differs only in its frames.
 */
function destroyAgent(agent: Dispatcher): Promise<void> {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const err = Object.assign(new Error('The client is destroyed'), { name: 'ClientDestroyedError', code: 'UND_ERR_DESTROYED' });
  Error.stackTraceLimit = limit;
  return agent.destroy(err);
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in h) out[k.toLowerCase()] = h[k]!;
  return out;
}

/** Resolves a Location header against the current URL; non-http(s) targets fail with INVALID_URL. */
function resolveLocation(location: string, base: URL, currentUrl: string): string {
  let next: URL;
  try {
    next = new URL(location, base);
  } catch {
    throw new OwlError('INVALID_URL', 'The redirect target is not a valid URL', { url: currentUrl, location });
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw new OwlError('INVALID_URL', 'The redirect leads to a non-http(s) URL', { url: currentUrl, location });
  }
  next.hash = '';
  return next.href;
}
