/**
 * The API (`owl serve`, job="api"): request rate, 5xx share and latency recording rules, and the
 * plan's APIHighErrorRate and APIHighLatency (§5.1), which the plan wrote against a Spring metric
 * name; they read the app's own request counter and latency histogram.
 */
import { API_METRICS } from '../../../../src/metrics/definitions.ts';
import { alerts, AUTH_GUESS_REASONS, selectors } from '../config.ts';
import { alert, lines, percent, record, sel, theLast, type RuleGroup } from '../rule.ts';

const requests = API_METRICS.httpRequests.name;
const latencyBuckets = `${API_METRICS.apiRequestLatency.name}_bucket`;
const latencyCount = `${API_METRICS.apiRequestLatency.name}_count`;
const api = selectors.api;
const fiveXx = 'status_code=~"5.."';

/** Window and quantile of the recording rules; their names (`rate5m`, `p95`) say so. */
const RECORD_WINDOW = '5m';
const RECORD_QUANTILE = 0.95;

/** `sum by (job) (rate(http_requests_total{job="api",…}[w]))`. */
function requestRate(window: string, ...matchers: string[]): string {
  return `sum by (job) (rate(${sel(requests, api, ...matchers)}[${window}]))`;
}

/** Name of the recorded 5xx share (the plan's `job:error_rate`). */
export const ERROR_RATE_RECORD = 'job:error_rate';

export function apiRecordingGroup(): RuleGroup {
  const w = RECORD_WINDOW;
  return {
    name: 'api.recording',
    rules: [
      record(`job:http_requests:rate${w}`, requestRate(w)),
      record(
        ERROR_RATE_RECORD,
        lines(
          '(',
          `  ${requestRate(w, fiveXx)}`,
          '  or',
          `  ${requestRate(w)} * 0`,
          ')',
          '/',
          `(${requestRate(w)} > 0)`,
        ),
        {
          labels: { component: 'api' },
          comment: [
            'Share of API requests answered with 5xx (0..1). `or … * 0` gives 0 instead of nothing',
            'when there are requests but no 5xx; `> 0` gives nothing instead of NaN without traffic.',
          ].join('\n'),
        },
      ),
      record(
        `job:${API_METRICS.apiRequestLatency.name}:p${percent(RECORD_QUANTILE)}_rate${w}`,
        `histogram_quantile(${RECORD_QUANTILE}, sum by (job, le) (rate(${sel(latencyBuckets, api)}[${w}])))`,
      ),
      record(
        `job_route:${API_METRICS.apiRequestLatency.name}:p${percent(RECORD_QUANTILE)}_rate${w}`,
        `histogram_quantile(${RECORD_QUANTILE}, sum by (job, route, le) (rate(${sel(latencyBuckets, api)}[${w}])))`,
      ),
    ],
  };
}

const authFailures = API_METRICS.apiAuthFailures.name;
const rateLimited = API_METRICS.apiRateLimited.name;

export function apiAlertGroup(): RuleGroup {
  const errors = alerts.APIHighErrorRate;
  const latency = alerts.APIHighLatency;
  const guessing = alerts.APIAuthFailureBurst;
  const limited = alerts.APIKeyRateLimited;
  return {
    name: 'api.rules',
    rules: [
      alert({
        name: 'APIHighErrorRate',
        expr: lines(
          '(',
          `  ${requestRate(errors.window, fiveXx)}`,
          '  /',
          `  ${requestRate(errors.window)}`,
          `) > ${errors.errorShare}`,
          'and on (job)',
          `${requestRate(errors.window)} > ${errors.minRequestRate}`,
        ),
        for: errors.for,
        severity: 'warning',
        component: 'api',
        summary: `API answers more than ${percent(errors.errorShare)} % of requests with 5xx`,
        description: `{{ $value | humanizePercentage }} of the requests to {{ $labels.job }} failed with 5xx over ${theLast(errors.window)}.`,
      }),
      alert({
        name: 'APIHighLatency',
        expr: lines(
          `histogram_quantile(${latency.quantile}, sum by (job, le) (rate(${sel(latencyBuckets, api)}[${latency.window}]))) > ${latency.seconds}`,
          'and on (job)',
          `sum by (job) (rate(${sel(latencyCount, api)}[${latency.window}])) > ${latency.minRequestRate}`,
        ),
        for: latency.for,
        severity: 'warning',
        component: 'api',
        summary: `API p${percent(latency.quantile)} latency above ${latency.seconds} s`,
        description: `${percent(latency.quantile)} % of the requests to {{ $labels.job }} took up to {{ $value | humanizeDuration }} over ${theLast(latency.window)}.`,
      }),
      alert({
        name: 'APIAuthFailureBurst',
        expr: `sum by (job) (increase(${sel(authFailures, api, `reason=~"${AUTH_GUESS_REASONS}"`)}[${guessing.window}])) > ${guessing.count}`,
        for: guessing.for,
        severity: 'warning',
        component: 'api',
        summary: 'Many requests with wrong API keys: someone may be guessing keys',
        description: `{{ $value | humanize }} requests to {{ $labels.job }} were refused for an unknown or malformed key over ${theLast(guessing.window)}.`,
      }),
      alert({
        name: 'APIKeyRateLimited',
        expr: `sum by (job, reason) (increase(${sel(rateLimited, api)}[${limited.window}])) > 0`,
        for: limited.for,
        severity: 'info',
        component: 'api',
        summary: 'An API key keeps hitting its limits',
        description: `Requests to {{ $labels.job }} have been refused by a key's {{ $labels.reason }} limit in every ${limited.window} window for ${limited.for}.`,
      }),
    ],
  };
}
