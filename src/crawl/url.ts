/**
 * URL normalisation for the frontier: WHATWG `new URL` semantics, http(s) only, fragment dropped.
 *
 * `new URL` costs about 3 µs per call, which dominates link extraction, so common hrefs are
 * resolved by string concatenation when the result is provably what `new URL` would return:
 * only lower-case `http://`/`https://` prefixes, plain lower-case DNS hosts or canonical IPv4
 * addresses with no userinfo and no port or one `new URL` keeps as written, and paths/queries made
 * of characters `new URL` leaves untouched, without dot segments. Anything else (`%`, `\`,
 * `.`-segments, upper case hosts, non-ASCII, whitespace, default or zero-padded ports, IDN …)
 * takes the `new URL` path. The equivalence is checked by the fuzz test in test/crawl/links.test.ts.
 */

const PATH_CHAR = 1;
const QUERY_CHAR = 2;
const HOST_CHAR = 4;

/** Per ASCII code: which components may hold it unchanged by `new URL` (bit set above). */
const CHAR_CLASS = buildCharClasses();

function buildCharClasses(): Uint8Array {
  const table = new Uint8Array(128);
  const mark = (chars: string, bits: number): void => {
    for (let i = 0; i < chars.length; i++) table[chars.charCodeAt(i)] |= bits;
  };
  const lower = 'abcdefghijklmnopqrstuvwxyz';
  const digits = '0123456789';
  const alnum = lower + lower.toUpperCase() + digits;
  // Neither the path nor the special-query percent-encode set contains these.
  mark(`${alnum}-._~!$&()*+,;=:@/`, PATH_CHAR | QUERY_CHAR);
  mark("'", PATH_CHAR); // in the special-query percent-encode set, not in the path one
  mark('?%', QUERY_CHAR); // `%` is never re-encoded; in paths it may spell a dot segment (%2e)
  mark(`${lower + digits}-.`, HOST_CHAR);
  return table;
}

const SLASH = 47;
const QUESTION = 63;
const DOT = 46;
const COLON = 58;

const MAX_LABEL = 63;
const MAX_HOST = 253;

/** Base URL split into the pieces that relative references are appended to. */
interface BaseParts {
  /** `http:` or `https:` */
  scheme: string;
  /** `https://user@host:port` (no trailing slash). */
  origin: string;
  /**
   * Base without fragment, for `#x` and empty references; null when the base has an empty
   * query (`/p?`), where Node's `new URL` drops the `?` for these references (spec keeps it).
   */
  noFragment: string | null;
  /** Base without query and fragment, for `?q` references. */
  noQuery: string;
  /** Base up to and including the last `/` of its path, for `page.html` references. */
  directory: string;
}

/** A resolver bound to one base URL; returns the normalised absolute http(s) URL or null. */
export type UrlResolver = (raw: string) => string | null;

/**
 * Builds a resolver for many references against one base (what link extraction needs).
 * `base` null or unparsable: only absolute references resolve. A base string that is already
 * a normalised http(s) URL is split without parsing; the `URL` object for references that
 * need the full parser is built on first use.
 */
export function createResolver(base: string | URL | null | undefined): UrlResolver {
  let parts: BaseParts | null = null;
  let baseUrl: URL | null | undefined;
  if (base instanceof URL) {
    baseUrl = base;
    parts = splitBase(base.href, base.protocol);
  } else if (typeof base === 'string') {
    const normalised = resolveFast(base, null);
    if (normalised === base) parts = splitBase(base, base.charCodeAt(4) === COLON ? 'http:' : 'https:');
    else {
      // One parse (canParse and then new URL parsed it twice, for every page whose URL has a port or an IP).
      try {
        baseUrl = new URL(base);
      } catch {
        baseUrl = null;
      }
      if (baseUrl !== null) parts = splitBase(baseUrl.href, baseUrl.protocol);
    }
  } else {
    baseUrl = null;
  }
  return (raw) => {
    const fast = resolveFast(raw, parts);
    if (fast !== undefined) return fast;
    if (baseUrl === undefined) baseUrl = new URL(base as string);
    return resolveSlow(raw, baseUrl);
  };
}

/** True when `url` is an absolute http(s) URL exactly as `new URL(url).href` writes it, with no fragment (proved without parsing it). */
export function isNormalizedUrl(url: string): boolean {
  return resolveFast(url, null) === url;
}

/** Absolute, normalised http(s) URL or null (mailto:, javascript:, data:, tel:, ftp:, invalid, no host). */
export function normalizeUrl(raw: string, base?: string | URL): string | null {
  const fast = resolveFast(raw, null);
  if (fast !== undefined) return fast;
  if (base === undefined) return resolveSlow(raw, null);
  return createResolver(base)(raw);
}

