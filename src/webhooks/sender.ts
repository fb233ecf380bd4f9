/**
 * The webhook sender: leases due deliveries from the outbox (store.webhooks.claimDue), sends each
 * as a Standard Webhooks request (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,…`
 * signed with the `standardwebhooks` package over the exact stored body), and records the outcome:
 * a 2xx ends the delivery; anything else (an error status, a timeout, a refused or unreachable
 * address) schedules the next attempt by the retry policy, or gives up after it.
 *
 * Durability: the outbox row is written with the event; a lease (longer than an attempt can take)
 * keeps every other sender off it while it is sent; a sender that dies mid-attempt leaves the
 * lease to expire and the attempt is made again (same `webhook-id`, so the receiver can tell).
 * Nothing lives only in memory: a restart, even after SIGKILL, resumes from the store.
 *
 * Safety: the URL is checked like a crawl target when it is sent, literal addresses before the
 * request and host names when the socket connects (DNS), unless private targets are allowed;
 * redirects are not followed; every attempt is bounded in time and in the bytes read back.
 */
import { Webhook } from 'standardwebhooks';
import { Agent, request, type Dispatcher } from 'undici';
import type { Logger } from 'pino';
import { isOwlError } from '../errors.ts';
import { checkTarget, guardedLookup } from '../crawl/target-guard.ts';
import type { Config } from '../config/schema.ts';
import type { WebhookMetrics } from '../metrics/registry.ts';
import type { AttemptResult, ClaimedDelivery, WebhookStore } from '../store/types.ts';
import { EVENT_TYPES } from '../store/webhook-events.ts';
import { nextAttemptAt, type RetryPolicy } from './retry.ts';

export interface SenderOptions {
  store: WebhookStore;
  /** Longest an attempt may take, connect to last byte read. */
  timeoutMs: number;
  /** Bytes of an answer read at most. */
  maxResponseBytes: number;
  retry: RetryPolicy;
  /** How often an idle sender looks for due deliveries. */
  pollMs: number;
  /** Finished deliveries are removed this long after they finished (0: kept; default 0). Checked hourly. */
  retentionMs?: number;
  /** Allow loopback/private/metadata receivers (OWL_ALLOW_PRIVATE_TARGETS). */
  allowPrivate: boolean;
  userAgent: string;
  /** Counts attempts by event and outcome (default: none). */
  metrics?: Pick<WebhookMetrics, 'deliveries'>;
  logger?: Logger;
  /** Deliveries leased per round, sent concurrently (default 16). */
  batch?: number;
  /** The clock (default Date.now): schedules, leases and the signature's timestamp. */
  now?: () => number;
}

/** The sender's settings from the configuration (OWL_WEBHOOK_*, OWL_ALLOW_PRIVATE_TARGETS, OWL_USER_AGENT). */
export function senderSettings(config: Config): Pick<SenderOptions, 'timeoutMs' | 'maxResponseBytes' | 'retry' | 'pollMs' | 'retentionMs' | 'allowPrivate' | 'userAgent'> {
  return {
    retentionMs: config.webhookRetentionDays * 86_400_000,
    timeoutMs: config.webhookTimeoutMs,
    maxResponseBytes: config.webhookMaxResponseBytes,
    retry: { scheduleMs: config.webhookRetrySchedule.map(Number), retryForMs: config.webhookRetryForMs },
    pollMs: config.webhookPollMs,
    allowPrivate: config.allowPrivateTargets,
    userAgent: config.userAgent,
  };
}

/** How often a sender removes finished deliveries past their retention. */
const PRUNE_EVERY_MS = 3_600_000;

/** Characters of a failed answer's body kept in the delivery's last error. */
const ERROR_SNIPPET_CHARS = 200;

const OUTCOMES = ['delivered', 'retried', 'failed'] as const;
export type AttemptOutcome = (typeof OUTCOMES)[number];

