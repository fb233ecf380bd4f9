/**
 * Settling in two steps. `acceptOutcomes` runs when settle() is called: it checks each lease
 * against the in-memory frontier, ends it (the host slot is free for the next claim at once) and
 * puts retries back in line. `recordChanges` runs later, in the group commit's transaction: it
 * writes pages, frontier states and job counters, and admits discovered links (the table's
 * unique index decides what is new; what is admitted joins the in-memory frontier).
 */
import { FrontierKind } from '../frontier-state.ts';
import { MAX_SITEMAP_NESTING, MAX_SITEMAPS_PER_JOB, type DiscoveredUrl, type FinishedJob, type Outcome, type PageRecord } from '../types.ts';
import type { QueuedEntry } from './frontier.ts';
import type { Core } from './leases.ts';
import { isLive, type CountedJobRow } from './rows.ts';
import { publishJobEnd } from './webhooks.ts';

/** An accepted outcome, as read from the caller's objects when settle() was called. */
export type SettledItem =
  | { kind: 'done'; entry: QueuedEntry; page: PageRecord; discovered: DiscoveredUrl[] }
  | { kind: 'retry'; entry: QueuedEntry; notBefore: number; errorCode: string; requeued: boolean }
  | { kind: 'failed'; entry: QueuedEntry; page: PageRecord }
  | { kind: 'sitemap'; entry: QueuedEntry; discovered: DiscoveredUrl[]; errorCode: string | null };

/** A change waiting for the next group commit, applied in order. */
export type Change =
  /** `perJob`: pages claimed per job; `jobs`: every job an entry was claimed for (they start running). */
  | { kind: 'claimed'; perJob: Map<number, number>; jobs: Set<number>; now: number }
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
    } else if (outcome.kind === 'sitemap') {
      items.push({ kind: 'sitemap', entry, discovered: outcome.discovered, errorCode: outcome.errorCode });
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
  | { kind: 'sitemap'; discovered: DiscoveredUrl[]; errorCode: string | null }
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
    case 'sitemap':
      return { entryId, leaseToken, kind: 'sitemap', discovered: o.discovered, errorCode: o.errorCode };
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
      page.contentType, page.mode, page.linksFound, page.depth, page.fetchedAt, page.contentHash, page.lastmod, page.content,
      page.change ?? null, page.previousPageId ?? null, page.revisit ? JSON.stringify(page.revisit) : null);
  };
  /** Admits a discovered URL unless the job has no room for it (pages: maxPages and maxDepth; sitemaps: their own cap). */
  const admit = (seq: number, job: CountedJobRow, link: DiscoveredUrl, report: SettleReport): void => {
    const sitemap = link.kind === 'sitemap';
    if (sitemap) job.sitemaps_admitted ??= s.countSitemaps.get(seq) as number;
    if (sitemap ? job.sitemaps_admitted! >= MAX_SITEMAPS_PER_JOB || link.depth > MAX_SITEMAP_NESTING : job.admitted >= job.max_pages || link.depth > job.max_depth) return;
    const kind = sitemap ? FrontierKind.sitemap : FrontierKind.page;
    const lastmod = link.lastmod ?? null;
    const info = s.insertEntry.run(seq, link.url, link.host, link.depth, kind, lastmod);
    if (info.changes === 0) return;
    if (sitemap) {
      job.sitemaps += 1;
      job.sitemaps_admitted! += 1;
    } else {
      job.admitted += 1;
      job.queued += 1;
      report.enqueued += 1;
    }
    frontier.admit({ id: Number(info.lastInsertRowid), jobSeq: seq, url: link.url, host: link.host, depth: link.depth, attempts: 0, notBefore: 0, kind, lastmod });
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
        for (const seq of change.jobs) {
          const job = jobOf(seq);
          const n = change.perJob.get(seq) ?? 0;
          job.queued -= n;
          job.in_flight += n;
          if (job.status === 'queued') job.status = 'running';
          job.started_at ??= change.now;
        }
        break;
      case 'returned':
        for (const { entry, requeued } of change.items) {
          const job = jobOf(entry.jobSeq);
          const page = entry.kind === FrontierKind.page;
          if (page) job.in_flight -= 1;
          if (requeued) {
            if (page) job.queued += 1;
          } else {
            s.drop.run(entry.id);
            if (!page) job.sitemaps -= 1;
          }
        }
        break;
      case 'settled':
        for (const item of change.items) {
          const { entry } = item;
          const job = jobOf(entry.jobSeq);
          const page = entry.kind === FrontierKind.page;
          if (page) job.in_flight -= 1;
          lastReport.set(entry.jobSeq, change.report);
          if (item.kind === 'done' || item.kind === 'sitemap') {
            if (item.kind === 'done') {
              s.markDone.run(entry.id);
              insertPage(entry.jobSeq, item.page);
              job.fetched += 1;
            } else {
              if (item.errorCode === null) s.markDone.run(entry.id);
              else s.markFailed.run(item.errorCode, entry.id);
              job.sitemaps -= 1;
            }
            if (!isLive(job.status)) continue;
            for (const link of item.discovered) admit(entry.jobSeq, job, link, change.report);
          } else if (item.kind === 'retry') {
            if (item.requeued) {
              s.markRetry.run(item.notBefore, item.errorCode, entry.id);
              if (page) job.queued += 1;
            } else {
              s.drop.run(entry.id);
              if (!page) job.sitemaps -= 1;
            }
          } else {
            s.markFailed.run(item.page.errorCode, entry.id);
            // As PostgreSQL's settle: the entry's kind decides what is counted, so a sitemap never becomes a page.
            if (page) {
              insertPage(entry.jobSeq, item.page);
              job.failed += 1;
            } else {
              job.sitemaps -= 1;
            }
          }
        }
        break;
    }
  }

  for (const job of jobs.values()) {
    if (isLive(job.status) && job.queued === 0 && job.in_flight === 0 && job.sitemaps === 0) {
      const failed = job.fetched === 0 && job.failed > 0;
      job.status = failed ? 'failed' : 'done';
      job.reason = failed ? ((s.failureReason.get(job.seq) as string | undefined) ?? null) : null;
      job.finished_at = now;
      core.setLive(job.seq, false);
      lastReport.get(job.seq)?.finishedJobs.push({ id: job.id, status: job.status, reason: job.reason });
      publishJobEnd(s, job, now);
    }
    s.writeJobCounts.run(job.admitted, job.queued, job.in_flight, job.fetched, job.failed, job.sitemaps, job.status, job.reason,
      job.started_at, job.finished_at, job.seq);
  }
}
