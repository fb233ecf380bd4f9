/**
 * The webhook outbox's gauges, read from the store at scrape time. Apart from the sender (sender.ts)
 * so that `owl serve` can report them before it loads the sender's HTTP client, after listening.
 */
import { WEBHOOK_FAILING_ATTEMPTS } from '../metrics/definitions.ts';
import type { GaugeSources } from '../metrics/registry.ts';
import type { WebhookStore } from '../store/types.ts';

/**
 * The outbox gauges' source (webhook_outbox_depth, webhook_outbox_oldest_pending_seconds,
 * webhooks_failing). A failing store never breaks /metrics: the last values read are served
 * (store_up says the store is down).
 */
export function outboxGaugeSource(store: WebhookStore, now: () => number = Date.now): NonNullable<GaugeSources['outbox']> {
  let last = { depth: 0, oldestAgeSeconds: 0, failing: 0 };
  return async () => {
    const at = now();
    try {
      const stats = await store.stats({ failingAttempts: WEBHOOK_FAILING_ATTEMPTS, now: at });
      last = { depth: stats.pending, oldestAgeSeconds: stats.oldestPendingAt === null ? 0 : Math.max(0, (at - stats.oldestPendingAt) / 1000), failing: stats.failingWebhooks };
    } catch {
      // Reported by the store watch (store_up 0, the log); the gauges keep their last values.
    }
    return last;
  };
}
