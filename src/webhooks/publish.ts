/**
 * The one way the rest of the system publishes a webhook event: `publishEvent(store, {type, jobId?,
 * scheduleId?, data})` writes one outbox row per webhook subscribed to `type`; the sender
 * (src/webhooks/sender.ts) delivers them. Code that changes state inside a store transaction
 * publishes in that same transaction instead, with the dialect's `publishIn` (src/store/sqlite/
 * webhooks.ts, src/store/postgres/webhooks.ts), as the job-end events do, so an event is written
 * exactly when its state change commits.
 *
 * Event bodies follow Standard Webhooks: `{type, timestamp, data}`, `data` carrying `jobId` and
 * `scheduleId` (null when not about one) and the summary. The types:
 * - `job.completed`, `job.failed`, `job.cancelled`: `{status, reason, counts: {admitted, fetched, failed}, startedAt, finishedAt}`
 * - `page.changed`: one per run, `{counts: {new, changed, unchanged, gone}, changes: [{url, change, pageId}]}`
 * - `schedule.run.skipped`: `{plannedAt, reason}`
 * - `webhook.test`: `{message}`, sent by POST /webhooks/:id/test to that webhook only.
 */
import type { PublishedEvent, Store, WebhookEvent } from '../store/types.ts';
import { EVENT_TYPES, SUBSCRIBABLE_EVENT_TYPES, type EventType } from '../store/webhook-events.ts';

export { EVENT_TYPES, SUBSCRIBABLE_EVENT_TYPES, type EventType };

export interface NewEvent extends WebhookEvent {
  type: EventType;
}

/** Writes the event's outbox rows (one per subscribed webhook, due at once); resolves with its `webhook-id` and the row count. */
export function publishEvent(store: Pick<Store, 'webhooks'>, event: NewEvent, now: number = Date.now()): Promise<PublishedEvent> {
  return store.webhooks.publish(event, now);
}
