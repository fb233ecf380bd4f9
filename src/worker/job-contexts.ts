import { createScope } from '../crawl/scope.ts';
import type { Store } from '../store/types.ts';

/** What a worker keeps per job: its scope test and the URLs it has already offered to the store. */
export interface JobContext {
  inScope: (normalizedUrl: string) => boolean;
  /** URLs this process already sent for admission; the store de-duplicates for real (all workers). */
  offered: Set<string>;
}

/** Bounds memory: a worker forgets what it offered beyond this and lets the store de-duplicate. */
const MAX_OFFERED_PER_JOB = 200_000;
const MAX_JOBS = 1_000;

export class JobContexts {
  private readonly contexts = new Map<string, Promise<JobContext>>();

  constructor(private readonly store: Store) {}

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
    if (ctx.offered.has(url)) return false;
    if (ctx.offered.size >= MAX_OFFERED_PER_JOB) ctx.offered.clear();
    ctx.offered.add(url);
    return true;
  }

  private async load(jobId: string): Promise<JobContext> {
    const job = await this.store.getJob(jobId);
    if (!job) throw new Error(`job ${jobId} vanished from the store`);
    return { inScope: createScope(job.seeds, job.options.scope), offered: new Set(job.seeds) };
  }
}
