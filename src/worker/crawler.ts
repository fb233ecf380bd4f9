import { setMaxListeners } from 'node:events';
import type { Logger } from '../log.ts';
import type { ClaimOptions, CrawlMode, FinishedJob, Frontier, FrontierEntry, Outcome, SettleResult } from '../store/types.ts';
import type { PageProcessor } from './page-processor.ts';

export interface CrawlerOptions {
  frontier: Frontier;
  processor: PageProcessor;
  logger: Logger;
  workerId: string;
  /** Fetches in flight at most (default 16). */
  concurrency: number;
  leaseMs: number;
  maxPerHost: number;
  hostDelayMs: number;
  /** Job modes this worker can serve (a worker without a browser leaves browser jobs to others). */
  modes: CrawlMode[];
  /** How often an idle loop looks for work it was not told about (other processes' jobs). Default 200 ms; `wake()` cuts it short. */
  idlePollMs?: number;
  /** Longest time a finished fetch's outcome waits to be settled with others (default 20 ms). */
  settleDelayMs?: number;
  /** How long `stop()` waits for in-flight fetches before aborting them (default 15 s). */
  drainTimeoutMs?: number;
  /** The clock (tests). */
  now?: () => number;
  onFinishedJob?: (job: FinishedJob) => void;
  /** An outcome the store refused as stale: its URL will be fetched again (by any worker). */
  onRefused?: (outcome: Outcome) => void;
  /** Called when the store fails (store down) and when it answers again. */
  onStoreHealth?: (up: boolean) => void;
}

/** Back-off after a failed exchange with the store, doubling up to the cap. */
const STORE_RETRY_MS = 100;
const STORE_RETRY_MAX_MS = 5_000;

/**
 * The worker loop: settle finished outcomes and claim the next URLs in one call to the frontier,
 * keeping `concurrency` fetches in flight. It exchanges with the frontier when half the slots are
 * free (fewer, larger claims), and sooner when a host's politeness deadline comes (the frontier
 * says when) or an outcome has waited `settleDelayMs`, so a slow host never holds the others
 * back. Leases are extended while fetches run; `stop()` drains in-flight work, settles it and
 * returns every URL it still holds.
 */
export class Crawler {
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly inFlight = new Map<number, { entry: FrontierEntry; done: Promise<void> }>();
  private readonly abort = new AbortController();
  /** Outcomes of finished fetches, not yet handed to the frontier, and when the oldest arrived. */
  private pending: Outcome[] = [];
  private pendingSince = 0;
  /** Settles handed to the frontier and not yet durable (stop() waits for them). */
  private readonly writing = new Set<Promise<void>>();
  /** The last exchange claimed fewer than it asked: claim again only when something may have changed. */
  private dry = false;
  private nextDueAt: number | null = null;
  private lastExchangeAt = 0;
  private storeFailures = 0;
  private storeUp = true;
  /** Ends the current wait (its promise's resolve); null when the loop is not waiting. */
  private wakeUp: (() => void) | null = null;
  private waitTimer: NodeJS.Timeout | null = null;
  /** A wake() that came while the loop was busy (e.g. during an exchange): the next wait returns at once. */
  private wokenEarly = false;
  private leaseTimer: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  private readonly minClaim: number;
  private readonly settleDelayMs: number;
  private readonly idlePollMs: number;

  constructor(private readonly opts: CrawlerOptions) {
    // Every browser render in flight listens to the one stop signal (HTTP fetches share one listener).
    setMaxListeners(0, this.abort.signal);
    this.now = opts.now ?? Date.now;
    this.minClaim = Math.max(1, Math.floor(opts.concurrency / 2));
    this.settleDelayMs = opts.settleDelayMs ?? 20;
    this.idlePollMs = opts.idlePollMs ?? 200;
  }

  get active(): number {
    return this.inFlight.size;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.leaseTimer = setInterval(() => void this.extendLeases(), Math.max(1_000, Math.floor(this.opts.leaseMs / 3)));
    this.leaseTimer.unref();
    this.loop = this.run();
  }

