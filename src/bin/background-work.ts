import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { ProcessMetrics } from '../metrics/registry.ts';
import { loggingEvents } from '../schedules/events.ts';
import type { Store } from '../store/types.ts';
import type { WebhookSender } from '../webhooks/sender.ts';
import type { Startup } from './startup.ts';

/**
 * What every `owl serve` and `owl worker` runs beside its main work: the schedule runner (a due
 * run is claimed in the store, so any number of processes start one job for it) and the webhook
 * sender (the outbox's leases keep every attempt to one sender). Loaded when called: `owl serve`
 * starts them after its API answers (the scheduler vets the jobs it creates with the CSS engine).
 * Both stop with the command.
 */
export async function startSchedulesAndWebhooks(
  o: { store: Store; config: Config; metrics: Pick<ProcessMetrics, 'schedules' | 'webhooks'>; logger: Logger; onJobCreated: () => void },
  startup: Startup,
): Promise<WebhookSender> {
  const [{ senderSettings, WebhookSender }, { Scheduler }] = await Promise.all([import('../webhooks/sender.ts'), import('../schedules/scheduler.ts')]);
  const sender = new WebhookSender({ store: o.store.webhooks, ...senderSettings(o.config), metrics: o.metrics.webhooks, logger: o.logger });
  sender.start();
  startup.opened(() => sender.close());
  const scheduler = new Scheduler({ store: o.store, config: o.config, metrics: o.metrics.schedules, events: loggingEvents(o.logger), logger: o.logger, onJobCreated: o.onJobCreated });
  scheduler.start();
  startup.opened(() => scheduler.stop());
  return sender;
}
