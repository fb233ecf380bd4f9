import { setMaxListeners } from 'node:events';
import type { Logger } from '../log.ts';
import type { ClaimOptions, CrawlMode, FinishedJob, FrontierEntry, Outcome, Store } from '../store/types.ts';
import type { PageProcessor } from './page-processor.ts';
import { SettleBatcher } from './settle-batcher.ts';

export interface CrawlerOptions {
  store: Store;
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
  /** Poll interval when the frontier has nothing due (default 200 ms; `wake()` cuts it short). */
  idlePollMs?: number;
  /** How long `stop()` waits for in-flight fetches before aborting them (default 15 s). */
  drainTimeoutMs?: number;
  onFinishedJob?: (job: FinishedJob) => void;
  /** An outcome the store refused as stale: its URL will be fetched again (by any worker). */
  onRefused?: (outcome: Outcome) => void;
  /** Called when a claim fails (store down) and when it succeeds again. */
  onStoreHealth?: (up: boolean) => void;
}

/**
 * The worker loop: claim → process → settle, keeping `concurrency` fetches in flight.
 * Leases are extended while fetches run; `stop()` drains in-flight work, settles it and
 * returns every URL it still holds to the queue.
 */
export class Crawler {
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly inFlight = new Map<number, { entry: FrontierEntry; done: Promise<void> }>();
  private readonly abort = new AbortController();
  private readonly batcher: SettleBatcher;
  /** Ends the current idle wait (its promise's resolve); null when the loop is not waiting. */
  private wakeUp: (() => void) | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  /** A wake() that came while the loop was not waiting (e.g. during a claim): the next wait returns at once. */
  private wokenEarly = false;
  private leaseTimer: NodeJS.Timeout | null = null;
  private storeUp = true;
  /** A store that frees slots at settle() (SQLite): outcomes since the last claim, and the settles still being written. */
  private readonly settlesAtOnce: boolean;
  private unsettled: Outcome[] = [];
  private readonly writing = new Set<Promise<void>>();

