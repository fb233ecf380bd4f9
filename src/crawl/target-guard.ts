/**
 * SSRF guard: refuses crawl targets in loopback, private, link-local, CGNAT, documentation,
 * multicast and reserved ranges, and cloud metadata host names. Literal IPs are checked when a
 * URL is submitted and on every redirect hop (`assertTargetAllowed`); host names are checked
 * when the socket connects (`guardedLookup`), so DNS rebinding between the two cannot slip by.
 */
import dns from 'node:dns';
import { isIP } from 'node:net';
import { OwlError } from '../errors.ts';

/** [network as uint32, prefix length] */
const FORBIDDEN_V4: ReadonlyArray<readonly [number, number]> = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
].map(([net, bits]) => [parseIPv4(net as string)!, bits as number] as const);

/** Host names that reach a cloud provider's instance metadata service. */
const METADATA_HOSTS: ReadonlySet<string> = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.azure.internal',
  'metadata.platformequinix.com',
]);

function parseIPv4(s: string): number | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (p.length === 0 || p.length > 3 || !/^\d+$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    n = n * 256 + v;
  }
  return n;
}

/** Eight 16-bit groups, or null when `s` is not an IPv6 address. Accepts a dotted IPv4 tail. */
function parseIPv6(s: string): number[] | null {
  let head = s;
  const tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.', lastColon)) {
    const v4 = parseIPv4(s.slice(lastColon + 1));
    if (v4 === null) return null;
    tail.push(v4 >>> 16, v4 & 0xffff);
    head = s.slice(0, lastColon + 1);
    // `::1.2.3.4` leaves `::`; `::ffff:1.2.3.4` leaves `::ffff:` — drop the single trailing colon.
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const parseGroups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = parseGroups(halves[0]!);
  if (left === null) return null;
  if (halves.length === 1) {
    const groups = [...left, ...tail];
    return groups.length === 8 ? groups : null;
  }
  const right = parseGroups(halves[1]!);
  if (right === null) return null;
  const known = left.length + right.length + tail.length;
  if (known > 7) return null;
  return [...left, ...new Array<number>(8 - known).fill(0), ...right, ...tail];
}

function isForbiddenV4(n: number): boolean {
  for (const [net, bits] of FORBIDDEN_V4) {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    if (((n & mask) >>> 0) === net) return true;
  }
  return false;
}

function isForbiddenV6(g: number[]): boolean {
  const embedded = (hi: number, lo: number): number => ((g[hi]! << 16) >>> 0) + g[lo]!;
  const zeros = (from: number, to: number): boolean => g.slice(from, to).every((x) => x === 0);
  // ::/96 covers ::, ::1 (→ 0.0.0.0/0.0.0.1, both in 0/8) and IPv4-compatible addresses.
  if (zeros(0, 6)) return isForbiddenV4(embedded(6, 7));
  // ::ffff:a.b.c.d (mapped) and ::ffff:0:a.b.c.d (translated)
  if (zeros(0, 5) && g[5] === 0xffff) return isForbiddenV4(embedded(6, 7));
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return isForbiddenV4(embedded(6, 7));
  // NAT64 well-known prefix 64:ff9b::/96 and local-use 64:ff9b:1::/48
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return isForbiddenV4(embedded(6, 7));
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return true;
  // 6to4 2002:AABB:CCDD::/48 embeds an IPv4 address
  if (g[0] === 0x2002) return isForbiddenV4(embedded(1, 2));
  if ((g[0]! & 0xfe00) === 0xfc00) return true; // fc00::/7 unique local
  if ((g[0]! & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  if ((g[0]! & 0xff00) === 0xff00) return true; // ff00::/8 multicast
  return false;
}

/**
 * True for addresses a crawl must not reach by default: IPv4 0/8, 10/8, 100.64/10 (CGNAT), 127/8,
 * 169.254/16 (link-local, cloud metadata 169.254.169.254), 172.16/12, 192.0.0/24, 192.0.2/24,
 * 192.168/16, 198.18/15, 198.51.100/24, 203.0.113/24, 224/4, 240/4; IPv6 ::, ::1, fc00::/7,
 * fe80::/10, ff00::/8, and IPv4-mapped/compatible/translated/NAT64/6to4 forms of forbidden IPv4.
 * Accepts brackets and a zone id (`[fe80::1%eth0]`). A string that is not an IP address is
 * reported forbidden: callers pass resolved addresses, so anything else is a bug to fail closed on.
 */
export function isForbiddenAddress(ip: string): boolean {
  let s = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const v4 = parseIPv4(s);
  if (v4 !== null) return isForbiddenV4(v4);
  const v6 = parseIPv6(s);
  if (v6 !== null) return isForbiddenV6(v6);
  return true;
}

/** True for a host name of a cloud metadata service (case-insensitive, trailing dot ignored). */
export function isMetadataHost(hostname: string): boolean {
  return METADATA_HOSTS.has(hostname.toLowerCase().replace(/\.+$/, ''));
}

/**
 * Parses `url` and returns it when it is an absolute http(s) URL whose host may be crawled.
 * Throws OwlError INVALID_URL for a malformed or non-http(s) URL, and TARGET_FORBIDDEN for a
 * literal forbidden IP in any notation (the WHATWG parser canonicalises decimal, octal, hex and
 * short forms to dotted quads before the check) or a metadata host name — unless `allowPrivate`.
 * Host names are not resolved here; `guardedLookup` checks them at connect time.
 * `isForbidden` (default `isForbiddenAddress`) lets a caller narrow or widen the ranges.
 */
export function checkTarget(url: string, allowPrivate: boolean, isForbidden: (ip: string) => boolean = isForbiddenAddress): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OwlError('INVALID_URL', undefined, { url });
  }
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.hostname === '') {
    throw new OwlError('INVALID_URL', undefined, { url });
  }
  if (allowPrivate) return parsed;
  const host = parsed.hostname;
  const literal = host.startsWith('[') ? host.slice(1, -1) : host;
  if (isIP(literal) !== 0 ? isForbidden(literal) : isMetadataHost(host)) {
    throw new OwlError('TARGET_FORBIDDEN', undefined, { url, host });
  }
  return parsed;
}

