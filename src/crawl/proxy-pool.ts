/**
 * Proxy pool: round-robin over the proxies that are not cooling down. A failure or a block puts a
 * proxy into cooldown for base × 2^(consecutive-1), capped; a success resets the streak. Health is
 * shared between workers through the store (`snapshot` → recordProxyHealth, listProxyHealth → `merge`).
 */
import { readFile } from 'node:fs/promises';
import { OwlError } from '../errors.ts';
import type { ProxyHandle } from './types.ts';
import type { ProxyHealth } from '../store/types.ts';
import { redactUrl } from '../redact.ts';
import type { Config } from '../config/schema.ts';

export interface ProxyPoolOptions {
  /** Proxy URLs (may carry credentials); de-duplicated by the caller (see loadProxyList). */
  proxies: string[];
  /** First cooldown in ms, doubled per consecutive failure (default 30000, OWL_PROXY_COOLDOWN_MS). */
  cooldownBaseMs: number;
  /** Longest cooldown in ms (default 600000). */
  cooldownMaxMs?: number;
  /** Clock in ms since the epoch (default Date.now). */
  now?: () => number;
}

export interface ProxyPool {
  readonly configured: number;
  /** Round-robin over proxies not in cooldown; null when none is configured or all are cooling down. */
  next(): ProxyHandle | null;
  /** When the first cooling-down proxy becomes usable again (null if none configured). */
  nextAvailableAt(): number | null;
  report(proxy: ProxyHandle, outcome: 'ok' | 'failure' | 'blocked', detail?: string): void;
  /** Usable now. */
  usable(): number;
  snapshot(): ProxyHealth[];
  /** Merge health recorded by other workers (from the store): keep the later cooldown. */
  merge(health: ProxyHealth[]): void;
}

export const DEFAULT_COOLDOWN_MAX_MS = 10 * 60_000;
/** Longest `lastError` kept, so a proxy's error page cannot bloat the store. */
const MAX_DETAIL = 200;

interface Entry {
  handle: ProxyHandle;
  failures: number;
  cooldownUntil: number;
  lastError: string | null;
}

/** The proxy URL without user and password: its identity in logs, metrics and the store. */
export function proxyId(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  // `new URL('http://h:8080').href` adds a trailing slash; keep ids as the operator wrote them.
  return u.pathname === '/' && !url.endsWith('/') ? u.href.slice(0, -1) : u.href;
}

export function createProxyPool(opts: ProxyPoolOptions): ProxyPool {
  const now = opts.now ?? Date.now;
  const baseMs = opts.cooldownBaseMs;
  const maxMs = opts.cooldownMaxMs ?? DEFAULT_COOLDOWN_MAX_MS;
  const entries: Entry[] = [];
  const byId = new Map<string, Entry>();
  for (const url of opts.proxies) {
    const handle: ProxyHandle = Object.freeze({ id: proxyId(url), url });
    if (byId.has(handle.id)) continue;
    const entry: Entry = { handle, failures: 0, cooldownUntil: 0, lastError: null };
    entries.push(entry);
    byId.set(handle.id, entry);
  }
  let cursor = 0;

  return {
    configured: entries.length,

    next() {
      const t = now();
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[(cursor + i) % entries.length]!;
        if (entry.cooldownUntil <= t) {
          cursor = (cursor + i + 1) % entries.length;
          return entry.handle;
        }
      }
      return null;
    },

    nextAvailableAt() {
      if (entries.length === 0) return null;
      const t = now();
      let earliest = Infinity;
      for (const e of entries) {
        if (e.cooldownUntil <= t) return t;
        earliest = Math.min(earliest, e.cooldownUntil);
      }
      return earliest;
    },

    report(proxy, outcome, detail) {
      const entry = byId.get(proxy.id);
      if (!entry) return;
      // An ok ends the streak but not a cooldown already running: it may come from a request
      // that started before the failure that put the proxy on ice.
      if (outcome === 'ok') {
        entry.failures = 0;
        return;
      }
      entry.lastError = (detail ?? outcome).slice(0, MAX_DETAIL);
      const t = now();
      // Requests in flight when the proxy went into cooldown report their failures late; they
      // are the same incident, not further consecutive failures, so they do not double it again.
      if (entry.cooldownUntil > t) return;
      entry.failures += 1;
      const exponent = Math.min(entry.failures - 1, 30);
      entry.cooldownUntil = t + Math.min(maxMs, baseMs * 2 ** exponent);
    },

    usable() {
      const t = now();
      let n = 0;
      for (const e of entries) if (e.cooldownUntil <= t) n++;
      return n;
    },

    snapshot() {
      return entries.map((e) => ({ proxy: e.handle.id, failures: e.failures, cooldownUntil: e.cooldownUntil, lastError: e.lastError }));
    },

    merge(health) {
      for (const h of health) {
        const entry = byId.get(h.proxy);
        if (!entry || h.cooldownUntil <= entry.cooldownUntil) continue;
        entry.cooldownUntil = h.cooldownUntil;
        entry.failures = Math.max(entry.failures, h.failures);
        entry.lastError = h.lastError;
      }
    },
  };
}

/** Checks one proxy URL; returns the reason it is unusable, or null. */
function proxyProblem(raw: string): string | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `uses ${u.protocol.replace(':', '')}; only http and https proxies are supported`;
  if (!u.hostname) return 'has no host';
  return null;
}

/**
 * Reads config: OWL_PROXIES list plus an optional file (one URL per line, # comments, blank
 * lines). Rejects with an OwlError CONFIG_INVALID naming the bad entry (line number for files):
 * only http:// and https:// proxies with a host. De-duplicates (first occurrence wins, by id).
 */
export async function loadProxyList(opts: { proxies: string[]; proxyFile?: string }): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (raw: string, where: string): void => {
    const problem = proxyProblem(raw);
    if (problem) throw new OwlError('CONFIG_INVALID', `proxy ${redactUrl(raw)} (${where}) ${problem}`, { field: 'proxies', where });
    const id = proxyId(raw);
    if (seen.has(id)) return;
    seen.add(id);
    out.push(raw);
  };
  opts.proxies.forEach((p, i) => {
    const raw = p.trim();
    if (raw) add(raw, `OWL_PROXIES entry ${i + 1}`);
  });
  if (opts.proxyFile) {
    let text: string;
    try {
      text = await readFile(opts.proxyFile, 'utf8');
    } catch (e) {
      throw new OwlError('CONFIG_INVALID', `proxy file ${opts.proxyFile} cannot be read: ${(e as Error).message}`, { field: 'proxyFile' }, { cause: e });
    }
    text.split(/\r?\n/).forEach((line, i) => {
      const raw = line.replace(/(^|\s)#.*$/, '').trim();
      if (raw) add(raw, `${opts.proxyFile}:${i + 1}`);
    });
  }
  return out;
}

/** The pool the settings describe: OWL_PROXIES and OWL_PROXY_FILE, with OWL_PROXY_COOLDOWN_MS. */
export async function buildProxyPool(config: Pick<Config, 'proxies' | 'proxyFile' | 'proxyCooldownMs'>): Promise<ProxyPool> {
  const list = await loadProxyList({ proxies: config.proxies, proxyFile: config.proxyFile });
  return createProxyPool({ proxies: list, cooldownBaseMs: config.proxyCooldownMs });
}