/** Host name of a normalised URL without re-parsing (fast path), lower-case, no port. */
export function hostOf(normalizedUrl: string): string {
  const schemeEnd = normalizedUrl.indexOf('//');
  if (schemeEnd === -1) return '';
  const start = schemeEnd + 2;
  let end = start;
  const n = normalizedUrl.length;
  while (end < n) {
    const c = normalizedUrl.charCodeAt(end);
    if (c === SLASH || c === QUESTION || c === 35 /* # */ || c === 92 /* \ */) break;
    end++;
  }
  const at = normalizedUrl.lastIndexOf('@', end - 1);
  const hostStart = at >= start ? at + 1 : start;
  if (normalizedUrl.charCodeAt(hostStart) === 91 /* [ */) {
    const close = normalizedUrl.indexOf(']', hostStart);
    return normalizedUrl.slice(hostStart, close === -1 || close > end ? end : close + 1).toLowerCase();
  }
  const colon = normalizedUrl.indexOf(':', hostStart);
  return normalizedUrl.slice(hostStart, colon !== -1 && colon < end ? colon : end).toLowerCase();
}

/** Crawler-trap limits used by isLikelyTrap. */
export const TRAP_LIMITS = Object.freeze({
  /** URLs longer than this are traps. */
  maxLength: 2048,
  /** More non-empty path segments than this is a trap. */
  maxSegments: 10,
  /** The same segment this many times in a row is a trap. */
  maxRepeatInRow: 3,
  /** The same segment this many times anywhere in the path is a trap. */
  maxRepeatOverall: 4,
  /** More non-empty query parameters than this is a trap. */
  maxQueryParams: 12,
});

/**
 * True for URLs that look like crawler traps: length > 2048, a path segment repeated ≥ 3 times
 * in a row or ≥ 4 times overall, more than 10 path segments, more than 12 query parameters.
 * Segments are the non-empty pieces of the path between slashes; parameters the non-empty
 * pieces of the query between `&`.
 */
export function isLikelyTrap(normalizedUrl: string): boolean {
  const url = normalizedUrl;
  if (url.length > TRAP_LIMITS.maxLength) return true;
  // One pass, no allocation: it runs for every link a crawl admits.
  const schemeEnd = url.indexOf('//');
  const pathStart = url.indexOf('/', schemeEnd === -1 ? 0 : schemeEnd + 2);
  const hash = url.indexOf('#');
  const end = hash === -1 ? url.length : hash;
  const q = url.indexOf('?');
  const queryStart = q !== -1 && q < end ? q : -1;
  if (queryStart !== -1) {
    let params = 0;
    let pieceStart = queryStart + 1;
    for (let i = pieceStart; i <= end; i++) {
      if (i === end || url.charCodeAt(i) === AMPERSAND) {
        if (i > pieceStart) params++;
        pieceStart = i + 1;
      }
    }
    if (params > TRAP_LIMITS.maxQueryParams) return true;
  }
  if (pathStart === -1 || (queryStart !== -1 && pathStart > queryStart)) return false;
  const pathEnd = queryStart === -1 ? end : queryStart;
  // Non-empty segments as [start, end) pairs; more than maxSegments is a trap by itself.
  let count = 0;
  let segStart = pathStart + 1;
  for (let i = segStart; i <= pathEnd; i++) {
    if (i === pathEnd || url.charCodeAt(i) === SLASH) {
      if (i > segStart) {
        if (count === TRAP_LIMITS.maxSegments) return true;
        SEGMENTS[2 * count] = segStart;
        SEGMENTS[2 * count + 1] = i;
        count++;
      }
      segStart = i + 1;
    }
  }
  let run = 0;
  for (let k = 0; k < count; k++) {
    run = k > 0 && sameSegment(url, k - 1, k) ? run + 1 : 1;
    if (run >= TRAP_LIMITS.maxRepeatInRow) return true;
    let seen = 1;
    for (let j = 0; j < k; j++) if (sameSegment(url, j, k)) seen++;
    if (seen >= TRAP_LIMITS.maxRepeatOverall) return true;
  }
  return false;
}

const AMPERSAND = 38;
/** Segment bounds of the URL being checked (at most maxSegments of them). */
const SEGMENTS = new Int32Array(2 * TRAP_LIMITS.maxSegments);

