/**
 * GET /sites: per-site health over a recent window, read from the store's results (every job),
 * worst first, with the proxy pool's health as the workers record it. The console's Sites view.
 * It needs `jobs:read`; a key without `admin` sees the sites of its own jobs only and not the pool.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { SiteLabeler } from '../../metrics/site-label.ts';
import type { PageStore, ProxyHealthStore, RecentPage } from '../../store/types.ts';
import { viaStore } from '../http-errors.ts';
import { commonErrors } from '../schemas.ts';

export interface SiteRoutesOptions {
  pages: PageStore;
  proxies: ProxyHealthStore;
  /** Grafana's base URL (OWL_GRAFANA_URL), passed to clients for dashboard links; null without one. */
  grafanaUrl: string | null;
  /**
   * Results read at most per request (default 10,000): a busier window is judged on its newest
   * results. Reading 50,000 took 60–220 ms on SQLite here (bench/console.ts); 10,000 keeps the view quick.
   */
  maxPages?: number;
  /** Clock in ms, for tests (default Date.now). */
  now?: () => number;
}

export const SITE_WINDOWS = { '15m': 15 * 60_000, '1h': 60 * 60_000, '6h': 6 * 60 * 60_000, '24h': 24 * 60 * 60_000 } as const;
type Window = keyof typeof SITE_WINDOWS;

export interface SiteHealth {
  site: string;
  pages: number;
  failed: number;
  http403: number;
  http429: number;
  captchas: number;
  medianFetchMs: number;
  /** Share of the site's results that were blocked, rate limited, captchas or failures (0..1): the sort key. */
  trouble: number;
}

/**
 * The host name of a stored (normalised, absolute) URL without a URL parse: the text between
 * `//` and the next `/`, `?` or `#`, without a port or user info. Null when there is none.
 */
export function hostOf(url: string): string | null {
  const start = url.indexOf('//');
  if (start < 0) return null;
  let end = url.length;
  for (const c of ['/', '?', '#']) {
    const i = url.indexOf(c, start + 2);
    if (i >= 0 && i < end) end = i;
  }
  let authority = url.slice(start + 2, end);
  const at = authority.lastIndexOf('@');
  if (at >= 0) authority = authority.slice(at + 1);
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    return close > 0 ? authority.slice(1, close).toLowerCase() : null;
  }
  const colon = authority.indexOf(':');
  const host = (colon >= 0 ? authority.slice(0, colon) : authority).toLowerCase();
  return host === '' ? null : host;
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = values.sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
}

/** Folds results into per-site rows, worst first (then busiest, then by name); `labeler` should be uncapped. */
export function siteHealth(pages: RecentPage[], labeler: Pick<SiteLabeler, 'label'>): SiteHealth[] {
  const bySite = new Map<string, { row: SiteHealth; times: number[]; troubled: number }>();
  for (const p of pages) {
    const host = hostOf(p.url);
    if (host === null) continue;
    const site = labeler.label(host);
    let s = bySite.get(site);
    if (s === undefined) {
      s = { row: { site, pages: 0, failed: 0, http403: 0, http429: 0, captchas: 0, medianFetchMs: 0, trouble: 0 }, times: [], troubled: 0 };
      bySite.set(site, s);
    }
    const r = s.row;
    r.pages++;
    s.times.push(p.fetchMs);
    const is403 = p.statusCode === 403 || p.errorCode === 'http_403';
    const is429 = p.statusCode === 429 || p.errorCode === 'http_429';
    const captcha = p.errorCode === 'captcha';
    if (p.errorCode !== null) r.failed++;
    if (is403) r.http403++;
    if (is429) r.http429++;
    if (captcha) r.captchas++;
    if (p.errorCode !== null || is403 || is429) s.troubled++;
  }
  const rows = [...bySite.values()].map(({ row, times, troubled }) => ({
    ...row,
    medianFetchMs: median(times),
    trouble: Math.round((troubled / row.pages) * 1000) / 1000,
  }));
  return rows.sort((a, b) => b.trouble - a.trouble || b.pages - a.pages || a.site.localeCompare(b.site));
}

