/**
 * robots.txt per origin, fetched once and shared by concurrent callers, cached with a TTL and an
 * LRU bound. Outcomes follow RFC 9309: a 2xx file is parsed; 4xx means "no rules" (allow all);
 * 5xx, 429 and network failures mean "unreachable" (disallow all) for a short time, then retry.
 */
import robotsParserModule from 'robots-parser';
import { OwlError, isOwlError } from '../errors.ts';
import type { Fetcher, ProxyHandle } from './types.ts';

export interface RobotsCheck {
  allowed: boolean;
  /** Crawl-delay for our user agent in ms, or null when the file sets none. */
  crawlDelayMs: number | null;
  /**
   * True when the file could not be read (5xx, 429, network): everything is disallowed for now
   * (RFC 9309), but as a temporary state — the caller should try the URL again at `retryAt`,
   * when the file is asked for again.
   */
  unavailable?: boolean;
  retryAt?: number;
  /** True when the target guard refused the host itself (a private address): not a robots.txt rule. */
  forbidden?: boolean;
}

/** An unreadable robots.txt is asked for again after this long; its site's URLs wait meanwhile. */
export const ROBOTS_ERROR_TTL_MS = 30_000;
/** How long a site's URLs wait for an unreadable robots.txt before they fail as robots_unavailable. */
export const ROBOTS_UNAVAILABLE_GIVE_UP_MS = 60 * 60 * 1000;

export interface RobotsCache {
  /** Whether `url` may be fetched. Fetches the origin's robots.txt on first use (through `ctx.proxy` if given). */
  check(url: string, ctx: { proxy?: ProxyHandle | null; allowPrivate: boolean }): Promise<RobotsCheck>;
  /**
   * The `Sitemap:` URLs of the robots.txt of `url`'s origin, in file order (fetched like check(),
   * sharing its cache); [] when the file has none or could not be read.
   */
  sitemaps(url: string, ctx: { proxy?: ProxyHandle | null; allowPrivate: boolean }): Promise<string[]>;
  /** Origins cached, failures included. */
  size(): number;
}

export interface RobotsCacheOptions {
  /** Fetches robots.txt; requests are made with `accept: 'text'`. */
  fetcher: Fetcher;
  /** Full User-Agent; its product token (`owl` in `owl/1.0 (+url)`) selects the robots.txt group. */
  userAgent: string;
  /** How long a fetched file (or a 4xx "allow all") is trusted. Default 1 hour. */
  ttlMs?: number;
  /** How long an unreachable robots.txt (5xx, 429, network error) disallows the origin before it is asked again. Default 30 s. */
  errorTtlMs?: number;
  /** Origins kept; the least recently used is dropped beyond this. Default 10,000. */
  maxEntries?: number;
  /** Clock in ms, for tests. Default `Date.now`. */
  now?: () => number;
}

// The package is CommonJS (`module.exports = fn`) but its types declare an ES default export.
const robotsParser = robotsParserModule as unknown as typeof robotsParserModule.default;
type Robot = ReturnType<typeof robotsParser>;

/** `null` robot: no rules, everything allowed; `false`: everything disallowed. */
interface Entry {
  /** Parsed rules; null: no file (allow all); false: unreadable (disallow for now); 'forbidden': target refused. */
  robot: Robot | null | false | 'forbidden';
  expiresAt: number;
}

const ALLOW_ALL: RobotsCheck = Object.freeze({ allowed: true, crawlDelayMs: null }) as RobotsCheck;
const FORBIDDEN: RobotsCheck = Object.freeze({ allowed: false, crawlDelayMs: null, forbidden: true }) as RobotsCheck;

/** `Mozilla/5.0 (compatible; owl/1.0)` is not a product token we can match; `owl/1.0 (+url)` gives `owl`. */
export function productToken(userAgent: string): string {
  const m = /^[A-Za-z0-9_-]+/.exec(userAgent.trim());
  return m === null ? '*' : m[0].toLowerCase();
}

