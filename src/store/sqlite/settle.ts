import type { FinishedJob, Outcome, PageRecord, SettleResult } from '../types.ts';
import { isLive, type CountedJobRow } from './rows.ts';
import type { Core } from './leases.ts';

/**
 * Applies outcomes inside the caller's write transaction. An outcome counts when its lease is
 * current (the in-memory frontier holds it with the same token). Job rows are read once,
 * changed in memory and written once at the end; that is safe because the transaction holds
 * the write lock.
 */
export function settleOutcomes(core: Core, outcomes: Outcome[], now: number): SettleResult {
  const { s, frontier } = core;
  const jobs = new Map<number, CountedJobRow>();
  const accepted: boolean[] = [];
  let enqueued = 0;

  const jobOf = (seq: number): CountedJobRow => {
    let job = jobs.get(seq);
    if (!job) {
      job = s.countedJob.get(seq) as CountedJobRow;
      jobs.set(seq, job);
    }
    return job;
  };
  const insertPage = (seq: number, page: PageRecord): void => {
    s.insertPage.run(seq, page.url, page.finalUrl, page.statusCode, page.title, page.bytes, page.fetchMs, page.errorCode,
      page.contentType, page.mode, page.linksFound, page.depth, page.fetchedAt);
  };

  for (const outcome of outcomes) {
    const lease = frontier.lease(outcome.entry.id);
    const current = lease !== undefined && lease.token === outcome.entry.leaseToken;
    accepted.push(current);
    if (!current) continue;
    const { entry } = lease;
    const job = jobOf(entry.jobSeq);
    job.in_flight -= 1;
    frontier.endLease(lease);
    switch (outcome.kind) {
      case 'done': {
        s.markDone.run(entry.id);
        insertPage(entry.jobSeq, outcome.page);
        job.fetched += 1;
        if (!isLive(job.status)) break;
        for (const link of outcome.discovered) {
          if (job.admitted >= job.max_pages) break;
          if (link.depth > job.max_depth) continue;
          const info = s.insertEntry.run(entry.jobSeq, link.url, link.host, link.depth);
          if (info.changes === 0) continue;
          job.admitted += 1;
          job.queued += 1;
          enqueued += 1;
          const id = Number(info.lastInsertRowid);
          frontier.admit({ id, jobSeq: entry.jobSeq, url: link.url, host: link.host, depth: link.depth, attempts: 0, notBefore: 0 });
        }
        break;
      }
      case 'retry': {
        if (isLive(job.status)) {
          s.markRetry.run(outcome.notBefore, outcome.errorCode, entry.id);
          job.queued += 1;
          frontier.requeue({ ...entry, attempts: entry.attempts + 1, notBefore: outcome.notBefore });
        } else {
          s.drop.run(entry.id);
        }
        break;
      }
      case 'failed': {
        s.markFailed.run(outcome.page.errorCode, entry.id);
        insertPage(entry.jobSeq, outcome.page);
        job.failed += 1;
        break;
      }
    }
  }

  const finishedJobs: FinishedJob[] = [];
  for (const job of jobs.values()) {
    if (isLive(job.status) && job.queued === 0 && job.in_flight === 0) {
      const failed = job.fetched === 0 && job.failed > 0;
      job.status = failed ? 'failed' : 'done';
      job.reason = failed ? ((s.failureReason.get(job.seq) as string | undefined) ?? null) : null;
      job.finished_at = now;
      finishedJobs.push({ id: job.id, status: job.status, reason: job.reason });
      core.setLive(job.seq, false);
    }
    s.writeJobCounts.run(job.admitted, job.queued, job.in_flight, job.fetched, job.failed, job.status, job.reason, job.finished_at,
      job.seq);
  }
  return { accepted, enqueued, finishedJobs };
}