/** One attempt's outcome before the policy decides what follows. */
type SendResult = { ok: true; statusCode: number } | { ok: false; error: string; statusCode: number | null };

export class WebhookSender {
  private readonly now: () => number;
  private readonly batch: number;
  private readonly leaseMs: number;
  private readonly dispatcher: Dispatcher;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private started = false;
  private closed = false;
  private wakeRequested = false;
  private failing = false;
  private prunedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: SenderOptions) {
    this.now = opts.now ?? Date.now;
    this.batch = opts.batch ?? 16;
    // Longer than any attempt can last, so a lease only ever expires when its sender is gone.
    this.leaseMs = 2 * opts.timeoutMs + 5_000;
    // Every series exists from the first scrape, so dashboards and rate() see the first attempt as an increase.
    for (const event of EVENT_TYPES) for (const outcome of OUTCOMES) opts.metrics?.deliveries.inc({ event, outcome }, 0);
    const agentOptions = { headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs, connections: 8 };
    this.dispatcher = new Agent({
      ...agentOptions,
      connect: opts.allowPrivate ? { timeout: opts.timeoutMs } : { timeout: opts.timeoutMs, lookup: guardedLookup },
    });
  }

  /** Starts polling the outbox. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.schedule(0);
  }

  /** Looks for due deliveries now (an event was just published in this process). */
  wake(): void {
    if (!this.started || this.closed) return;
    if (this.running !== null) this.wakeRequested = true;
    else this.schedule(0);
  }

  /**
   * One round: leases up to `batch` due deliveries, sends them and records the outcomes.
   * Resolves with how many were sent. Tests drive the sender with this and an injected clock.
   */
  async runOnce(): Promise<number> {
    const claimed = await this.opts.store.claimDue({ limit: this.batch, leaseMs: this.leaseMs, now: this.now() });
    await Promise.all(claimed.map((d) => this.deliver(d)));
    return claimed.length;
  }

  /** Stops polling and waits for the attempts in flight (each bounded by the timeout). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
    await this.dispatcher.close();
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.round().finally(() => {
        this.running = null;
      });
    }, ms);
    this.timer.unref();
  }

  private async round(): Promise<void> {
    let sent = 0;
    try {
      sent = await this.runOnce();
      this.failing = false;
    } catch (err) {
      // Once per outage: the store watch reports it too.
      if (!this.failing) this.opts.logger?.warn({ err }, 'webhook outbox not readable; trying again every poll');
      this.failing = true;
    }
    await this.prune();
    const again = sent === this.batch || this.wakeRequested;
    this.wakeRequested = false;
    this.schedule(again ? 0 : this.opts.pollMs);
  }

  /** Removes finished deliveries past the retention, at most once an hour (every sender may; the deletes are idempotent). */
  private async prune(): Promise<void> {
    const retention = this.opts.retentionMs ?? 0;
    const now = this.now();
    if (retention <= 0 || now - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = now;
    try {
      const removed = await this.opts.store.dropFinishedBefore(now - retention);
      if (removed > 0) this.opts.logger?.info({ removed }, 'removed finished webhook deliveries past their retention');
    } catch (err) {
      this.opts.logger?.warn({ err }, 'webhook delivery retention failed; trying again in an hour');
    }
  }

  private async deliver(d: ClaimedDelivery): Promise<void> {
    const sent = await this.send(d);
    const now = this.now();
    let result: AttemptResult;
    let outcome: AttemptOutcome;
    if (sent.ok) {
      result = { status: 'delivered', statusCode: sent.statusCode };
      outcome = 'delivered';
    } else {
      const next = nextAttemptAt(this.opts.retry, d.attempts, d.createdAt, now);
      result = next === null
        ? { status: 'failed', error: sent.error, statusCode: sent.statusCode }
        : { status: 'pending', nextAttemptAt: next, error: sent.error, statusCode: sent.statusCode };
      outcome = next === null ? 'failed' : 'retried';
    }
    this.opts.metrics?.deliveries.inc({ event: d.eventType, outcome });
    try {
      const recorded = await this.opts.store.complete(d.id, d.leaseToken, result, now);
      if (!recorded) this.opts.logger?.debug({ delivery: d.id }, 'webhook delivery completed elsewhere or its webhook was deleted');
    } catch (err) {
      // The lease runs out and the attempt is made again: at least once, never lost.
      this.opts.logger?.warn({ err, delivery: d.id }, 'webhook delivery outcome not recorded; the attempt will be repeated');
    }
    if (outcome !== 'delivered') {
      this.opts.logger?.info({ webhook: d.webhookId, eventId: d.eventId, attempt: d.attempts, error: result.status === 'delivered' ? null : result.error, outcome },
        'webhook delivery attempt failed');
    }
  }

  /** One attempt: the request, signed at send time, with its bounds. Never throws. */
  private async send(d: ClaimedDelivery): Promise<SendResult> {
    const signal = AbortSignal.timeout(this.opts.timeoutMs);
    try {
      const url = checkTarget(d.url, this.opts.allowPrivate);
      const timestamp = new Date(this.now());
      const signature = new Webhook(d.secret).sign(d.eventId, timestamp, d.payload);
      const res = await request(url, {
        method: 'POST',
        dispatcher: this.dispatcher,
        signal,
        headers: {
          'content-type': 'application/json',
          'user-agent': this.opts.userAgent,
          'webhook-id': d.eventId,
          'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
          'webhook-signature': signature,
        },
        body: d.payload,
      });
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      const body = await readBounded(res.body, ok ? 0 : Math.min(this.opts.maxResponseBytes, ERROR_SNIPPET_CHARS * 4), this.opts.maxResponseBytes);
      if (ok) return { ok: true, statusCode: res.statusCode };
      const snippet = body.replace(/\s+/g, ' ').trim().slice(0, ERROR_SNIPPET_CHARS);
      return { ok: false, statusCode: res.statusCode, error: snippet ? `http_${res.statusCode}: ${snippet}` : `http_${res.statusCode}` };
    } catch (err) {
      return { ok: false, statusCode: null, error: describeFailure(err, signal) };
    }
  }
}