  constructor(private readonly opts: CrawlerOptions) {
    this.batcher = new SettleBatcher({
      store: opts.store,
      logger: opts.logger,
      onFinishedJob: opts.onFinishedJob,
      onRefused: opts.onRefused,
      onFlushed: () => this.wake(),
    });
    // Every browser render in flight listens to the one stop signal (HTTP fetches share one listener).
    setMaxListeners(0, this.abort.signal);
    this.settlesAtOnce = opts.store.settleFreesSlotsAtOnce === true;
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

  /** Ends an idle wait early (a job was just created in this process). */
  wake(): void {
    const resolve = this.wakeUp;
    if (resolve === null) {
      this.wokenEarly = true;
      return;
    }
    this.wakeUp = null;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    resolve();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake();
    await this.loop;
    const drainTimeout = this.opts.drainTimeoutMs ?? 15_000;
    const drained = await Promise.race([
      Promise.all([...this.inFlight.values()].map((f) => f.done)).then(() => true),
      sleep(drainTimeout).then(() => false),
    ]);
    if (!drained) {
      this.opts.logger.warn({ inFlight: this.inFlight.size }, 'in-flight fetches did not finish in time; aborting them');
      this.abort.abort();
      await Promise.all([...this.inFlight.values()].map((f) => f.done));
    }
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    this.settleUnsettled();
    await Promise.all([...this.writing]);
    const left = await this.batcher.drain();
    this.batcher.close();
    if (left > 0) this.opts.logger.error({ outcomes: left }, 'outcomes could not be settled before exit; their URLs return to the queue when the leases expire');
    try {
      const released = await this.opts.store.releaseLeases(this.opts.workerId);
      if (released > 0) this.opts.logger.info({ released }, 'leases returned to the queue');
    } catch (err) {
      this.opts.logger.error({ err }, 'could not release leases; they return to the queue when they expire');
    }
  }

  private async run(): Promise<void> {
    const { opts } = this;
    // Claim in batches of at least half the slots: fewer, larger claims (and, where a claim is a
    // store transaction, fewer transactions).
    const minClaim = Math.max(1, Math.floor(opts.concurrency / 2));
    let idleMs = 0;
    while (this.running) {
      const free = opts.concurrency - this.inFlight.size;
      if (free < minClaim) {
        // Every finished fetch wakes the loop, so this wait needs no timer.
        await this.idle(null);
        continue;
      }
      let entries: FrontierEntry[];
      try {
        entries = await this.settleAndClaim(free);
        this.setStoreUp(true);
      } catch (err) {
        this.setStoreUp(false, err);
        await this.idle(1_000);
        continue;
      }
      if (entries.length === 0) {
        // Nothing due. While fetches run, the next completion (which may bring links) wakes
        // the loop; otherwise poll, backing off gently up to idlePollMs.
        idleMs = this.inFlight.size > 0 ? 250 : Math.min(opts.idlePollMs ?? 200, idleMs + 20);
        await this.idle(idleMs);
        continue;
      }
      idleMs = 0;
      for (const entry of entries) this.launch(entry);
    }
  }

  /**
   * Settles the outcomes waiting in the batch (they still hold their leases and host slots),
   * then claims up to `limit` URLs — in one store transaction where the store offers it.
   */
  private async settleAndClaim(limit: number): Promise<FrontierEntry[]> {
    const { store, workerId, leaseMs, maxPerHost, hostDelayMs, modes } = this.opts;
    const claim: ClaimOptions = { workerId, limit, leaseMs, maxPerHost, hostDelayMs, modes };
    if (this.settlesAtOnce) {
      this.settleUnsettled();
      return store.claim(claim);
    }
    const combined = store.settleAndClaim?.bind(store);
    if (!combined) {
      await this.batcher.flushNow();
      return store.claim(claim);
    }
    let claimed: FrontierEntry[] | null = null;
    await this.batcher.flushNow(async (batch) => {
      const r = await combined(batch, claim);
      claimed = r.entries;
      return r.settled;
    });
    return claimed ?? store.claim(claim);
  }

  /**
   * Hands the outcomes gathered since the last claim to a store that frees their slots at once;
   * their write is awaited in the background (and by stop()).
   */
  private settleUnsettled(): void {
    if (this.unsettled.length === 0) return;
    const batch = this.unsettled;
    this.unsettled = [];
    const { onFinishedJob, onRefused, logger } = this.opts;
    const writing: Promise<void> = this.opts.store.settle(batch).then(
      (result) => {
        result.accepted.forEach((accepted, i) => {
          if (!accepted) onRefused?.(batch[i]!);
        });
        for (const job of result.finishedJobs) onFinishedJob?.(job);
      },
      (err: unknown) => logger.error({ err, outcomes: batch.length }, 'outcomes could not be written; their URLs are fetched again after a restart'),
    );
    this.writing.add(writing);
    void writing.finally(() => this.writing.delete(writing));
  }

  private launch(entry: FrontierEntry): void {
    // The slot frees as soon as the outcome is queued: settling happens in batches behind it,
    // and stop() drains the batcher before it releases leases.
    const done = this.opts.processor
      .process(entry, this.abort.signal)
      .then((outcome) => {
        if (!outcome) return;
        if (this.settlesAtOnce) this.unsettled.push(outcome);
        else this.batcher.add(outcome);
      })
      .catch((err: unknown) => this.opts.logger.error({ err, jobId: entry.jobId, url: entry.url }, 'page processing crashed'))
      .finally(() => {
        this.inFlight.delete(entry.id);
        this.wake();
      });
    this.inFlight.set(entry.id, { entry, done });
  }

  /** Waits until wake() or `ms` (null: until wake()); returns at once when woken meanwhile or stopping. */
  private idle(ms: number | null): Promise<void> {
    if (this.wokenEarly || !this.running) {
      this.wokenEarly = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.wakeUp = resolve;
      if (ms !== null) this.idleTimer = setTimeout(wakeCrawler, ms, this);
    });
  }

  private async extendLeases(): Promise<void> {
    if (this.inFlight.size === 0) return;
    try {
      await this.opts.store.extendLeases([...this.inFlight.values()].map((f) => f.entry), this.opts.leaseMs);
    } catch (err) {
      this.opts.logger.warn({ err }, 'could not extend leases');
    }
  }

  private setStoreUp(up: boolean, err?: unknown): void {
    if (up === this.storeUp) return;
    this.storeUp = up;
    if (up) this.opts.logger.info('store reachable again; claiming resumes');
    else this.opts.logger.error({ err }, 'store unreachable; claiming paused');
    this.opts.onStoreHealth?.(up);
  }
}

function wakeCrawler(crawler: Crawler): void {
  crawler.wake();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
