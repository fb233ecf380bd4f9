/**
 * The HTTP fetcher: undici agents with keep-alive, manual redirects re-checked against the SSRF
 * guard, timeouts, a hard cap on (decompressed) body bytes, charset detection and one error
 * code per failure. Built for thousands of fetches per second: agents, headers and regexes are
 * created once; a fetch allocates its URL, one timer and its body buffer.
 */
import zlib from 'node:zlib';
import { Agent, ProxyAgent, type Dispatcher } from 'undici';
import { OwlError, isOwlError, type ErrorCode } from '../errors.ts';
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
const CHARSET_PARAM = /charset\s*=\s*["']?\s*([\w.:-]+)/i;
// <meta charset="x"> and <meta http-equiv="Content-Type" content="text/html; charset=x">
const META_CHARSET = /<meta\b[^>]*?charset\s*=\s*["']?\s*([\w.:-]+)/i;
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

function decodeBody(buf: Buffer, contentTypeHeader: string | undefined): string {
  // A byte-order mark wins over every declaration (WHATWG encoding sniffing).
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) return buf.toString('utf8', 3);
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) return decoderFor('utf-16le')!.decode(buf.subarray(2));
  if (buf.length >= 2 && buf[0] === 0xfe && buf[1] === 0xff) return decoderFor('utf-16be')!.decode(buf.subarray(2));
  let label = contentTypeHeader === undefined ? undefined : CHARSET_PARAM.exec(contentTypeHeader)?.[1];
  if (label === undefined) label = META_CHARSET.exec(buf.toString('latin1', 0, Math.min(buf.length, SNIFF_BYTES)))?.[1];
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
 * The deadline of one fetch, which is also the abort signal handed to undici: undici only needs
 * `aborted`, `reason` and add/removeEventListener, and a real AbortController per fetch (an
 * EventTarget, plus undici's listener on it) showed up at about 20 µs of CPU per page. The
 * timer takes the deadline as its argument and the caller's signal calls `handleEvent`, so a
 * fetch creates no closure here.
 */
class Deadline {
  aborted = false;
  reason: unknown = undefined;
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
      else callerSignal.addEventListener('abort', this, { once: true });
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

  /** The deadline as the AbortSignal type undici's typings ask for (it reads only the members above). */
  get signal(): AbortSignal {
    return this as unknown as AbortSignal;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.callerSignal?.removeEventListener('abort', this);
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

interface BodyResult {
  body: Buffer;
  wireBytes: number;
}

/**
 * Reads `stream` to the end, inflating per `encoding`, failing with BODY_LIMIT as soon as the
 * decoded size passes `limit`. Destroying the undici body on failure also destroys the socket.
 */
function readBody(stream: Dispatcher.ResponseData['body'], encoding: string | undefined, limit: number, url: string): Promise<BodyResult> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let decoded = 0;
    let wire = 0;
    let done = false;
    let inflater: zlib.Gunzip | zlib.Inflate | zlib.InflateRaw | zlib.BrotliDecompress | null = null;

    const fail = (err: unknown): void => {
      if (done) return;
      done = true;
      inflater?.destroy();
      stream.destroy();
      reject(err);
    };
    const take = (chunk: Buffer): void => {
      if (done) return;
      decoded += chunk.length;
      if (decoded > limit) return fail(new OwlError('BODY_LIMIT', undefined, { url, limit }));
      chunks.push(chunk);
    };
    const finish = (): void => {
      if (done) return;
      done = true;
      resolve({ body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, decoded), wireBytes: wire });
    };

    const enc = encoding?.trim().toLowerCase();
    const zOpts = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
    const makeInflater = (first: Buffer): typeof inflater => {
      if (enc === 'gzip' || enc === 'x-gzip') return zlib.createGunzip(zOpts);
      if (enc === 'br') return zlib.createBrotliDecompress({ finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH });
      // "deflate" is meant to be zlib-wrapped but many servers send raw deflate.
      if (enc === 'deflate') return (first[0]! & 0x0f) === 8 ? zlib.createInflate(zOpts) : zlib.createInflateRaw(zOpts);
      return null;
    };
    const encoded = enc !== undefined && enc !== '' && enc !== 'identity';

    stream.on('data', (chunk: Buffer) => {
      wire += chunk.length;
      if (!encoded) return take(chunk);
      if (inflater === null) {
        inflater = makeInflater(chunk);
        if (inflater === null) {
          // Unknown coding: keep the bytes as they are, like a browser showing garbage.
          return take(chunk);
        }
        inflater.on('data', take);
        inflater.on('end', finish);
        inflater.on('error', (e) => fail(new OwlError('NETWORK', `The body could not be decoded: ${e.message}`, { url }, { cause: e })));
      }
      // Respect the inflater's backpressure so compressed input never piles up in memory.
      if (!inflater.write(chunk)) {
        stream.pause();
        inflater.once('drain', () => stream.resume());
      }
    });
    stream.on('end', () => {
      if (inflater !== null) inflater.end();
      else finish();
    });
    stream.on('error', (e) => fail(e));
  });
}

