/**
 * Webhooks: a receiver that keeps refusing deliveries. The outbox gauges are read from the store
 * by `owl serve` (job="api"): global values, so max(), never sum().
 */
import { WEBHOOK_FAILING_ATTEMPTS, WEBHOOK_METRICS } from '../../../../src/metrics/definitions.ts';
import { alerts, selectors } from '../config.ts';
import { alert, inWords, sel, spoken, type RuleGroup } from '../rule.ts';

export function webhooksAlertGroup(): RuleGroup {
  const c = alerts.WebhookDeliveryFailing;
  return {
    name: 'webhooks.rules',
    rules: [
      alert({
        name: 'WebhookDeliveryFailing',
        expr: `max(${sel(WEBHOOK_METRICS.failing.name, selectors.api)}) > ${c.maxFailing}`,
        for: c.for,
        severity: 'warning',
        component: 'webhooks',
        summary: 'Webhook deliveries keep failing',
        description: `{{ $value | humanize }} webhooks have had a delivery fail ${inWords(WEBHOOK_FAILING_ATTEMPTS)} attempts or more in a row for over ${spoken(c.for)}: their receivers refuse or do not answer, and events wait in the outbox (retried for a day, then given up). GET /webhooks/:id/deliveries shows the last error.`,
      }),
    ],
  };
}