  /** Something may be claimable now (a job was created, links were committed): claim at the next turn. */
  wake(): void {
    this.dry = false;
    this.nudge();
  }

  /** Ends the current wait so the loop looks again (a fetch finished, a timer ran out). */
  nudge(): void {
    const resolve = this.wakeUp;
    if (resolve === null) {
      this.wokenEarly = true;
      return;
    }
    this.wakeUp = null;
    if (this.waitTimer) clearTimeout(this.waitTimer);
    this.waitTimer = null;
    resolve();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake();
    await this.loop;
    // A stop in progress is work: its timer keeps the process alive until the drain ends.
    let drainTimer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      Promise.all([...this.inFlight.values()].map((f) => f.done)).then(() => true),
      new Promise<boolean>((resolve) => {
        drainTimer = setTimeout(resolve, this.opts.drainTimeoutMs ?? 15_000, false);
      }),
    ]);
    clearTimeout(drainTimer);
    if (!drained) {
      this.opts.logger.warn({ inFlight: this.inFlight.size }, 'in-flight fetches did not finish in time; aborting them');
      this.abort.abort();
      await Promise.all([...this.inFlight.values()].map((f) => f.done));
    }
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    await this.settleRemaining();
    await Promise.all([...this.writing]);
    try {
      const released = await this.opts.frontier.releaseLeases(this.opts.workerId);
      if (released > 0) this.opts.logger.info({ released }, 'leases returned to the queue');
    } catch (err) {
      this.opts.logger.error({ err }, 'could not release leases; they return to the queue when they expire');
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      const now = this.now();
      const free = this.opts.concurrency - this.inFlight.size;
      const limit = this.claimLimit(free, now);
      const settleNow = this.pending.length > 0 && (limit > 0 || now - this.pendingSince >= this.settleDelayMs);
      if (limit === 0 && !settleNow) {
        await this.wait(this.wakeAt(free, now));
        continue;
      }
      if (!(await this.exchange(limit, now))) await this.wait(now + this.storeRetryMs());
    }
  }

  /**
   * How many URLs to claim now: a batch of at least half the slots; or whatever is free once a
   * host's deadline has come or outcomes are due to be settled (they may admit claimable links).
   * After a claim that found too little, only those, the idle poll or wake() make it try again.
   */
  private claimLimit(free: number, now: number): number {
    if (free <= 0) return 0;
    const due = this.nextDueAt !== null && now >= this.nextDueAt;
    const settling = this.pending.length > 0 && (free >= this.minClaim || now - this.pendingSince >= this.settleDelayMs);
    if (this.dry) return due || settling || now - this.lastExchangeAt >= this.idlePollMs ? free : 0;
    return free >= this.minClaim || due || settling ? free : 0;
  }

  /** When to look again if nothing wakes the loop: a host's deadline, an outcome's settle delay, the idle poll. */
  private wakeAt(free: number, now: number): number | null {
    let at = Number.POSITIVE_INFINITY;
    if (this.pending.length > 0) at = this.pendingSince + this.settleDelayMs;
    if (free > 0) {
      if (this.nextDueAt !== null) at = Math.min(at, this.nextDueAt);
      if (this.dry) at = Math.min(at, this.lastExchangeAt + this.idlePollMs);
    }
    return at === Number.POSITIVE_INFINITY ? null : Math.max(at, now);
  }

  /** One call to the frontier: settle what finished, claim up to `limit`. False when the store failed. */
  private async exchange(limit: number, now: number): Promise<boolean> {
    const { workerId, leaseMs, maxPerHost, hostDelayMs, modes } = this.opts;
    const claim: ClaimOptions = { workerId, limit, leaseMs, maxPerHost, hostDelayMs, modes };
    const batch = this.pending;
    const batchSince = this.pendingSince;
    this.pending = [];
    this.lastExchangeAt = now;
    try {
      const result = await this.opts.frontier.settleAndClaim(batch, claim);
      this.setStoreUp(true);
      if (batch.length > 0) this.track(batch, result.settled);
      this.dry = limit > 0 && result.entries.length < limit;
      this.nextDueAt = result.nextDueAt;
      for (const entry of result.entries) this.launch(entry);
      return true;
    } catch (err) {
      // Nothing of the batch was applied: keep it (ahead of what finished meanwhile) and try again.
      if (batch.length > 0) {
        this.pending = batch.concat(this.pending);
        this.pendingSince = batchSince;
      }
      this.setStoreUp(false, err);
      return false;
    }
  }

  /** Reports refused outcomes and finished jobs once the settle is durable. */
  private track(batch: Outcome[], settled: Promise<SettleResult>): void {
    const { onFinishedJob, onRefused, logger } = this.opts;
    const writing: Promise<void> = settled.then(
      (result) => {
        result.accepted.forEach((accepted, i) => {
          if (!accepted) onRefused?.(batch[i]!);
        });
        for (const job of result.finishedJobs) onFinishedJob?.(job);
        // Links those outcomes admitted are claimable now.
        if (result.enqueued > 0) this.wake();
      },
      (err: unknown) => logger.error({ err, outcomes: batch.length }, 'outcomes could not be written; their URLs are fetched again after a restart'),
    );
    this.writing.add(writing);
    void writing.finally(() => this.writing.delete(writing));
  }

  /** On stop: hands the last outcomes to the frontier, retrying a failing store for a while. */
  private async settleRemaining(): Promise<void> {
    const deadline = this.now() + 10_000;
    while (this.pending.length > 0) {
      if (await this.exchange(0, this.now())) return;
      if (this.now() >= deadline) {
        this.opts.logger.error({ outcomes: this.pending.length }, 'outcomes could not be settled before exit; their URLs return to the queue when the leases expire');
        return;
      }
      await sleep(this.storeRetryMs());
    }
  }

  private launch(entry: FrontierEntry): void {
    const done = this.opts.processor
      .process(entry, this.abort.signal)
      .then((outcome) => {
        if (!outcome) return;
        if (this.pending.length === 0) this.pendingSince = this.now();
        this.pending.push(outcome);
      })
      .catch((err: unknown) => this.opts.logger.error({ err, jobId: entry.jobId, url: entry.url }, 'page processing crashed'))
      .finally(() => {
        this.inFlight.delete(entry.id);
        this.nudge();
      });
    this.inFlight.set(entry.id, { entry, done });
  }

  /** Waits until wake() or the time `at` (null: until wake()); returns at once when woken meanwhile or stopping. */
  private wait(at: number | null): Promise<void> {
    if (this.wokenEarly || !this.running) {
      this.wokenEarly = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.wakeUp = resolve;
      if (at !== null) {
        this.waitTimer = setTimeout(nudgeCrawler, Math.max(0, at - this.now()), this);
        this.waitTimer.unref();
      }
    });
  }

  private storeRetryMs(): number {
    return Math.min(STORE_RETRY_MAX_MS, STORE_RETRY_MS * 2 ** Math.min(this.storeFailures, 6));
  }

  private async extendLeases(): Promise<void> {
    if (this.inFlight.size === 0) return;
    try {
      await this.opts.frontier.extendLeases([...this.inFlight.values()].map((f) => f.entry), this.opts.leaseMs);
    } catch (err) {
      this.opts.logger.warn({ err }, 'could not extend leases');
    }
  }

  private setStoreUp(up: boolean, err?: unknown): void {
    this.storeFailures = up ? 0 : this.storeFailures + 1;
    if (up === this.storeUp) return;
    this.storeUp = up;
    if (up) this.opts.logger.info('store reachable again; claiming resumes');
    else this.opts.logger.error({ err }, 'store unreachable; claiming paused');
    this.opts.onStoreHealth?.(up);
  }
}

/** The wait timer's callback: a function outside the class creates no closure per wait. */
function nudgeCrawler(crawler: Crawler): void {
  crawler.nudge();
}

/** A pause of stop(): a stop in progress keeps the process alive (the timer is not unref'd). */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