async function readDeclared(stream: Dispatcher.ResponseData['body']): Promise<BodyResult> {
  const bytes = await stream.bytes();
  return { body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), wireBytes: bytes.byteLength };
}

function discard(body: Dispatcher.ResponseData['body']): void {
  // dump() reads a small remainder to keep the connection, or destroys it when the rest is large.
  body.dump({ limit: 64 * 1024 }).catch(() => {});
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
    agent.destroy().catch(() => {});
  };

  const fetch = async (req: FetchRequest): Promise<FetchResponse> => {
    if (closed) throw new OwlError('NETWORK', 'The fetcher is closed', { url: req.url });
    const started = performance.now();
    const proxy = req.proxy ?? null;
    const dispatcher: Dispatcher = proxy !== null ? proxyAgent(proxy) : req.allowPrivate ? open : guarded;
    const headers = req.headers === undefined ? baseHeaders : { ...baseHeaders, ...lowerKeys(req.headers) };
    const readAll = req.accept === 'text';
    const deadline = new Deadline(totalTimeoutMs, req.url, req.signal);
    let url = req.url;
    let redirects = 0;
    let visited: Set<string> | null = null;
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
        let res: Dispatcher.ResponseData;
        try {
          const pending = dispatcher.request({
            origin: target.origin,
            path: target.pathname + target.search,
            method: 'GET',
            headers,
            signal: deadline.signal,
          });
          res = proxy === null ? await pending : await settleByDeadline(pending, deadline, () => dropProxyAgent(proxy, dispatcher));
        } catch (err) {
          throw toOwlError(deadline.signal.aborted ? deadline.signal.reason : err, url, proxy !== null);
        }
        const status = res.statusCode;
        const location = res.headers.location;
        if (REDIRECT_STATUSES.has(status) && location !== undefined) {
          discard(res.body);
          const next = resolveLocation(typeof location === 'string' ? location : location[0]!, target, url);
          visited ??= new Set([target.href]);
          if (visited.has(next)) throw new OwlError('REDIRECT_LOOP', undefined, { url: req.url, location: next });
          if (++redirects > opts.maxRedirects) throw new OwlError('TOO_MANY_REDIRECTS', undefined, { url: req.url, location: next, maxRedirects: opts.maxRedirects });
          visited.add(next);
          url = next;
          continue;
        }
        if (proxy !== null && status === 407) {
          discard(res.body);
          throw new OwlError('PROXY', 'The proxy requires authentication (407)', { url, proxy: proxy.id });
        }
        const rawHeaders = res.headers as Record<string, string | string[] | undefined>;
        const ctHeader = rawHeaders['content-type'];
        const ct = typeof ctHeader === 'string' ? ctHeader : ctHeader?.[0];
        const contentType = mediaType(ct);
        let body: string | null = null;
        let bytes = 0;
        if (readAll || (contentType !== null && accepted.has(contentType))) {
          const enc = rawHeaders['content-encoding'];
          const encoding = typeof enc === 'string' ? enc : enc?.[enc.length - 1];
          const length = Number(rawHeaders['content-length']);
          const plain = encoding === undefined || encoding === 'identity';
          if (plain && length > opts.maxBodyBytes) {
            res.body.destroy();
            throw new OwlError('BODY_LIMIT', undefined, { url, limit: opts.maxBodyBytes, contentLength: length });
          }
          deadline.tighten(opts.bodyTimeoutMs);
          let read: BodyResult;
          try {
            // A declared length within the cap needs no counting (undici fails a body longer than it
            // declares): undici collects it without stream events, as the bare `body.text()` loop does.
            read = plain && length <= opts.maxBodyBytes ? await readDeclared(res.body) : await readBody(res.body, encoding, opts.maxBodyBytes, url);
          } catch (err) {
            throw toOwlError(deadline.signal.aborted ? deadline.signal.reason : err, url, proxy !== null);
          }
          body = decodeBody(read.body, ct);
          bytes = read.wireBytes;
        } else {
          discard(res.body);
        }
        return {
          url: req.url,
          finalUrl: url,
          status,
          headers: flattenHeaders(rawHeaders),
          contentType,
          body,
          bytes,
          fetchMs: performance.now() - started,
          redirects,
        };
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
      await Promise.all(agents.map((a) => a.destroy().catch(() => {})));
    },
  };
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
