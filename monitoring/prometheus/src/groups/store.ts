/**
 * The store the crawl settles into. The embedded store (SQLite) writes settled pages in group
 * commits; a commit that fails is kept and retried, and the settles wait for it. This group
 * says when that retrying has become an outage.
 */
import { API_METRICS } from '../../../../src/metrics/definitions.ts';
import { alerts, selectors } from '../config.ts';
import { alert, sel, theLast, type RuleGroup } from '../rule.ts';

export function storeAlertGroup(): RuleGroup {
  const c = alerts.StoreCommitFailing;
  return {
    name: 'store.rules',
    rules: [
      alert({
        name: 'StoreCommitFailing',
        expr: `sum by (job, instance, backend) (increase(${sel(API_METRICS.storeCommitFailures.name, selectors.crawler)}[${c.window}])) > ${c.failures}`,
        for: c.for,
        severity: 'critical',
        component: 'store',
        summary: 'The {{ $labels.backend }} store of {{ $labels.instance }} cannot commit',
        description: `{{ $value | humanize }} commits of the {{ $labels.backend }} store failed on {{ $labels.instance }} in ${theLast(c.window)}: settled pages wait in memory and are not durable until a commit succeeds, and the crawl waits for the store.`,
      }),
    ],
  };
}
