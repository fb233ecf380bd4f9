import type { CrawlMode, JobOptions } from '../types.ts';
import type { Lease, MemoryFrontier } from './frontier.ts';
import type { Statements } from './statements.ts';

/** What a job's URLs need to know of it while they are claimed and settled. */
export interface JobInfo {
  id: string;
  options: JobOptions;
  mode: CrawlMode;
  /** Queued or running (entries of other jobs are never claimed, nor their links admitted). */
  live: boolean;
}

/** What a transaction needs: the prepared statements, the in-memory frontier and the facts of a job by its row number. */
export interface Core {
  s: Statements;
  frontier: MemoryFrontier;
  jobInfo(seq: number): JobInfo;
  /** Records that a job stopped (or started) being live, undone with the transaction. */
  setLive(seq: number, live: boolean): void;
}

/**
 * Ends leases (expired, or released by a stopping worker) without counting an attempt: the URL
 * waits again, or is dropped when its job is no longer live. Runs inside the caller's transaction.
 */
export function returnLeases(core: Core, leases: Lease[]): void {
  const { s, frontier } = core;
  const moves = new Map<number, number>();
  for (const lease of leases) {
    const { entry } = lease;
    frontier.endLease(lease);
    if (core.jobInfo(entry.jobSeq).live) {
      frontier.requeue(entry);
      moves.set(entry.jobSeq, (moves.get(entry.jobSeq) ?? 0) + 1);
    } else {
      s.drop.run(entry.id);
      s.moveJobCounts.run(0, -1, entry.jobSeq);
    }
  }
  for (const [seq, n] of moves) s.moveJobCounts.run(n, -n, seq);
}
