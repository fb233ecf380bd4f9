import { createScope } from '../crawl/scope.ts';
import type { JobStore } from '../store/types.ts';
import { SeenUrls } from './seen-urls.ts';

/** What a worker keeps per job: its scope test and the URLs it has already offered to the store. */
export interface JobContext {
  inScope: (normalizedUrl: string) => boolean;
  /** URLs this process already sent for admission; the store de-duplicates for real (all workers). */
  offered: SeenUrls;
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
    }, () => {});
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
    return { inScope: createScope(job.seeds, job.options.scope), offered };
  }
}
