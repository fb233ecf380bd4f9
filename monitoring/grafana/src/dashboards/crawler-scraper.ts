import { API_METRICS as API, SCHEDULE_METRICS as S, WORKER_METRICS as W } from '../../../../src/metrics/definitions.ts';
import { alerts } from '../../../prometheus/src/config.ts';
import { spoken } from '../../../prometheus/src/rule.ts';
import { dashboard, q, row, stat, table, timeseries } from '../panels.ts';
import { DASHBOARD_RANGE, increase, increaseOverRange, quantile, rate } from '../promql.ts';
import type { Dashboard } from '../types.ts';

/** The ProxyPoolLow alert's threshold (plan §5.1). */
const PROXY_POOL_LOW = alerts.ProxyPoolLow.minUsable;

/** The plan's Crawler & Scraper dashboard (§6.3): its four panels first, then per-site detail. */
export function crawlerScraperDashboard(): Dashboard {
  return dashboard({
    uid: 'crawler-scraper',
    title: 'Crawler & Scraper',
    description: 'Crawl throughput, blocking (403/429/captcha) and API latency, overall and per site.',
    tags: ['crawler', 'scraper'],
    panels: [
      stat({
        title: 'Proxy Pool Size',
        description: `Proxies usable now (configured minus those cooling down). Red below ${PROXY_POOL_LOW}, where ProxyPoolLow fires: add or rotate proxies.`,
        queries: [q(`max(${API.proxyPoolSize.name})`, 'usable')],
        thresholds: [{ color: 'red', value: null }, { color: 'green', value: PROXY_POOL_LOW }],
        w: 6,
        h: 8,
      }),
      timeseries({
        title: 'Pages Fetched (rate)',
        description: 'Pages fetched successfully per second, all workers together.',
        queries: [q(`sum(${rate(W.pagesFetched.name)})`, 'pages/s')],
        unit: 'reqps',
        min: 0,
        w: 18,
      }),
      timeseries({
        title: '403/429 (rate)',
        description: 'Blocked (403) and rate-limited (429) responses per second. A rise means targets push back: lower the request rate or rotate proxies (plan §16).',
        queries: [q(`sum(${rate(W.http403.name)})`, '403'), q(`sum(${rate(W.http429.name)})`, '429')],
        unit: 'reqps',
        min: 0,
      }),
      timeseries({
        title: 'API P95 Latency',
        description: `95th percentile of API request latency over all routes. APIHighLatency fires when the ${alerts.APIHighLatency.quantile} quantile stays above ${alerts.APIHighLatency.seconds} s for ${spoken(alerts.APIHighLatency.for)}.`,
        queries: [q(quantile(0.95, API.apiRequestLatency.name), 'p95')],
        unit: 's',
        min: 0,
      }),
      row('Jobs and queue'),
      timeseries({
        title: 'Jobs started by source',
        description: 'Crawl jobs started per second, by the source that submitted them.',
        queries: [q(`sum by (source) (${rate(API.jobsStarted.name)})`, '{{source}}')],
        unit: 'ops',
        min: 0,
        w: 8,
      }),
      timeseries({
        title: 'Jobs failed by reason',
        description: 'Crawl jobs ending failed per second, by reason code.',
        queries: [q(`sum by (reason) (${rate(API.jobsFailed.name)})`, '{{reason}}')],
        unit: 'ops',
        min: 0,
        w: 8,
      }),
      timeseries({
        title: 'Jobs in queue and URLs waiting',
        description: 'Jobs not yet finished, and URLs waiting in the frontier. A frontier that grows while pages/s stays flat means workers are short or blocked.',
        queries: [q(`max(${API.jobsInQueue.name})`, 'jobs'), q(`max(${W.queueDepth.name})`, 'URLs waiting')],
        min: 0,
        w: 8,
      }),
      row('Extraction'),
      timeseries({
        title: 'Pages extracted by outcome',
        description: "Pages run through a job's extraction rules per second: complete, missing_required (a required field came back empty), failed.",
        queries: [q(`sum by (outcome) (${rate(W.pagesExtracted.name)})`, '{{outcome}}')],
        unit: 'reqps',
        min: 0,
        w: 8,
      }),
      timeseries({
        title: 'Share missing a required field, by site',
        description: `Share of a site's extracted pages with a required field empty. ExtractionFieldsMissing fires above ${alerts.ExtractionFieldsMissing.share * 100} % when it jumped by ${alerts.ExtractionFieldsMissing.jump * 100} points in ${spoken(alerts.ExtractionFieldsMissing.baseline)}: the site's layout probably changed under the rules.`,
        queries: [q('site:pages_extracted_missing_required:ratio_rate15m', '{{site}}')],
        unit: 'percentunit',
        min: 0,
        max: 1,
        thresholds: [{ color: 'green', value: null }, { color: 'red', value: alerts.ExtractionFieldsMissing.share }],
        w: 8,
      }),
      timeseries({
        title: 'Content stored and documents by kind',
        description: 'Bytes of page content stored per second (compressed records), and pages stored per second by kind of document (html, text, json, xml, pdf).',
        queries: [q(`sum(${rate(W.contentStoredBytes.name)})`, 'bytes/s'), q(`sum by (kind) (${rate(W.documentsFetched.name)})`, '{{kind}}'), q(`sum by (result) (${rate(W.sitemapUrls.name)})`, 'sitemap URLs {{result}}')],
        min: 0,
        w: 8,
      }),
      row('Schedules and changes'),
      timeseries({
        title: 'Schedule runs by outcome',
        description: `Runs recorded per interval: started, queued, skipped (the previous job was still going), missed (due while nothing ran), not_started (the job body was refused). ScheduleMissed fires on missed runs or a due run waiting more than ${alerts.ScheduleMissed.overdueSeconds} s.`,
        queries: [q(`sum by (outcome) (${increase(S.scheduleRuns.name)})`, '{{outcome}}')],
        unit: 'short',
        min: 0,
        w: 8,
      }),
      timeseries({
        title: 'Due vs started: start lag and overdue',
        description: "p95 time from a run's planned time to its job's creation, and how long the earliest due run has waited to be claimed (read from the store).",
        queries: [q(quantile(0.95, S.scheduleStartLag.name), 'start lag p95'), q(`max(${S.schedulesOverdue.name})`, 'overdue')],
        unit: 's',
        min: 0,
        thresholds: [{ color: 'green', value: null }, { color: 'red', value: alerts.ScheduleMissed.overdueSeconds }],
        w: 8,
      }),
      timeseries({
        title: 'Page changes and 304s',
        description: "Pages of finished schedule runs by change against the baseline, and pages answered 304 Not Modified (not downloaded) per site.",
        queries: [q(`sum by (change) (${increase(S.scheduleChanges.name)})`, '{{change}}'), q(`sum by (site) (${increase(W.pagesNotModified.name)})`, '304 {{site}}')],
        unit: 'short',
        min: 0,
        w: 8,
      }),
      row('Per site'),
      table({
        title: 'Per-site summary',
        description: 'Per site (registrable domain): pages fetched, 403s, 429s and captchas over the dashboard time range, and p95 fetch latency over the same range. Sort by a column to find the sites that block.',
        queries: [
          q(`sum by (site) (${increaseOverRange(W.pagesFetched.name)})`),
          q(`sum by (site) (${increaseOverRange(W.http403.name)})`),
          q(`sum by (site) (${increaseOverRange(W.http429.name)})`),
          q(`sum by (site) (${increaseOverRange(API.captchaEncountered.name)})`),
          q(`histogram_quantile(0.95, sum by (le, site) (rate(${W.scrapeLatency.name}_bucket[${DASHBOARD_RANGE}])))`),
        ],
        joinOn: 'site',
        columns: ['Pages', '403', '429', 'Captchas', 'p95 latency (s)'],
        unit: 'none',
        h: 9,
      }),
      timeseries({
        title: 'Pages fetched by site',
        description: 'Pages fetched per second, by site.',
        queries: [q(`sum by (site) (${rate(W.pagesFetched.name)})`, '{{site}}')],
        unit: 'reqps',
        min: 0,
      }),
      timeseries({
        title: 'Fetch latency p95 by site',
        description: '95th percentile time to fetch one page, by site. A slow site ties up concurrency.',
        queries: [q(quantile(0.95, W.scrapeLatency.name, ['site']), '{{site}}')],
        unit: 's',
        min: 0,
      }),
      timeseries({
        title: '403 by site',
        description: `Blocked responses per second by site; Worker403Spike fires on more than ${alerts.Worker403Spike.count} in ${spoken(alerts.Worker403Spike.window)}.`,
        queries: [q(`sum by (site) (${rate(W.http403.name)})`, '{{site}}')],
        unit: 'reqps',
        min: 0,
        w: 8,
      }),
      timeseries({
        title: '429 by site',
        description: `Rate-limited responses per second by site; Worker429Spike fires on more than ${alerts.Worker429Spike.count} in ${spoken(alerts.Worker429Spike.window)}.`,
        queries: [q(`sum by (site) (${rate(W.http429.name)})`, '{{site}}')],
        unit: 'reqps',
        min: 0,
        w: 8,
      }),
      timeseries({
        title: 'Captchas by site',
        description: 'Captcha or challenge pages detected, per interval, by site.',
        queries: [q(`sum by (site) (${increase(API.captchaEncountered.name)})`, '{{site}}')],
        unit: 'short',
        min: 0,
        w: 8,
      }),
    ],
  });
}
