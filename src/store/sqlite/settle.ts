import type { FinishedJob, Outcome, PageRecord, SettleResult } from '../types.ts';
import { isLive, type CountedJobRow } from './rows.ts';
import type { Core } from './leases.ts';

interface SettledRow {
  job_seq: number;
  host: string;
}

interface HostDelta {
  inFlight: number;
  head: number | null;
}

/**
 * Applies outcomes inside the caller's write transaction. Job rows are read once, changed in memory
 * and written once at the end; that is safe because the transaction holds the write lock.
 */
export function settleOutcomes(core: Core, outcomes: Outcome[], now: number): SettleResult {
  const { s } = core;
  const jobs = new Map<number, CountedJobRow>();
  const hosts = new Map<string, HostDelta>();
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
  const hostOf = (host: string): HostDelta => {
    let delta = hosts.get(host);
    if (!delta) {
      delta = { inFlight: 0, head: null };
      hosts.set(host, delta);
    }
    return delta;
  };
  const lowerHead = (host: string, id: number): void => {
    const delta = hostOf(host);
    if (delta.head === null || id < delta.head) delta.head = id;
  };
  const insertPage = (seq: number, page: PageRecord): void => {
    s.insertPage.run(seq, page.url, page.finalUrl, page.statusCode, page.title, page.bytes, page.fetchMs, page.errorCode,
      page.contentType, page.mode, page.linksFound, page.depth, page.fetchedAt);
  };

  for (const outcome of outcomes) {
    const { entry } = outcome;
    let row: SettledRow | undefined;
    switch (outcome.kind) {
      case 'done':
        row = s.settleDone.get(entry.id, entry.leaseToken) as SettledRow | undefined;
        break;
      case 'retry':
        row = s.settleRetry.get(outcome.notBefore, outcome.errorCode, entry.id, entry.leaseToken) as SettledRow | undefined;
        break;
      case 'failed':
        row = s.settleFailed.get(outcome.page.errorCode, entry.id, entry.leaseToken) as SettledRow | undefined;
        break;
    }
    accepted.push(row !== undefined);
    if (!row) continue;
    const job = jobOf(row.job_seq);
    job.in_flight -= 1;
    hostOf(row.host).inFlight -= 1;
    switch (outcome.kind) {
      case 'done': {
        insertPage(row.job_seq, outcome.page);
        job.fetched += 1;
        if (!isLive(job.status)) break;
        for (const link of outcome.discovered) {
          if (job.admitted >= job.max_pages) break;
          if (link.depth > job.max_depth) continue;
          const info = s.insertEntry.run(row.job_seq, link.url, link.host, link.depth);
          if (info.changes === 0) continue;
          job.admitted += 1;
          job.queued += 1;
          enqueued += 1;
          lowerHead(link.host, Number(info.lastInsertRowid));
        }
        break;
      }
      case 'retry': {
        if (isLive(job.status)) {
          job.queued += 1;
          lowerHead(row.host, entry.id);
        } else {
          s.drop.run(entry.id);
        }
        break;
      }
      case 'failed': {
        insertPage(row.job_seq, outcome.page);
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
    }
    s.writeJobCounts.run(job.admitted, job.queued, job.in_flight, job.fetched, job.failed, job.status, job.reason, job.finished_at,
      job.seq);
  }
  for (const [host, delta] of hosts) s.touchHost.run(host, delta.inFlight, delta.head);
  return { accepted, enqueued, finishedJobs };
}
