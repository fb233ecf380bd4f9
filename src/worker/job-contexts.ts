import { createScope } from '../crawl/scope.ts';
import type { JobStore } from '../store/types.ts';
import { SeenUrls } from './seen-urls.ts';

/** What a worker keeps per job: its scope test and the URLs it has already offered to the store. */
export interface JobContext {
  inScope: (normalizedUrl: string) => boolean;
  /** URLs this process already sent for admission; the store de-duplicates for real (all workers). */
  offered: SeenUrls;
  /**
   * The job's seeds and the distinct page links this process offered for it (in scope, within
   * its depth), less those taken back: each was admitted, found admitted already, or refused
   * because the job was full. Counted from zero again when `offered` starts over (`offeredClears`).
   */
  pagesOffered: number;
  offeredClears: number;
}

/**
 * Bounds memory: a worker forgets what it offered beyond this and lets the store de-duplicate
 * (2 million fingerprints take 32 MB; a job that large re-offers links once after the reset).
 */
const MAX_OFFERED_PER_JOB = 2_000_000;
const MAX_JOBS = 1_000;

export class JobContexts {
  private readonly contexts = new Map<string, Promise<JobContext>>();

  constructor(private readonly jobs: JobStore) {}

  get(jobId: string): Promise<JobContext> {
    let ctx = this.contexts.get(jobId);
    if (!ctx) {
      ctx = this.load(jobId);
      if (this.contexts.size >= MAX_JOBS) this.contexts.delete(this.contexts.keys().next().value!);
      this.contexts.set(jobId, ctx);
      ctx.catch(() => this.contexts.delete(jobId));
    }
    return ctx;
  }

  forget(jobId: string): void {
    this.contexts.delete(jobId);
  }

  /**
   * Takes back URLs offered with an outcome the store refused: they were never admitted, so when
   * the page is fetched again its links must be offered again (or they would be lost).
   */
  withdraw(jobId: string, urls: string[]): void {
    const ctx = this.contexts.get(jobId);
    if (!ctx || urls.length === 0) return;
    void ctx.then((c) => {
      for (const url of urls) c.offered.delete(url);
      c.pagesOffered = Math.max(0, c.pagesOffered - urls.length);
    }, () => {});
  }

  /**
   * True when the job can admit no more pages: this process alone has offered `maxPages` distinct
   * page links, so the store has admitted that many (or will, once the outcomes that carry them
   * are settled) and refuses the rest. Its page's links then need no look-up at all; checking
   * each against `offered` was the larger part of a page's link handling once a job was full.
   */
  static full(ctx: JobContext, maxPages: number): boolean {
    if (ctx.offeredClears !== ctx.offered.clears) {
      ctx.offeredClears = ctx.offered.clears;
      ctx.pagesOffered = 0;
    }
    return ctx.pagesOffered >= maxPages;
  }

  /** Counts page links offered (see `full`). */
  static counted(ctx: JobContext, pages: number): void {
    ctx.pagesOffered += pages;
  }

  /** True the first time a URL is offered for this job (by this process). */
  static firstOffer(ctx: JobContext, url: string): boolean {
    return ctx.offered.add(url);
  }

  private async load(jobId: string): Promise<JobContext> {
    const job = await this.jobs.get(jobId);
    if (!job) throw new Error(`job ${jobId} vanished from the store`);
    const offered = new SeenUrls(MAX_OFFERED_PER_JOB);
    for (const seed of job.seeds) offered.add(seed);
    // The seeds were admitted with the job: they count as offered pages.
    return { inScope: createScope(job.seeds, job.options.scope), offered, pagesOffered: offered.size, offeredClears: offered.clears };
  }
}