function sameSegment(url: string, a: number, b: number): boolean {
  const a0 = SEGMENTS[2 * a]!;
  const b0 = SEGMENTS[2 * b]!;
  const len = SEGMENTS[2 * a + 1]! - a0;
  if (len !== SEGMENTS[2 * b + 1]! - b0) return false;
  for (let i = 0; i < len; i++) if (url.charCodeAt(a0 + i) !== url.charCodeAt(b0 + i)) return false;
  return true;
}

function splitBase(href: string, protocol: string): BaseParts | null {
  if (protocol !== 'http:' && protocol !== 'https:') return null;
  const hash = href.indexOf('#');
  const noFragment = hash === -1 ? href : href.slice(0, hash);
  const pathStart = noFragment.indexOf('/', protocol.length + 2);
  const q = noFragment.indexOf('?');
  const noQuery = q === -1 ? noFragment : noFragment.slice(0, q);
  return {
    scheme: protocol,
    origin: noFragment.slice(0, pathStart),
    noFragment: q === noFragment.length - 1 ? null : noFragment,
    noQuery,
    directory: noQuery.slice(0, noQuery.lastIndexOf('/') + 1),
  };
}

function resolveSlow(raw: string, base: URL | null): string | null {
  let url: URL;
  try {
    url = base === null ? new URL(raw) : new URL(raw, base);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  const href = url.href;
  const hash = href.indexOf('#');
  return hash === -1 ? href : href.slice(0, hash);
}

/**
 * The result `new URL` would give (fragment dropped) when it is provably the same,
 * or undefined when the reference needs the full parser.
 */
function resolveFast(raw: string, base: BaseParts | null): string | null | undefined {
  const hash = raw.indexOf('#');
  const end = hash === -1 ? raw.length : hash;
  if (end === 0) return base === null || base.noFragment === null ? undefined : base.noFragment;
  const c0 = raw.charCodeAt(0);
  if (c0 === SLASH) {
    if (end > 1 && raw.charCodeAt(1) === SLASH) {
      if (base === null) return undefined;
      const hostEnd = scanHost(raw, 2, end, base.scheme === 'http:' ? '80' : '443');
      if (hostEnd === -1 || !scanPathAndQuery(raw, hostEnd, end, true)) return undefined;
      return base.scheme + withRootPath(raw, hostEnd, end);
    }
    if (base === null || !scanPathAndQuery(raw, 0, end, true)) return undefined;
    return base.origin + (end === raw.length ? raw : raw.slice(0, end));
  }
  if (c0 === QUESTION) {
    if (base === null || !scanQuery(raw, 1, end)) return undefined;
    return base.noQuery + (end === raw.length ? raw : raw.slice(0, end));
  }
  if (c0 === 104 /* h */ && raw.startsWith('http')) {
    let hostStart = -1;
    if (raw.startsWith('://', 4)) hostStart = 7;
    else if (raw.startsWith('s://', 4)) hostStart = 8;
    if (hostStart !== -1) {
      const hostEnd = scanHost(raw, hostStart, end, hostStart === 7 ? '80' : '443');
      if (hostEnd === -1 || !scanPathAndQuery(raw, hostEnd, end, true)) return undefined;
      return withRootPath(raw, hostEnd, end);
    }
  }
  const scheme = schemeEnd(raw, end);
  if (scheme !== -1) {
    // Any other scheme gives a non-http(s) URL or a parse error: null either way.
    return isHttpScheme(raw, scheme) ? undefined : null;
  }
  if (base === null || c0 >= 128 || (CHAR_CLASS[c0] & PATH_CHAR) === 0) return undefined;
  if (!scanPathAndQuery(raw, 0, end, false)) return undefined;
  return base.directory + (end === raw.length ? raw : raw.slice(0, end));
}

/** Length of a URL scheme at the start of raw (ASCII letter, then letters, digits, `+-.`, then `:`), or -1. */
function schemeEnd(raw: string, end: number): number {
  const c0 = raw.charCodeAt(0) | 0x20;
  if (c0 < 97 || c0 > 122) return -1;
  for (let i = 1; i < end; i++) {
    const c = raw.charCodeAt(i);
    if (c === COLON) return i;
    const lower = c | 0x20;
    const ok = (lower >= 97 && lower <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === DOT;
    if (!ok) return -1;
  }
  return -1;
}

/** http/https in any case (left to the parser, which also handles `http:path` forms). */
function isHttpScheme(raw: string, length: number): boolean {
  if (length !== 4 && length !== 5) return false;
  const scheme = 'https';
  for (let k = 0; k < length; k++) {
    if ((raw.charCodeAt(k) | 0x20) !== scheme.charCodeAt(k)) return false;
  }
  return true;
}

/** `raw[0, end)` with `/` inserted after the host when the path is empty, as `new URL` does. */
function withRootPath(raw: string, hostEnd: number, end: number): string {
  if (hostEnd === end || raw.charCodeAt(hostEnd) === QUESTION) {
    return `${raw.slice(0, hostEnd)}/${raw.slice(hostEnd, end)}`;
  }
  return end === raw.length ? raw : raw.slice(0, end);
}

/**
 * End of a plain host starting at `from` (index of the `/`, `?` or end that follows it, after an
 * optional port), or -1 when the host needs the full parser (IPv4 in any but its canonical
 * dotted-decimal form, empty labels, `xn--`, a port `new URL` would rewrite, …). `defaultPort` is
 * the scheme's ('80' or '443'): `new URL` drops it, so a host that names it takes the parser.
 */
function scanHost(raw: string, from: number, end: number, defaultPort: string): number {
  let i = from;
  let labelStart = from;
  let digitLabels = 0;
  let labelDigitsOnly = true;
  while (i < end) {
    const c = raw.charCodeAt(i);
    if (c === SLASH || c === QUESTION || c === COLON) break;
    if (c >= 128 || (CHAR_CLASS[c] & HOST_CHAR) === 0) return -1;
    if (c === DOT) {
      if (i === labelStart || i - labelStart > MAX_LABEL) return -1;
      if (labelDigitsOnly) {
        if (!isCanonicalOctet(raw, labelStart, i)) return -1;
        digitLabels++;
      }
      labelStart = i + 1;
      labelDigitsOnly = true;
    } else if (c < 48 || c > 57) {
      labelDigitsOnly = false;
    }
    i++;
  }
  if (i === labelStart || i - labelStart > MAX_LABEL || i - from > MAX_HOST) return -1;
  const first = raw.charCodeAt(labelStart);
  if (first >= 48 && first <= 57) {
    // A last label that starts with a digit makes the WHATWG IPv4 parser take the host: only the
    // canonical form (four decimal octets, no leading zeros) comes out of it unchanged.
    if (!labelDigitsOnly || digitLabels !== 3 || !isCanonicalOctet(raw, labelStart, i)) return -1;
  } else if (first < 97 || first > 122) {
    return -1;
  }
  const punycode = raw.indexOf('xn--', from);
  if (punycode !== -1 && punycode < i) return -1;
  if (i < end && raw.charCodeAt(i) === COLON) return scanPort(raw, i + 1, end, defaultPort);
  return i;
}

/** True for `0`–`255` written without leading zeros. */
function isCanonicalOctet(raw: string, from: number, to: number): boolean {
  const len = to - from;
  if (len < 1 || len > 3 || (len > 1 && raw.charCodeAt(from) === 48)) return false;
  for (let k = from; k < to; k++) {
    const c = raw.charCodeAt(k);
    if (c < 48 || c > 57) return false;
  }
  return len < 3 || Number(raw.slice(from, to)) <= 255;
}

/** End of a port `new URL` keeps as written (1–65535 or 0, no leading zero, not the scheme's default), or -1. */
function scanPort(raw: string, from: number, end: number, defaultPort: string): number {
  let i = from;
  while (i < end) {
    const c = raw.charCodeAt(i);
    if (c === SLASH || c === QUESTION) break;
    if (c < 48 || c > 57) return -1;
    i++;
  }
  const len = i - from;
  if (len === 0 || len > 5 || (len > 1 && raw.charCodeAt(from) === 48)) return -1;
  const port = raw.slice(from, i);
  if (port === defaultPort || Number(port) > 65535) return -1;
  return i;
}

/**
 * True when `raw[from, end)` (a path, then an optional `?query`) holds only characters
 * `new URL` keeps unchanged and no segment starts with `.`. `absolute`: the path starts
 * after a `/` or a host; otherwise it is a relative path where `:` before the query
 * could be read as a scheme.
 */
function scanPathAndQuery(raw: string, from: number, end: number, absolute: boolean): boolean {
  let prev = SLASH;
  for (let i = from; i < end; i++) {
    const c = raw.charCodeAt(i);
    if (c === QUESTION) return scanQuery(raw, i + 1, end);
    if (c >= 128 || (CHAR_CLASS[c] & PATH_CHAR) === 0) return false;
    if (c === DOT && prev === SLASH) return false;
    if (c === COLON && !absolute) return false;
    prev = c;
  }
  return true;
}

function scanQuery(raw: string, from: number, end: number): boolean {
  for (let i = from; i < end; i++) {
    const c = raw.charCodeAt(i);
    if (c >= 128 || (CHAR_CLASS[c] & QUERY_CHAR) === 0) return false;
  }
  return true;
}