/**
 * Reads an answer's body up to `maxBytes` (the rest is not read: the connection is dropped) and
 * returns its first `keepBytes` as text.
 */
async function readBounded(body: Dispatcher.ResponseData['body'], keepBytes: number, maxBytes: number): Promise<string> {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let seen = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    seen += chunk.length;
    if (keptBytes < keepBytes) {
      kept.push(chunk.subarray(0, keepBytes - keptBytes));
      keptBytes += Math.min(chunk.length, keepBytes - keptBytes);
    }
    if (seen >= maxBytes) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(kept).toString('utf8');
}

/** A short, stable description of why an attempt failed (stored as the delivery's last error). */
export function describeFailure(err: unknown, signal: AbortSignal): string {
  const chain: unknown[] = [];
  for (let e: unknown = err; e && chain.length < 5; e = (e as { cause?: unknown }).cause) chain.push(e);
  const forbidden = chain.find((e) => isOwlError(e, 'TARGET_FORBIDDEN'));
  if (forbidden) return `target_forbidden: ${(forbidden as Error).message}`;
  const invalid = chain.find((e) => isOwlError(e, 'INVALID_URL'));
  if (invalid) return `invalid_url: ${(invalid as Error).message}`;
  const codes = chain.map((e) => (e as { code?: unknown }).code).filter((c): c is string => typeof c === 'string');
  if (signal.aborted || codes.some((c) => /TIMEOUT/i.test(c))) return 'timeout';
  const code = codes.find((c) => /^E[A-Z]+$/.test(c)) ?? codes[0];
  return `network: ${code ?? (err as Error)?.message ?? String(err)}`;
}
