import { API_METRICS as API } from '../../../../src/metrics/definitions.ts';
import { RUNTIME } from '../exporter-metrics.ts';
import { dashboard, q, stat, timeseries } from '../panels.ts';
import { quantile, rate } from '../promql.ts';
import type { Dashboard } from '../types.ts';

/** Availability objective of the API: share of requests that do not end in 5xx. Change it with the SLO. */
const SLO_TARGET = 0.99;
/** Long burn-rate window; a fixed window on purpose (burn rates compare fixed windows). */
const SLO_LONG_WINDOW = '1h';

/** API traffic, errors, latency by route and the error-budget burn rate. */
export function apiDashboard(): Dashboard {
  const requests = API.httpRequests.name;
  const errorRatio = (range: string) =>
    `(sum(rate(${requests}{status_code=~"5.."}[${range}])) or vector(0)) / sum(rate(${requests}[${range}]))`;
  const budget = (1 - SLO_TARGET).toFixed(4);
  return dashboard({
    uid: 'api',
    title: 'API',
    description: `Request rate, errors, latency by route and the burn rate of a ${SLO_TARGET * 100}% availability objective.`,
    tags: ['api'],
    panels: [
      stat({
        title: 'Requests per second',
        description: 'API requests per second, all routes.',
        queries: [q(`sum(${rate(requests)})`, 'req/s')],
        unit: 'reqps',
      }),
      stat({
        title: '5xx share',
        description: 'Share of API requests answered 5xx. APIHighErrorRate fires above 10% for 5 minutes.',
        queries: [q(errorRatio('$__rate_interval'), '5xx share')],
        unit: 'percentunit',
        thresholds: [{ color: 'orange', value: 0.01 }, { color: 'red', value: 0.1 }],
      }),
      stat({
        title: 'API p95 latency',
        description: '95th percentile latency over all routes. APIHighLatency fires above 1 s for 5 minutes.',
        queries: [q(quantile(0.95, API.apiRequestLatency.name), 'p95')],
        unit: 's',
        thresholds: [{ color: 'orange', value: 0.5 }, { color: 'red', value: 1 }],
      }),
      stat({
        title: 'Requests in flight',
        description: 'Requests being served right now.',
        queries: [q(`sum(${API.httpRequestsInFlight.name})`, 'in flight')],
      }),
      timeseries({
        title: 'Requests by route',
        description: 'Requests per second by route template (never raw paths, so ids do not create series).',
        queries: [q(`sum by (route) (${rate(requests)})`, '{{route}}')],
        unit: 'reqps',
        min: 0,
      }),
      timeseries({
        title: 'Responses by status code',
        description: 'Responses per second by status code.',
        queries: [q(`sum by (status_code) (${rate(requests)})`, '{{status_code}}')],
        unit: 'reqps',
        min: 0,
        stack: true,
      }),
      timeseries({
        title: 'Latency p95 by route',
        description: '95th percentile latency by route template.',
        queries: [q(quantile(0.95, API.apiRequestLatency.name, ['route']), '{{route}}')],
        unit: 's',
        min: 0,
      }),
      timeseries({
        title: 'Latency p50 / p95 / p99',
        description: 'Latency percentiles over all routes.',
        queries: [
          q(quantile(0.5, API.apiRequestLatency.name), 'p50'),
          q(quantile(0.95, API.apiRequestLatency.name), 'p95'),
          q(quantile(0.99, API.apiRequestLatency.name), 'p99'),
        ],
        unit: 's',
        min: 0,
      }),
      timeseries({
        title: 'Error-budget burn rate',
        description: `How fast the ${SLO_TARGET * 100}% objective's error budget is spent: 1 spends it exactly over the SLO period; above 14 on both windows is a page-worthy burn. Short window follows the graph resolution, long window is ${SLO_LONG_WINDOW}.`,
        queries: [
          q(`(${errorRatio('$__rate_interval')}) / ${budget}`, 'short window'),
          q(`(${errorRatio(SLO_LONG_WINDOW)}) / ${budget}`, `${SLO_LONG_WINDOW} window`),
        ],
        min: 0,
        thresholds: [{ color: 'red', value: 14 }],
      }),
      timeseries({
        title: 'Latency observations by status code',
        description: 'Requests per second as counted by the latency histogram, by status code; it should match the request counter.',
        queries: [q(`sum by (status_code) (${rate(`${API.apiRequestLatency.name}_count`)})`, '{{status_code}}')],
        unit: 'reqps',
        min: 0,
      }),
      timeseries({
        title: 'API process memory',
        description: 'Resident memory and V8 heap of the API processes.',
        queries: [
          q(`sum by (instance) (${RUNTIME.residentMemory}{job="api"})`, '{{instance}} rss'),
          q(`sum by (instance) (${RUNTIME.heapUsed}{job="api"})`, '{{instance}} heap'),
        ],
        unit: 'bytes',
        min: 0,
      }),
      timeseries({
        title: 'Event loop lag p99',
        description: 'Event-loop delay of the API processes; above ~100 ms, all requests slow down.',
        queries: [q(`max by (instance) (${RUNTIME.eventLoopLagP99}{job="api"})`, '{{instance}}')],
        unit: 's',
        min: 0,
      }),
    ],
  });
}
