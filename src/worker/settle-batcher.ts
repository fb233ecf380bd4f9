import type { FinishedJob, Outcome, SettleResult, Store } from '../store/types.ts';
import type { Logger } from '../log.ts';

export interface SettleBatcherOptions {
  store: Store;
  logger: Logger;
  /** Flush when this many outcomes wait (default 64). */
  maxBatch?: number;
  /** Flush at the latest this long after the first outcome waits (default 10 ms). */
  maxDelayMs?: number;
  onFinishedJob?: (job: FinishedJob) => void;
  /** An outcome the store refused as stale (its lease expired or was re-leased meanwhile). */
  onRefused?: (outcome: Outcome) => void;
  /** Called after every successful flush (leases were released: the claim loop may go on). */
  onFlushed?: () => void;
}

/**
 * Collects outcomes and settles them in one store transaction per batch: a page costs a
 * fraction of a transaction instead of one. Flushes run one at a time; while the store is
 * down the batch is kept and retried with backoff (leases that expire meanwhile are settled
 * as stale, and those URLs are fetched again: nothing is lost).
 */
export class SettleBatcher {
  private pending: Outcome[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private readonly maxBatch: number;
  private readonly maxDelayMs: number;
  private failures = 0;
  private closed = false;

  constructor(private readonly opts: SettleBatcherOptions) {
    this.maxBatch = opts.maxBatch ?? 64;
    this.maxDelayMs = opts.maxDelayMs ?? 10;
  }

  add(outcome: Outcome): void {
    this.pending.push(outcome);
    if (this.pending.length >= this.maxBatch) this.kick(0);
    else if (!this.timer && !this.flushing) this.kick(this.maxDelayMs);
  }

  get size(): number {
    return this.pending.length;
  }

  /**
   * Settles what waits now (the claim loop calls this before claiming, so leases are current).
   * `via` replaces `store.settle` for this flush (the store's settle-and-claim in one transaction).
   * Resolves true when a flush ran and succeeded.
   */
  async flushNow(via?: (batch: Outcome[]) => Promise<SettleResult>): Promise<boolean> {
    if (this.flushing) await this.flushing;
    if (this.pending.length === 0 || this.failures > 0) return false;
    const before = this.failures;
    await this.flush(via);
    return this.failures === before;
  }

  /** Settles everything queued (used on stop); gives up at the deadline and says how many are left. */
  async drain(timeoutMs = 10_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while ((this.pending.length > 0 || this.flushing) && Date.now() < deadline) {
      if (this.flushing) await this.flushing;
      else {
        await this.flush();
        if (this.failures > 0) await new Promise((r) => setTimeout(r, Math.min(500, Math.max(0, deadline - Date.now()))));
      }
    }
    return this.pending.length;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private kick(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, delayMs);
    this.timer.unref();
  }

  private flush(via?: (batch: Outcome[]) => Promise<SettleResult>): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.pending.length === 0) return Promise.resolve();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending.splice(0, this.pending.length);
    this.flushing = (via ? via(batch) : this.opts.store.settle(batch))
      .then((result) => {
        this.failures = 0;
        result.accepted.forEach((accepted, i) => {
          if (!accepted) this.opts.onRefused?.(batch[i]!);
        });
        for (const job of result.finishedJobs) this.opts.onFinishedJob?.(job);
        this.opts.onFlushed?.();
      })
      .catch((err: unknown) => {
        this.failures += 1;
        this.opts.logger.error({ err, outcomes: batch.length, attempt: this.failures }, 'settling outcomes failed; will retry');
        this.pending.unshift(...batch);
      })
      .finally(() => {
        this.flushing = null;
        if (this.pending.length > 0 && !this.closed) {
          const backoff = this.failures > 0 ? Math.min(5_000, 100 * 2 ** Math.min(this.failures, 6)) : 0;
          this.kick(this.pending.length >= this.maxBatch || this.failures > 0 ? backoff : this.maxDelayMs);
        }
      });
    return this.flushing;
  }
}
