import type { CrawlMode, JobOptions } from '../types.ts';
import type { Lease, MemoryFrontier } from './frontier.ts';
import type { Change } from './settle.ts';
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
 * waits again, or is dropped when its job is no longer live. Returns the change for the next
 * group commit (null when there was nothing to return).
 */
export function returnLeases(core: Core, leases: Lease[]): Change | null {
  if (leases.length === 0) return null;
  const { frontier } = core;
  const items = leases.map((lease) => {
    frontier.endLease(lease);
    const requeued = core.jobInfo(lease.entry.jobSeq).live;
    if (requeued) frontier.requeue(lease.entry);
    return { entry: lease.entry, requeued };
  });
  return { kind: 'returned', items };
}
