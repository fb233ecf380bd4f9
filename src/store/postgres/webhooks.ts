import { randomUUID } from 'node:crypto';
import { attemptColumns, toDelivery, type DeliveryRow } from '../rows.ts';
import type {
  AttemptResult, ClaimedDelivery, Delivery, ListOptions, NewWebhook, OutboxStats, PublishedEvent, Webhook, WebhookEvent, WebhookStore,
} from '../types.ts';
import { eventPayload, jobEndEvent, type EndedJob } from '../webhook-events.ts';
import type { Db, Query } from './db.ts';
import { isUuid } from './rows.ts';

const WEBHOOK_COLUMNS = 'id::text AS id, url, events, key_id, created_at';

interface WebhookRow {
  id: string;
  url: string;
  events: string[];
  key_id: string | null;
  created_at: number;
}

function toWebhook(row: WebhookRow): Webhook {
  return { id: row.id, url: row.url, events: row.events, keyId: row.key_id, createdAt: row.created_at };
}

const INSERT_DELIVERY = `INSERT INTO webhook_deliveries (webhook_seq, event_id, event_type, payload, status, next_attempt_at, created_at)
  SELECT w.seq, $1, $2, $3, 'pending', $4, $4 FROM webhooks w`;

/**
 * Writes the outbox rows of an event inside the caller's transaction (a job's end is published in
 * the transaction that sets its final status, so it is published exactly once however many
 * processes settle and cancel).
 */
export async function publishIn(q: Query, event: WebhookEvent, now: number): Promise<PublishedEvent> {
  const { eventId, type, body } = eventPayload(event, now);
  let rows: unknown[];
  if (event.webhookId === undefined) rows = await q(`${INSERT_DELIVERY} WHERE $2 = ANY (w.events) RETURNING id`, [eventId, type, body, now]);
  else if (!isUuid(event.webhookId)) rows = [];
  else rows = await q(`${INSERT_DELIVERY} WHERE w.id = $5 RETURNING id`, [eventId, type, body, now, event.webhookId]);
  return { eventId, deliveries: rows.length };
}

/** Publishes the end of jobs that have just reached their final status (same transaction). */
export async function publishJobEnds(q: Query, jobs: EndedJob[], now: number): Promise<void> {
  for (const job of jobs) {
    const event = jobEndEvent(job);
    if (event) await publishIn(q, event, now);
  }
}

/**
 * Webhooks and their outbox on PostgreSQL. Every process runs a sender; each leases due
 * deliveries with FOR UPDATE SKIP LOCKED, so an attempt is leased by one sender only.
 */
export class PgWebhooks implements WebhookStore {
  constructor(private readonly db: Db) {}

  async create(webhook: NewWebhook, now: number = Date.now()): Promise<Webhook> {
    const [row] = await this.db.query<WebhookRow>(
      `INSERT INTO webhooks (id, url, events, secret, key_id, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${WEBHOOK_COLUMNS}`,
      [randomUUID(), webhook.url, webhook.events, webhook.secret, webhook.keyId ?? null, now],
    );
    return toWebhook(row!);
  }

  async get(id: string): Promise<Webhook | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.query<WebhookRow>(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1`, [id]);
    return row && toWebhook(row);
  }

  async list(opts: ListOptions): Promise<Webhook[]> {
    const after = opts.after === undefined ? null : String(opts.after);
    if (after !== null && !isUuid(after)) return [];
    const rows = await this.db.query<WebhookRow>(
      `SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE seq > coalesce((SELECT seq FROM webhooks WHERE id = $1::uuid), 0) ORDER BY seq LIMIT $2`,
      [after, opts.limit],
    );
    return rows.map(toWebhook);
  }

  async delete(id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const rows = await this.db.query('DELETE FROM webhooks WHERE id = $1 RETURNING seq', [id]);
    return rows.length > 0;
  }

  publish(event: WebhookEvent, now: number = Date.now()): Promise<PublishedEvent> {
    return this.db.tx((q) => publishIn(q, event, now));
  }

  async deliveries(webhookId: string, opts: ListOptions): Promise<Delivery[]> {
    if (!isUuid(webhookId)) return [];
    const before = opts.after === undefined ? Number.MAX_SAFE_INTEGER : Number(opts.after);
    const rows = await this.db.query<DeliveryRow>(
      `SELECT d.id, $1::text AS webhook_id, d.event_id, d.event_type, d.status, d.attempts, d.next_attempt_at, d.last_error, d.last_status_code,
         d.created_at, d.finished_at
       FROM webhook_deliveries d WHERE d.webhook_seq = (SELECT seq FROM webhooks WHERE id = $1::uuid) AND d.id < $2 ORDER BY d.id DESC LIMIT $3`,
      [webhookId, before, opts.limit],
    );
    return rows.map(toDelivery);
  }

  async claimDue(opts: { limit: number; leaseMs: number; now?: number }): Promise<ClaimedDelivery[]> {
    const now = opts.now ?? Date.now();
    const token = randomUUID();
    const rows = await this.db.query<{
      id: number; webhook_id: string; event_id: string; event_type: string; payload: string; attempts: number; created_at: number; url: string; secret: string;
    }>(
      `WITH due AS (
         SELECT id FROM webhook_deliveries
         WHERE status = 'pending' AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
         ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED
       ), leased AS (
         UPDATE webhook_deliveries d SET lease_token = $3, lease_until = $4, attempts = d.attempts + 1 FROM due WHERE d.id = due.id
         RETURNING d.id, d.webhook_seq, d.event_id, d.event_type, d.payload, d.attempts, d.created_at
       )
       SELECT l.id, w.id::text AS webhook_id, l.event_id, l.event_type, l.payload, l.attempts, l.created_at, w.url, w.secret
       FROM leased l JOIN webhooks w ON w.seq = l.webhook_seq ORDER BY l.id`,
      [now, opts.limit, token, now + opts.leaseMs],
    );
    return rows.map((r) => ({
      id: r.id, webhookId: r.webhook_id, eventId: r.event_id, eventType: r.event_type, payload: r.payload, attempts: r.attempts,
      createdAt: r.created_at, url: r.url, secret: r.secret, leaseToken: token,
    }));
  }

  async complete(id: number, leaseToken: string, result: AttemptResult, now: number = Date.now()): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE webhook_deliveries SET status = $1, next_attempt_at = $2, lease_token = NULL, lease_until = NULL,
         last_error = coalesce($3, last_error), last_status_code = $4, finished_at = $5
       WHERE id = $6 AND lease_token = $7 AND status = 'pending' RETURNING id`,
      [...attemptColumns(result, now), id, leaseToken],
    );
    return rows.length > 0;
  }

  async dropFinishedBefore(cutoff: number): Promise<number> {
    const rows = await this.db.query(`DELETE FROM webhook_deliveries WHERE status <> 'pending' AND finished_at < $1 RETURNING id`, [cutoff]);
    return rows.length;
  }

  async stats(opts: { failingAttempts: number; now?: number }): Promise<OutboxStats> {
    const [row] = await this.db.query<{ pending: number; oldest: number | null; failing: number }>(
      `SELECT count(*)::int AS pending, min(created_at) AS oldest,
         count(DISTINCT webhook_seq) FILTER (WHERE attempts - (CASE WHEN lease_until > $1 THEN 1 ELSE 0 END) >= $2)::int AS failing
       FROM webhook_deliveries WHERE status = 'pending'`,
      [opts.now ?? Date.now(), opts.failingAttempts],
    );
    return { pending: row!.pending, oldestPendingAt: row!.oldest, failingWebhooks: row!.failing };
  }
}
