/** The proxy pool: the plan's ProxyPoolLow (§5.1), made quiet for crawlers without proxies. */
import { API_METRICS } from '../../../../src/metrics/definitions.ts';
import { alerts, selectors } from '../config.ts';
import { alert, lines, sel, spoken, type RuleGroup } from '../rule.ts';

export function proxyAlertGroup(): RuleGroup {
  const c = alerts.ProxyPoolLow;
  const usable = `max(${sel(API_METRICS.proxyPoolSize.name, selectors.crawler)})`;
  const configured = `max(${sel(API_METRICS.proxyPoolConfigured.name, selectors.crawler)})`;
  return {
    name: 'proxy.rules',
    rules: [
      alert({
        name: 'ProxyPoolLow',
        expr: lines(
          `${usable} < ${c.minUsable}`,
          'and on ()',
          `${usable} < ${configured}`,
          'and on ()',
          `${configured} > ${c.minConfigured}`,
        ),
        for: c.for,
        severity: 'critical',
        component: 'proxy',
        summary: 'Few usable proxies left',
        description: `Only {{ $value | humanize }} proxies are usable (the others are cooling down after failures) for ${spoken(c.for)}.`,
        comment: [
          'Pages only when proxies are configured, and compares with min(threshold, configured):',
          'a crawler without proxies, or with 3 configured and 3 healthy, stays quiet.',
        ].join('\n'),
      }),
    ],
  };
}