export function createRobotsCache(opts: RobotsCacheOptions): RobotsCache {
  const ttlMs = opts.ttlMs ?? 60 * 60 * 1000;
  const errorTtlMs = opts.errorTtlMs ?? ROBOTS_ERROR_TTL_MS;
  const maxEntries = opts.maxEntries ?? 10_000;
  const now = opts.now ?? Date.now;
  const token = productToken(opts.userAgent);
  const entries = new Map<string, Entry>();
  const inflight = new Map<string, Promise<Entry>>();

  const store = (origin: string, entry: Entry): void => {
    entries.delete(origin);
    entries.set(origin, entry);
    while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
  };

  const load = async (origin: string, ctx: { proxy?: ProxyHandle | null; allowPrivate: boolean }): Promise<Entry> => {
    const robotsUrl = `${origin}/robots.txt`;
    try {
      const res = await opts.fetcher.fetch({ url: robotsUrl, proxy: ctx.proxy ?? null, allowPrivate: ctx.allowPrivate, accept: 'text' });
      if (res.status >= 200 && res.status < 300) {
        return { robot: robotsParser(robotsUrl, res.body ?? ''), expiresAt: now() + ttlMs };
      }
      // 429 is a rate limit, not "no file": treat it like a server error, as major crawlers do.
      if (res.status >= 500 || res.status === 429) return { robot: false, expiresAt: now() + errorTtlMs };
      // 4xx, or a 3xx the fetcher did not follow (no Location): unavailable, so no rules apply.
      return { robot: null, expiresAt: now() + ttlMs };
    } catch (err) {
      // Too many redirects (RFC 9309: more than five) or a redirect off the web: unavailable.
      if (isOwlError(err, 'TOO_MANY_REDIRECTS') || isOwlError(err, 'REDIRECT_LOOP') || isOwlError(err, 'INVALID_URL')) {
        return { robot: null, expiresAt: now() + ttlMs };
      }
      // A forbidden target depends on the caller's allowPrivate: decide for this caller only.
      if (isOwlError(err, 'TARGET_FORBIDDEN')) return { robot: 'forbidden', expiresAt: 0 };
      return { robot: false, expiresAt: now() + errorTtlMs };
    }
  };

  const evaluate = (entry: Entry, url: string): RobotsCheck => {
    if (entry.robot === null) return ALLOW_ALL;
    if (entry.robot === false) return { allowed: false, crawlDelayMs: null, unavailable: true, retryAt: entry.expiresAt };
    if (entry.robot === 'forbidden') return FORBIDDEN;
    const allowed = entry.robot.isAllowed(url, token) !== false;
    const delay = entry.robot.getCrawlDelay(token);
    return { allowed, crawlDelayMs: delay === undefined || !Number.isFinite(delay) ? null : Math.round(delay * 1000) };
  };

  /** The cached entry (no await on a hit: check() runs once per page), or its load. */
  const entryFor = (url: string, ctx: { proxy?: ProxyHandle | null; allowPrivate: boolean }): Entry | Promise<Entry> => {
    const origin = cacheKeyOf(url);
    const cached = entries.get(origin);
    if (cached !== undefined && cached.expiresAt > now()) {
      entries.delete(origin);
      entries.set(origin, cached);
      return cached;
    }
    let pending = inflight.get(origin);
    if (pending === undefined) {
      pending = load(origin, ctx).then((entry) => {
        inflight.delete(origin);
        if (entry.expiresAt > 0) store(origin, entry);
        else entries.delete(origin);
        return entry;
      });
      inflight.set(origin, pending);
    }
    return pending;
  };

  return {
    async check(url, ctx) {
      const entry = entryFor(url, ctx);
      return evaluate(entry instanceof Promise ? await entry : entry, url);
    },
    async sitemaps(url, ctx) {
      const entry = await entryFor(url, ctx);
      if (entry.robot === null || entry.robot === false || entry.robot === 'forbidden') return [];
      return entry.robot.getSitemaps();
    },
    size: () => entries.size,
  };
}

/**
 * The cache key of a URL's robots.txt: its `scheme://authority`, sliced when the URL has no
 * userinfo (what the frontier holds; it is also the robots.txt URL's prefix), its parsed origin
 * otherwise. Two spellings of one origin only cost a second fetch of the same file.
 */
function cacheKeyOf(url: string): string {
  const start = url.startsWith('https://') ? 8 : url.startsWith('http://') ? 7 : -1;
  if (start !== -1) {
    let end = start;
    while (end < url.length) {
      const c = url.charCodeAt(end);
      if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) break;
      if (c === 64 /* @ */ || c === 92 /* \ */) return parsedOrigin(url);
      end++;
    }
    if (end > start) return url.slice(0, end);
  }
  return parsedOrigin(url);
}

function parsedOrigin(url: string): string {
  let origin: string;
  try {
    origin = new URL(url).origin;
  } catch {
    throw new OwlError('INVALID_URL', undefined, { url });
  }
  if (origin === 'null') throw new OwlError('INVALID_URL', undefined, { url });
  return origin;
}
