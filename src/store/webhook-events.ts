/**
 * Webhook events as the store writes them into the outbox: the one list of event types, the
 * Standard Webhooks body `{type, timestamp, data}` and the event of a job's end. Both stores
 * publish inside the transaction that changes the state the event reports (src/webhooks/publish.ts
 * is the entry point for everything else).
 */
import { randomUUID } from 'node:crypto';
import type { JobStatus, WebhookEvent } from './types.ts';

/** Every event type a webhook can receive; `webhook.test` is sent by POST /webhooks/:id/test only. */
export const EVENT_TYPES = ['job.completed', 'job.failed', 'job.cancelled', 'page.changed', 'schedule.run.skipped', 'webhook.test'] as const;
export type EventType = (typeof EVENT_TYPES)[number];
/** The types a webhook may subscribe to. */
export const SUBSCRIBABLE_EVENT_TYPES: readonly EventType[] = EVENT_TYPES.filter((t) => t !== 'webhook.test');

/** What an outbox row holds of an event: its `webhook-id` and the exact body sent on every attempt. */
export interface EventPayload {
  eventId: string;
  type: string;
  body: string;
}

/** A new `webhook-id` (`msg_` + 32 hex digits). */
export function newEventId(): string {
  return `msg_${randomUUID().replaceAll('-', '')}`;
}

/** The Standard Webhooks body: `{type, timestamp (ISO 8601), data}`, data carrying jobId and scheduleId first. */
export function eventPayload(event: WebhookEvent, now: number, eventId: string = newEventId()): EventPayload {
  const data = { jobId: event.jobId ?? null, scheduleId: event.scheduleId ?? null, ...event.data };
  return { eventId, type: event.type, body: JSON.stringify({ type: event.type, timestamp: new Date(now).toISOString(), data }) };
}

const JOB_EVENT: Partial<Record<JobStatus, EventType>> = { done: 'job.completed', failed: 'job.failed', cancelled: 'job.cancelled' };

/** A job's end as the stores know it when they set the final status. */
export interface EndedJob {
  id: string;
  status: JobStatus;
  reason: string | null;
  admitted: number;
  fetched: number;
  failed: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** The schedule whose run the job is (null for other jobs). */
  scheduleId?: string | null;
}

/** The event of a job that reached `done`, `failed` or `cancelled` (undefined for a live status). */
export function jobEndEvent(job: EndedJob): WebhookEvent | undefined {
  const type = JOB_EVENT[job.status];
  if (!type) return undefined;
  return {
    type,
    jobId: job.id,
    scheduleId: job.scheduleId ?? null,
    data: {
      status: job.status,
      reason: job.reason,
      counts: { admitted: job.admitted, fetched: job.fetched, failed: job.failed },
      startedAt: job.startedAt,
      finishedAt: job.finishedAt,
    },
  };
}
