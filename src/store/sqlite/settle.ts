/**
 * Settling in two steps. `acceptOutcomes` runs when settle() is called: it checks each lease
 * against the in-memory frontier, ends it (the host slot is free for the next claim at once) and
 * puts retries back in line. `recordChanges` runs later, in the group commit's transaction: it
 * writes pages, frontier states and job counters, and admits discovered links (the table's
 * unique index decides what is new; what is admitted joins the in-memory frontier).
 */
import type { DiscoveredUrl, FinishedJob, Outcome, PageRecord } from '../types.ts';
import type { QueuedEntry } from './frontier.ts';
import type { Core } from './leases.ts';
import { isLive, type CountedJobRow } from './rows.ts';

/** An accepted outcome, as read from the caller's objects when settle() was called. */
export type SettledItem =
  | { kind: 'done'; entry: QueuedEntry; page: PageRecord; discovered: DiscoveredUrl[] }
  | { kind: 'retry'; entry: QueuedEntry; notBefore: number; errorCode: string; requeued: boolean }
  | { kind: 'failed'; entry: QueuedEntry; page: PageRecord };

/** A change waiting for the next group commit, applied in order. */
export type Change =
  | { kind: 'claimed'; perJob: Map<number, number>; now: number }
  /** Leases that ended without an outcome (expired, released): back in line, or dropped when the job ended. */
  | { kind: 'returned'; items: Array<{ entry: QueuedEntry; requeued: boolean }> }
  | { kind: 'settled'; items: SettledItem[]; report: SettleReport };

/** What one settle() call hears back once its changes are committed. */
export interface SettleReport {
  enqueued: number;
  finishedJobs: FinishedJob[];
}

/**
 * Checks and applies outcomes to the in-memory frontier. Everything read from the outcomes is read
 * first, so an outcome that throws (a bad caller object) leaves nothing changed; page records and
 * link lists are kept by reference (the worker hands them over and never touches them again).
 */
export function acceptOutcomes(core: Core, outcomes: Outcome[]): { accepted: boolean[]; items: SettledItem[] } {
  const { frontier } = core;
  const fields = outcomes.map(readOutcome);
  const accepted: boolean[] = [];
  const items: SettledItem[] = [];
  for (const outcome of fields) {
    const lease = frontier.lease(outcome.entryId);
    const current = lease !== undefined && lease.token === outcome.leaseToken;
    accepted.push(current);
    if (!current) continue;
    const { entry } = lease;
    frontier.endLease(lease);
    if (outcome.kind === 'retry') {
      const requeued = core.jobInfo(entry.jobSeq).live;
      if (requeued) frontier.requeue({ ...entry, attempts: entry.attempts + 1, notBefore: outcome.notBefore });
      items.push({ kind: 'retry', entry, notBefore: outcome.notBefore, errorCode: outcome.errorCode, requeued });
    } else if (outcome.kind === 'done') {
      items.push({ kind: 'done', entry, page: outcome.page, discovered: outcome.discovered });
    } else {
      items.push({ kind: 'failed', entry, page: outcome.page });
    }
  }
  return { accepted, items };
}

type OutcomeFields = { entryId: number; leaseToken: string } & (
  | { kind: 'done'; page: PageRecord; discovered: DiscoveredUrl[] }
  | { kind: 'retry'; notBefore: number; errorCode: string }
  | { kind: 'failed'; page: PageRecord }
);

function readOutcome(o: Outcome): OutcomeFields {
  const entryId = o.entry.id;
  const leaseToken = o.entry.leaseToken;
  switch (o.kind) {
    case 'done':
      return { entryId, leaseToken, kind: 'done', page: o.page, discovered: o.discovered };
    case 'retry':
      return { entryId, leaseToken, kind: 'retry', notBefore: o.notBefore, errorCode: o.errorCode };
    case 'failed':
      return { entryId, leaseToken, kind: 'failed', page: o.page };
  }
}

/**
 * Applies waiting changes inside the caller's write transaction. Job rows are read once, changed
 * in memory and written once at the end (the transaction holds the write lock); a job that ends
 * is reported to the last settle() among the changes that touched it.
 */
export function recordChanges(core: Core, changes: Change[], now: number): void {
  const { s, frontier } = core;
  const jobs = new Map<number, CountedJobRow>();
  const lastReport = new Map<number, SettleReport>();
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

  // A commit that failed and is tried again starts its reports afresh.
  for (const change of changes) {
    if (change.kind === 'settled') {
      change.report.enqueued = 0;
      change.report.finishedJobs = [];
    }
  }
  for (const change of changes) {
    switch (change.kind) {
      case 'claimed':
        for (const [seq, n] of change.perJob) {
          const job = jobOf(seq);
          job.queued -= n;
          job.in_flight += n;
          if (job.status === 'queued') job.status = 'running';
          job.started_at ??= change.now;
        }
        break;
      case 'returned':
        for (const { entry, requeued } of change.items) {
          const job = jobOf(entry.jobSeq);
          job.in_flight -= 1;
          if (requeued) job.queued += 1;
          else s.drop.run(entry.id);
        }
        break;
      case 'settled':
        for (const item of change.items) {
          const { entry } = item;
          const job = jobOf(entry.jobSeq);
          job.in_flight -= 1;
          lastReport.set(entry.jobSeq, change.report);
          if (item.kind === 'done') {
            s.markDone.run(entry.id);
            insertPage(entry.jobSeq, item.page);
            job.fetched += 1;
            if (!isLive(job.status)) continue;
            for (const link of item.discovered) {
              if (job.admitted >= job.max_pages) break;
              if (link.depth > job.max_depth) continue;
              const info = s.insertEntry.run(entry.jobSeq, link.url, link.host, link.depth);
              if (info.changes === 0) continue;
              job.admitted += 1;
              job.queued += 1;
              change.report.enqueued += 1;
              frontier.admit({ id: Number(info.lastInsertRowid), jobSeq: entry.jobSeq, url: link.url, host: link.host, depth: link.depth, attempts: 0, notBefore: 0 });
            }
          } else if (item.kind === 'retry') {
            if (item.requeued) {
              s.markRetry.run(item.notBefore, item.errorCode, entry.id);
              job.queued += 1;
            } else {
              s.drop.run(entry.id);
            }
          } else {
            s.markFailed.run(item.page.errorCode, entry.id);
            insertPage(entry.jobSeq, item.page);
            job.failed += 1;
          }
        }
        break;
    }
  }

  for (const job of jobs.values()) {
    if (isLive(job.status) && job.queued === 0 && job.in_flight === 0) {
      const failed = job.fetched === 0 && job.failed > 0;
      job.status = failed ? 'failed' : 'done';
      job.reason = failed ? ((s.failureReason.get(job.seq) as string | undefined) ?? null) : null;
      job.finished_at = now;
      core.setLive(job.seq, false);
      lastReport.get(job.seq)?.finishedJobs.push({ id: job.id, status: job.status, reason: job.reason });
    }
    s.writeJobCounts.run(job.admitted, job.queued, job.in_flight, job.fetched, job.failed, job.status, job.reason, job.started_at,
      job.finished_at, job.seq);
  }
}