const siteSchema = {
  type: 'object',
  required: ['site', 'pages', 'failed', 'http403', 'http429', 'captchas', 'medianFetchMs', 'trouble'],
  properties: {
    site: { type: 'string', description: 'registrable domain (as the `site` metric label)' },
    pages: { type: 'integer', description: 'results stored in the window' },
    failed: { type: 'integer', description: 'results with an error code' },
    http403: { type: 'integer' },
    http429: { type: 'integer' },
    captchas: { type: 'integer' },
    medianFetchMs: { type: 'number' },
    trouble: { type: 'number', description: 'share of results blocked, rate limited, captchas or failed (0..1)' },
  },
} as const;

export const siteRoutes: FastifyPluginAsync<SiteRoutesOptions> = async (app, opts) => {
  const maxPages = opts.maxPages ?? 10_000;
  const now = opts.now ?? Date.now;

  app.get<{ Querystring: { window: Window } }>('/sites', {
    config: { scope: 'jobs:read' },
    schema: {
      summary: 'Per-site health over a recent window, worst first, and proxy health',
      description: "From the stored results of every job (a key without `admin`: of its own jobs only, without the proxy pool): pages, failures, 403, 429, captchas and median fetch time per site (registrable domain), sorted by the share in trouble. At most 10,000 of the window's newest results are read (`sampled` says when the window held more, `results` how many were read).",
      querystring: {
        type: 'object',
        properties: { window: { type: 'string', enum: Object.keys(SITE_WINDOWS), default: '1h' } },
      },
      response: {
        200: {
          type: 'object',
          required: ['window', 'view', 'since', 'results', 'sampled', 'sites', 'proxies', 'grafanaUrl'],
          properties: {
            view: {
              type: 'string',
              enum: ['all', 'key'],
              description: "`all`: every job's results and the proxy pool (an admin key, or auth off); `key`: only the results of the calling key's own jobs, and no proxy pool (the operator's)",
            },
            window: { type: 'string' },
            since: { type: 'integer', description: 'epoch ms' },
            results: { type: 'integer', description: 'results read' },
            sampled: { type: 'boolean', description: 'true when only the newest results of the window were read' },
            sites: { type: 'array', items: siteSchema },
            proxies: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  proxy: { type: 'string' },
                  failures: { type: 'integer', description: 'consecutive failures' },
                  cooldownUntil: { type: 'integer', description: 'epoch ms; in the past when usable' },
                  lastError: { type: ['string', 'null'] },
                  usable: { type: 'boolean' },
                },
              },
            },
            grafanaUrl: { type: ['string', 'null'], description: 'OWL_GRAFANA_URL, for links to the dashboards' },
          },
        },
        ...commonErrors,
      },
    },
  }, async (request) => {
    const { window } = request.query;
    const at = now();
    const since = at - SITE_WINDOWS[window];
    // A key sees the sites of its own jobs only, as it sees only its own jobs; the pool is the operator's.
    const principal = request.principal;
    const own = principal !== null && !principal.admin ? principal.keyId : undefined;
    const recent = await viaStore('recentPages', () => opts.pages.recent(since, maxPages, own));
    const proxies = own === undefined ? await viaStore('listProxies', () => opts.proxies.list()) : [];
    // Loaded on first use: its public-suffix list is not needed before the API answers.
    const { SiteLabeler } = await import('../../metrics/site-label.ts');
    return {
      window,
      view: own === undefined ? 'all' : 'key',
      since,
      results: recent.length,
      sampled: recent.length >= maxPages,
      sites: siteHealth(recent, new SiteLabeler(Number.MAX_SAFE_INTEGER)),
      proxies: proxies.map((p) => ({ ...p, usable: p.cooldownUntil <= at })),
      grafanaUrl: opts.grafanaUrl,
    };
  });
};