/** `checkTarget` for callers that only need the verdict (the API at submission time). */
export function assertTargetAllowed(url: string, allowPrivate: boolean): void {
  checkTarget(url, allowPrivate);
}

/** A dns.lookup-compatible callback. */
export type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/** The signature of `guardedLookup`, usable as `connect.lookup` in undici and `net.connect`. */
export type GuardedLookup = (hostname: string, options: dns.LookupOptions | number | LookupCallback, callback?: LookupCallback) => void;

/**
 * A `dns.lookup`-compatible function for undici's `connect.lookup` (and `net.connect`): resolves
 * every address of the host and fails with OwlError TARGET_FORBIDDEN when any of them is
 * forbidden, so a name pointing at 127.0.0.1 or 169.254.169.254 is refused before connecting.
 * Honours `options.all` (Node's happy-eyeballs asks for every address).
 */
export const guardedLookup: GuardedLookup = createGuardedLookup(isForbiddenAddress);

/** `guardedLookup` with another address predicate. */
export function createGuardedLookup(isForbidden: (ip: string) => boolean): GuardedLookup {
  return (hostname, options, callback) => lookupChecked(hostname, options, callback, isForbidden);
}

function lookupChecked(hostname: string, options: dns.LookupOptions | number | LookupCallback, callback: LookupCallback | undefined, isForbidden: (ip: string) => boolean): void {
  let opts: dns.LookupOptions;
  let cb: LookupCallback;
  if (typeof options === 'function') {
    cb = options;
    opts = {};
  } else {
    cb = callback!;
    opts = typeof options === 'number' ? { family: options } : options;
  }
  dns.lookup(hostname, { ...opts, all: true }, (err, addresses) => {
    if (err) return cb(err, '');
    const bad = addresses.find((a) => isForbidden(a.address));
    if (bad !== undefined) {
      const e = new OwlError('TARGET_FORBIDDEN', `The host ${hostname} resolves to a forbidden address`, { host: hostname, address: bad.address });
      return cb(e as unknown as NodeJS.ErrnoException, '');
    }
    if (addresses.length === 0) {
      const e: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
      e.code = 'ENOTFOUND';
      return cb(e, '');
    }
    if (opts.all) return cb(null, addresses);
    cb(null, addresses[0]!.address, addresses[0]!.family);
  });
}

/**
 * Resolves `hostname` (a name or a literal IP) and throws TARGET_FORBIDDEN when any address is
 * forbidden. For fetches through a proxy, where the proxy would otherwise resolve the name.
 */
export async function assertHostResolvesAllowed(hostname: string, isForbidden: (ip: string) => boolean = isForbiddenAddress): Promise<void> {
  const literal = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  if (isIP(literal) !== 0) {
    if (isForbidden(literal)) throw new OwlError('TARGET_FORBIDDEN', undefined, { host: hostname });
    return;
  }
  let addresses: dns.LookupAddress[];
  try {
    addresses = await dns.promises.lookup(literal, { all: true });
  } catch (err) {
    throw new OwlError('NETWORK', `DNS lookup of ${hostname} failed`, { host: hostname }, { cause: err });
  }
  const bad = addresses.find((a) => isForbidden(a.address));
  if (bad !== undefined) {
    throw new OwlError('TARGET_FORBIDDEN', `The host ${hostname} resolves to a forbidden address`, { host: hostname, address: bad.address });
  }
}
