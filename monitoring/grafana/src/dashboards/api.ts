import { API_METRICS as API, WEBHOOK_FAILING_ATTEMPTS, WEBHOOK_METRICS as WH } from '../../../../src/metrics/definitions.ts';
import { alerts, slo } from '../../../prometheus/src/config.ts';
import { inWords, percent, spoken } from '../../../prometheus/src/rule.ts';
import { RUNTIME } from '../exporter-metrics.ts';
import { dashboard, q, row, stat, timeseries } from '../panels.ts';
import { quantile, rate } from '../promql.ts';
import type { Dashboard } from '../types.ts';

/** The fast burn alert's long window; a fixed window on purpose (burn rates compare fixed windows). */
const SLO_LONG_WINDOW = slo.fast.long;

/** API traffic, errors, latency by route and the error-budget burn rate. */
export function apiDashboard(): Dashboard {
  const requests = API.httpRequests.name;
  const errorRatio = (range: string) =>
    `(sum(rate(${requests}{status_code=~"5.."}[${range}])) or vector(0)) / sum(rate(${requests}[${range}]))`;
  const budget = (1 - slo.objective).toFixed(4);
  const errors = alerts.APIHighErrorRate;
  const latency = alerts.APIHighLatency;
  const guessing = alerts.APIAuthFailureBurst;
  const limited = alerts.APIKeyRateLimited;
  return dashboard({
    uid: 'api',
    title: 'API',
    description: `Request rate, errors, latency by route and the burn rate of a ${percent(slo.objective)}% availability objective; webhook deliveries and their outbox.`,
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
        description: `Share of API requests answered 5xx. APIHighErrorRate fires above ${percent(errors.errorShare)}% for ${spoken(errors.for)}.`,
        queries: [q(errorRatio('$__rate_interval'), '5xx share')],
        unit: 'percentunit',
        thresholds: [{ color: 'orange', value: 0.01 }, { color: 'red', value: errors.errorShare }],
      }),
      stat({
        title: `API p${percent(latency.quantile)} latency`,
        description: `${percent(latency.quantile)}th percentile latency over all routes. APIHighLatency fires above ${latency.seconds} s for ${spoken(latency.for)}.`,
        queries: [q(quantile(latency.quantile, API.apiRequestLatency.name), `p${percent(latency.quantile)}`)],
        unit: 's',
        thresholds: [{ color: 'orange', value: latency.seconds / 2 }, { color: 'red', value: latency.seconds }],
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
        description: `How fast the ${percent(slo.objective)}% objective's error budget is spent: 1 spends it exactly over the SLO period (${slo.period}); above ${slo.fast.burnRate} on both windows pages (APIErrorBudgetBurnFast). Short window follows the graph resolution, long window is ${SLO_LONG_WINDOW}.`,
        queries: [
          q(`(${errorRatio('$__rate_interval')}) / ${budget}`, 'short window'),
          q(`(${errorRatio(SLO_LONG_WINDOW)}) / ${budget}`, `${SLO_LONG_WINDOW} window`),
        ],
        min: 0,
        thresholds: [{ color: 'orange', value: slo.slow.burnRate }, { color: 'red', value: slo.fast.burnRate }],
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
      row('API keys'),
      timeseries({
        title: 'Authentication failures by reason',
        description: `Requests refused by the API keys, per second: missing, malformed, unknown, revoked, expired (401), forbidden (403, a missing scope), query_key (a key in the query string), metrics_token. APIAuthFailureBurst fires above ${guessing.count} unknown or malformed keys in ${spoken(guessing.window)}.`,
        queries: [q(`sum by (reason) (${rate(API.apiAuthFailures.name)})`, '{{reason}}')],
        unit: 'reqps',
        min: 0,
        stack: true,
      }),
      timeseries({
        title: 'Requests refused by key limits',
        description: `429 answers per second by limit: rate (RATE_LIMITED), maxRunningJobs and maxPagesPerDay (QUOTA_EXCEEDED). APIKeyRateLimited fires when a key is refused in every window for ${spoken(limited.for)}.`,
        queries: [q(`sum by (reason) (${rate(API.apiRateLimited.name)})`, '{{reason}}')],
        unit: 'reqps',
        min: 0,
        stack: true,
      }),
      row('Webhooks'),
      stat({
        title: 'Failing webhooks',
        description: `Webhooks with a delivery that failed ${inWords(WEBHOOK_FAILING_ATTEMPTS)} attempts or more in a row. WebhookDeliveryFailing fires when it stays above ${alerts.WebhookDeliveryFailing.maxFailing} for ${spoken(alerts.WebhookDeliveryFailing.for)}.`,
        queries: [q(`max(${WH.failing.name}{job="api"})`, 'failing')],
        thresholds: [{ color: 'green', value: null }, { color: 'red', value: alerts.WebhookDeliveryFailing.maxFailing + 1 }],
        w: 6,
      }),
      stat({
        title: 'Outbox depth',
        description: 'Webhook deliveries pending: due now or waiting for their next attempt.',
        queries: [q(`max(${WH.outboxDepth.name}{job="api"})`, 'pending')],
        w: 6,
      }),
      stat({
        title: 'Oldest pending delivery',
        description: 'Age of the oldest pending delivery. Minutes mean a receiver is failing (retries are spread over a day); seconds are normal.',
        queries: [q(`max(${WH.outboxOldestAge.name}{job="api"})`, 'age')],
        unit: 's',
        thresholds: [{ color: 'green', value: null }, { color: 'orange', value: 300 }, { color: 'red', value: 3600 }],
        w: 12,
      }),
      timeseries({
        title: 'Webhook deliveries by event and outcome',
        description: 'Delivery attempts per second, all senders: delivered (2xx), retried (failed, another attempt scheduled), failed (given up after the retries).',
        queries: [q(`sum by (event, outcome) (${rate(WH.deliveries.name)})`, '{{event}} {{outcome}}')],
        unit: 'ops',
        min: 0,
      }),
      timeseries({
        title: 'Outbox depth and oldest pending age',
        description: 'Pending deliveries and the age of the oldest one, over time.',
        queries: [q(`max(${WH.outboxDepth.name}{job="api"})`, 'pending'), q(`max(${WH.outboxOldestAge.name}{job="api"})`, 'oldest age (s)')],
        min: 0,
      }),
    ],
  });
}
