import type { JobOptions, JobStatus } from '../types.ts';
import { isLive } from './rows.ts';
import type { Statements } from './statements.ts';

/** What a transaction needs: the prepared statements and the immutable facts of a job by its row number. */
export interface Core {
  s: Statements;
  jobInfo(seq: number): { id: string; options: JobOptions };
}

export interface LeasedRow {
  id: number;
  job_seq: number;
  host: string;
}

/**
 * Ends leases (expired, or released by a stopping worker) without counting an attempt: the URL waits
 * again, or is dropped when its job is no longer live. Runs inside the caller's transaction.
 */
export function returnLeases(core: Core, rows: LeasedRow[]): void {
  const { s } = core;
  const statusOf = new Map<number, JobStatus>();
  const jobMoves = new Map<number, number>();
  for (const row of rows) {
    let status = statusOf.get(row.job_seq);
    if (status === undefined) {
      status = s.jobStatus.get(row.job_seq) as JobStatus;
      statusOf.set(row.job_seq, status);
    }
    const live = isLive(status);
    (live ? s.requeue : s.drop).run(row.id);
    s.touchHost.run(row.host, -1, live ? row.id : null);
    if (live) jobMoves.set(row.job_seq, (jobMoves.get(row.job_seq) ?? 0) + 1);
    else s.moveJobCounts.run(0, -1, row.job_seq);
  }
  for (const [seq, n] of jobMoves) s.moveJobCounts.run(n, -n, seq);
}
