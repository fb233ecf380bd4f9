import { API_METRICS as API, WORKER_METRICS as W } from '../../../../src/metrics/definitions.ts';
import { alerts } from '../../../prometheus/src/config.ts';
import { spoken } from '../../../prometheus/src/rule.ts';
import { dashboard, gauge, q, stat, timeseries } from '../panels.ts';
import { rate } from '../promql.ts';
import type { Dashboard } from '../types.ts';

/** The ProxyPoolLow alert's threshold (plan §5.1). */
const PROXY_POOL_LOW = alerts.ProxyPoolLow.minUsable;

/** The plan's optional proxy pool dashboard (§6): pool health and the block signals that drain it. */
export function proxyPoolDashboard(): Dashboard {
  return dashboard({
    uid: 'proxy-pool',
    title: 'Proxy pool',
    description: 'Usable versus configured proxies, proxy-caused retries and the block signals that send proxies into cooldown.',
    tags: ['proxy'],
    panels: [
      stat({
        title: 'Usable proxies',
        description: `Proxies usable now. Below ${PROXY_POOL_LOW} for ${spoken(alerts.ProxyPoolLow.for)} fires ProxyPoolLow (critical).`,
        queries: [q(`max(${API.proxyPoolSize.name})`, 'usable')],
        thresholds: [{ color: 'red', value: null }, { color: 'green', value: PROXY_POOL_LOW }],
      }),
      stat({
        title: 'Configured proxies',
        description: 'Proxies configured (OWL_PROXIES / OWL_PROXY_FILE), usable or not.',
        queries: [q(`max(${API.proxyPoolConfigured.name})`, 'configured')],
      }),
      gauge({
        title: 'Usable share',
        description: 'Usable proxies as a share of those configured. Low means many proxies are cooling down after failures or blocks.',
        queries: [q(`max(${API.proxyPoolSize.name}) / max(${API.proxyPoolConfigured.name})`, 'usable share')],
        unit: 'percentunit',
        min: 0,
        max: 1,
        thresholds: [{ color: 'red', value: null }, { color: 'orange', value: 0.5 }, { color: 'green', value: 0.8 }],
      }),
      stat({
        title: 'Proxy retries (per second)',
        description: 'Fetches retried because the proxy failed.',
        queries: [q(`sum(${rate(W.retries.name, 'reason="proxy"')}) or vector(0)`, 'proxy retries/s')],
        unit: 'reqps',
      }),
      timeseries({
        title: 'Usable and configured proxies',
        description: 'Usable proxies against the configured count; the gap is proxies in cooldown.',
        queries: [q(`max(${API.proxyPoolSize.name})`, 'usable'), q(`max(${API.proxyPoolConfigured.name})`, 'configured')],
        min: 0,
        w: 24,
      }),
      timeseries({
        title: 'Retries by reason',
        description: 'Fetches scheduled for another attempt, by reason. `proxy` counts proxy failures; 403/429/captcha retries usually call for rotation.',
        queries: [q(`sum by (reason) (${rate(W.retries.name)})`, '{{reason}}')],
        unit: 'reqps',
        min: 0,
      }),
      timeseries({
        title: 'Block signals',
        description: '403, 429 and captcha responses per second: the signals that put proxies into cooldown.',
        queries: [
          q(`sum(${rate(W.http403.name)})`, '403'),
          q(`sum(${rate(W.http429.name)})`, '429'),
          q(`sum(${rate(API.captchaEncountered.name)})`, 'captcha'),
        ],
        unit: 'reqps',
        min: 0,
      }),
    ],
  });
}
