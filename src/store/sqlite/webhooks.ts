import { randomUUID } from 'node:crypto';
import { attemptColumns, toDelivery, type DeliveryRow } from '../rows.ts';
import type {
  AttemptResult, ClaimedDelivery, Delivery, ListOptions, NewWebhook, OutboxStats, PublishedEvent, Webhook, WebhookEvent, WebhookStore,
} from '../types.ts';
import { eventPayload, jobEndEvent } from '../webhook-events.ts';
import type { SqliteCore } from './core.ts';
import type { CountedJobRow } from './rows.ts';
import type { Statements } from './statements.ts';

interface WebhookRow {
  id: string;
  url: string;
  events: string;
  key_id: string | null;
  created_at: number;
}

function toWebhook(row: WebhookRow): Webhook {
  return { id: row.id, url: row.url, events: JSON.parse(row.events) as string[], keyId: row.key_id, createdAt: row.created_at };
}

/**
 * Writes the outbox rows of an event inside the caller's transaction (a job's end is published in
 * the transaction that sets its final status, so it is published exactly once).
 */
export function publishIn(s: Statements, event: WebhookEvent, now: number): PublishedEvent {
  const { eventId, type, body } = eventPayload(event, now);
  const info = event.webhookId === undefined
    ? s.publishToSubscribers.run(eventId, type, body, now, now, type)
    : s.publishToWebhook.run(eventId, type, body, now, now, event.webhookId);
  return { eventId, deliveries: info.changes };
}

/** Publishes `job.completed`/`job.failed`/`job.cancelled` for a job row that has just reached its final status (same transaction). */
export function publishJobEnd(
  s: Statements,
  job: Pick<CountedJobRow, 'id' | 'status' | 'reason' | 'admitted' | 'fetched' | 'failed' | 'started_at' | 'finished_at'>,
  now: number,
): void {
  const event = jobEndEvent({
    id: job.id, status: job.status, reason: job.reason, admitted: job.admitted, fetched: job.fetched, failed: job.failed,
    startedAt: job.started_at, finishedAt: job.finished_at, scheduleId: (s.scheduleOfJob.get(job.id) as string | null | undefined) ?? null,
  });
  if (event) publishIn(s, event, now);
}

/** Webhooks and their outbox on the embedded store. Reads of the outbox first commit what waits (job ends publish in the group commit). */
export class SqliteWebhooks implements WebhookStore {
  private readonly publishTx: (event: WebhookEvent, now: number) => PublishedEvent;

  constructor(private readonly core: SqliteCore) {
    this.publishTx = core.immediate((event: WebhookEvent, now: number) => publishIn(core.s, event, now));
  }

  create(webhook: NewWebhook, now: number = Date.now()): Promise<Webhook> {
    return this.core.run(() => {
      const id = randomUUID();
      this.core.s.insertWebhook.run(id, webhook.url, JSON.stringify(webhook.events), webhook.secret, webhook.keyId ?? null, now);
      return toWebhook(this.core.s.webhookById.get(id) as WebhookRow);
    });
  }

  get(id: string): Promise<Webhook | undefined> {
    return this.core.run(() => {
      const row = this.core.s.webhookById.get(id) as WebhookRow | undefined;
      return row && toWebhook(row);
    });
  }

  list(opts: ListOptions): Promise<Webhook[]> {
    return this.core.run(() => (this.core.s.listWebhooks.all(opts.after === undefined ? null : String(opts.after), opts.limit) as WebhookRow[]).map(toWebhook));
  }

  delete(id: string): Promise<boolean> {
    return this.core.run(() => {
      this.core.commitWaiting();
      return this.core.s.deleteWebhook.run(id).changes > 0;
    });
  }

  publish(event: WebhookEvent, now: number = Date.now()): Promise<PublishedEvent> {
    return this.core.run(() => this.publishTx(event, now));
  }

  deliveries(webhookId: string, opts: ListOptions): Promise<Delivery[]> {
    return this.core.run(() => {
      this.core.commitWaiting();
      const before = opts.after === undefined ? Number.MAX_SAFE_INTEGER : Number(opts.after);
      return (this.core.s.listDeliveries.all(webhookId, before, opts.limit) as DeliveryRow[]).map(toDelivery);
    });
  }

  claimDue(opts: { limit: number; leaseMs: number; now?: number }): Promise<ClaimedDelivery[]> {
    const now = opts.now ?? Date.now();
    return this.core.run(() => {
      this.core.commitWaiting();
      const { s } = this.core;
      const token = randomUUID();
      const rows = s.claimDeliveries.all(token, now + opts.leaseMs, now, now, opts.limit) as Array<{
        id: number; webhook_seq: number; event_id: string; event_type: string; payload: string; attempts: number; created_at: number;
      }>;
      const hooks = new Map<number, { id: string; url: string; secret: string }>();
      const out: ClaimedDelivery[] = [];
      for (const r of rows.sort((a, b) => a.id - b.id)) {
        let hook = hooks.get(r.webhook_seq);
        if (!hook) {
          hook = s.webhookBySeq.get(r.webhook_seq) as { id: string; url: string; secret: string };
          hooks.set(r.webhook_seq, hook);
        }
        out.push({
          id: r.id, webhookId: hook.id, eventId: r.event_id, eventType: r.event_type, payload: r.payload, attempts: r.attempts,
          createdAt: r.created_at, url: hook.url, secret: hook.secret, leaseToken: token,
        });
      }
      return out;
    });
  }

  complete(id: number, leaseToken: string, result: AttemptResult, now: number = Date.now()): Promise<boolean> {
    return this.core.run(() => this.core.s.completeDelivery.run(...attemptColumns(result, now), id, leaseToken).changes > 0);
  }

  dropFinishedBefore(cutoff: number): Promise<number> {
    return this.core.run(() => this.core.s.dropFinishedDeliveries.run(cutoff).changes);
  }

  stats(opts: { failingAttempts: number; now?: number }): Promise<OutboxStats> {
    return this.core.run(() => {
      this.core.commitWaiting();
      const row = this.core.s.outboxStats.get(opts.now ?? Date.now(), opts.failingAttempts) as { pending: number; oldest: number | null; failing: number };
      return { pending: row.pending, oldestPendingAt: row.oldest, failingWebhooks: row.failing };
    });
  }
}
