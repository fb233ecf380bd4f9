/**
 * Crawling: per-site throughput, blocking and latency recording rules, the plan's 429/403 spikes
 * (§5.1) summed per site across workers, captchas, a stalled crawl and an unreachable worker.
 * The counters come from `owl worker` (job="workers") or, in the embedded mode, from `owl serve`
 * itself (job="api"). Global gauges (queue_depth) are read from the store: max(), never sum().
 */
import { API_METRICS, WORKER_METRICS } from '../../../../src/metrics/definitions.ts';
import { PROMETHEUS } from '../../../grafana/src/exporter-metrics.ts';
import { alerts, selectors, type Duration } from '../config.ts';
import { alert, lines, record, sel, spoken, theLast, type RuleGroup } from '../rule.ts';

const crawler = selectors.crawler;
const RECORD_WINDOW = '5m';

/** `sum by (site) (<fn>(metric{crawler}[w]))`. */
function perSite(fn: 'rate' | 'increase', metric: string, window: string): string {
  return `sum by (site) (${fn}(${sel(metric, crawler)}[${window}]))`;
}

export function crawlerRecordingGroup(): RuleGroup {
  const w = RECORD_WINDOW;
  return {
    name: 'crawler.recording',
    rules: [
      record(`site:pages_fetched:rate${w}`, perSite('rate', WORKER_METRICS.pagesFetched.name, w)),
      record(`site:http_403:rate${w}`, perSite('rate', WORKER_METRICS.http403.name, w)),
      record(`site:http_429:rate${w}`, perSite('rate', WORKER_METRICS.http429.name, w)),
      record(
        `site:${WORKER_METRICS.scrapeLatency.name}:p95_rate${w}`,
        `histogram_quantile(0.95, sum by (site, le) (rate(${sel(`${WORKER_METRICS.scrapeLatency.name}_bucket`, crawler)}[${w}])))`,
      ),
      record(`reason:retries:rate${w}`, `sum by (reason) (rate(${sel(WORKER_METRICS.retries.name, crawler)}[${w}]))`),
    ],
  };
}

interface SpikeSpec {
  name: 'Worker429Spike' | 'Worker403Spike' | 'CaptchaSpike';
  metric: string;
  summary: string;
  /** What one count is, e.g. "responses with status 429". */
  what: string;
  /** Appended to the description. */
  tail?: string;
}

function spike(s: SpikeSpec) {
  const c = alerts[s.name];
  return alert({
    name: s.name,
    expr: `${perSite('increase', s.metric, c.window)} > ${c.count}`,
    for: c.for,
    severity: 'warning',
    component: 'crawler',
    summary: s.summary,
    description: `{{ $value | humanize }} ${s.what} from {{ $labels.site }} in ${theLast(c.window)}${s.tail ?? ''}.`,
  });
}

export function crawlerAlertGroup(): RuleGroup {
  const stalled = alerts.CrawlStalled;
  const progress = (metric: string, window: Duration) => `sum(increase(${sel(metric, crawler)}[${window}])) > ${stalled.minProgress}`;
  const workerDown = alerts.WorkerDown;
  return {
    name: 'crawler.rules',
    rules: [
      spike({
        name: 'Worker429Spike',
        metric: WORKER_METRICS.http429.name,
        summary: '{{ $labels.site }} rate-limits the crawler (429)',
        what: 'responses with status 429',
        tail: ', all workers together',
      }),
      spike({
        name: 'Worker403Spike',
        metric: WORKER_METRICS.http403.name,
        summary: '{{ $labels.site }} blocks the crawler (403)',
        what: 'responses with status 403',
        tail: ', all workers together',
      }),
      spike({
        name: 'CaptchaSpike',
        metric: API_METRICS.captchaEncountered.name,
        summary: '{{ $labels.site }} answers with captcha pages',
        what: 'captcha or challenge pages',
      }),
      alert({
        name: 'CrawlStalled',
        expr: lines(
          `max(${sel(WORKER_METRICS.queueDepth.name, crawler)}) > ${stalled.minQueueDepth}`,
          'unless on ()',
          '(',
          `  ${progress(WORKER_METRICS.pagesFetched.name, stalled.window)}`,
          '  or',
          `  ${progress(WORKER_METRICS.pagesFailed.name, stalled.window)}`,
          '  or',
          `  ${progress(WORKER_METRICS.pagesNotModified.name, stalled.window)}`,
          ')',
        ),
        for: stalled.for,
        severity: 'warning',
        component: 'crawler',
        summary: 'URLs are queued but the crawl makes no progress',
        description: `{{ $value | humanize }} URLs wait in the frontier and no page was fetched or given up in ${theLast(stalled.window)}.`,
        comment: [
          'Progress is a URL finishing either way (fetched, answered 304 to a schedule\'s re-crawl, or given up). `unless` rather than',
          '`and … == 0`, so a crawler that never fetched anything (no counter series yet) counts.',
        ].join('\n'),
      }),
      alert({
        name: 'WorkerDown',
        expr: `${sel(PROMETHEUS.up, selectors.workers)} == 0`,
        for: workerDown.for,
        severity: 'warning',
        component: 'crawler',
        summary: 'Worker {{ $labels.instance }} does not answer scrapes',
        description: `Prometheus could not scrape the worker at {{ $labels.instance }} for ${spoken(workerDown.for)}.`,
      }),
    ],
  };
}
