import { randomUUID } from 'node:crypto';
import { quotaExceeded } from '../admission.ts';
import { FrontierKind } from '../frontier-state.ts';
import { hostnameOf } from '../rows.ts';
import type { Job, JobStatus, JobStore, ListOptions, NewJob } from '../types.ts';
import type { SqliteCore } from './core.ts';
import { isLive, toJob, type JobRow } from './rows.ts';
import { publishJobEnd } from './webhooks.ts';

/** Jobs of the embedded store. Every read first commits what waits, so it sees every settle so far. */
export class SqliteJobs implements JobStore {
  private readonly createTx: (job: NewJob, now: number) => JobRow;
  private readonly endTx: (id: string, status: JobStatus, reason: string, now: number) => JobRow | undefined;
  private readonly deleteTx: (id: string) => 'deleted' | 'live' | 'unknown';

  constructor(private readonly core: SqliteCore) {
    this.createTx = core.immediate((job: NewJob, now: number) => this.insert(job, now));
    this.endTx = core.immediate((id: string, status: JobStatus, reason: string, now: number) => this.end(id, status, reason, now));
    this.deleteTx = core.immediate((id: string) => this.remove(id));
  }

  delete(id: string): Promise<'deleted' | 'live' | 'unknown'> {
    return this.core.run(() => {
      this.core.commitWaiting();
      return this.deleteTx(id);
    });
  }

  create(job: NewJob, now: number = Date.now()): Promise<Job> {
    return this.core.run(() => {
      this.core.commitWaiting();
      return toJob(this.createTx(job, now));
    });
  }

  get(id: string): Promise<Job | undefined> {
    return this.core.run(() => {
      this.core.commitWaiting();
      const row = this.core.s.jobById.get(id) as JobRow | undefined;
      return row && toJob(row);
    });
  }

  list(opts: ListOptions & { status?: JobStatus; keyId?: string }): Promise<Job[]> {
    return this.core.run(() => {
      this.core.commitWaiting();
      const { s } = this.core;
      const after = opts.after === undefined ? undefined : String(opts.after);
      let rows: unknown[];
      if (opts.keyId !== undefined) rows = s.listJobsOfKey.all({ key: opts.keyId, status: opts.status ?? null, after: after ?? null, limit: opts.limit });
      else if (opts.status === undefined) rows = after === undefined ? s.listJobs.all(opts.limit) : s.listJobsAfter.all(after, opts.limit);
      else if (after === undefined) rows = s.listJobsByStatus.all(opts.status, opts.limit);
      else rows = s.listJobsByStatusAfter.all(opts.status, after, opts.limit);
      return (rows as JobRow[]).map(toJob);
    });
  }

  cancel(id: string, reason?: string, now: number = Date.now()): Promise<Job | undefined> {
    return this.core.run(() => {
      this.core.commitWaiting();
      const row = this.endTx(id, 'cancelled', reason ?? 'cancelled', now);
      return row && toJob(row);
    });
  }

  fail(id: string, reason: string, now: number = Date.now()): Promise<Job | undefined> {
    return this.core.run(() => {
      this.core.commitWaiting();
      const row = this.endTx(id, 'failed', reason, now);
      return row && toJob(row);
    });
  }

  private insert(job: NewJob, now: number): JobRow {
    const { s, frontier } = this.core;
    if (job.keyId && job.admission) admit(job.keyId, job.admission, s);
    const id = randomUUID();
    const o = job.options;
    const seq = Number(s.insertJob.run(id, o.mode, o.maxPages, o.maxDepth, JSON.stringify(o), job.source, now, job.keyId ?? null).lastInsertRowid);
    s.insertSeeds.run(seq, JSON.stringify(job.seeds));
    const add = (url: string, kind: number): boolean => {
      const host = hostnameOf(url);
      const info = s.insertEntry.run(seq, url, host, 0, kind, null);
      if (info.changes === 0) return false;
      frontier.admit({ id: Number(info.lastInsertRowid), jobSeq: seq, url, host, depth: 0, attempts: 0, notBefore: 0, kind, lastmod: null });
      return true;
    };
    let admitted = 0;
    const seedsArePages = o.scrape?.sitemaps !== 'only';
    for (const url of seedsArePages ? job.seeds : []) {
      if (admitted >= o.maxPages) break;
      if (add(url, FrontierKind.page)) admitted++;
    }
    let sitemaps = 0;
    for (const url of job.sitemaps ?? []) if (add(url, FrontierKind.sitemap)) sitemaps++;
    s.addJobCounts.run(admitted, admitted, sitemaps, seq);
    return s.jobBySeq.get(seq) as JobRow;
  }

  private remove(id: string): 'deleted' | 'live' | 'unknown' {
    const { s } = this.core;
    const row = s.jobById.get(id) as JobRow | undefined;
    if (!row) return 'unknown';
    if (isLive(row.status)) return 'live';
    s.deleteJobPages.run(row.seq);
    s.deleteJobFrontier.run(row.seq);
    s.deleteJobSeeds.run(row.seq);
    s.deleteJob.run(row.seq);
    return 'deleted';
  }

  private end(id: string, status: JobStatus, reason: string, now: number): JobRow | undefined {
    const { s, frontier } = this.core;
    const row = s.jobById.get(id) as JobRow | undefined;
    if (!row || !isLive(row.status)) return row;
    const hosts = s.hostsOfWaiting.all(row.seq) as string[];
    s.dropWaiting.run(row.seq);
    s.endJob.run(status, reason, now, row.seq);
    frontier.dropJob(row.seq, hosts);
    this.core.setLive(row.seq, false);
    const ended = s.jobBySeq.get(row.seq) as JobRow;
    publishJobEnd(s, ended, now);
    return ended;
  }
}


/** Refuses a job of `keyId` over one of its limits (inside the insert's write transaction). */
function admit(keyId: string, limits: NonNullable<NewJob['admission']>, s: SqliteCore['s']): void {
  if (limits.maxRunningJobs != null) {
    const live = s.liveJobsOfKey.get(keyId) as number;
    if (live >= limits.maxRunningJobs) throw quotaExceeded('maxRunningJobs', limits.maxRunningJobs, live);
  }
  if (limits.maxPagesPerDay != null) {
    const pages = s.pagesOfKeySince.get({ key: keyId, since: limits.since }) as number;
    if (pages >= limits.maxPagesPerDay) throw quotaExceeded('maxPagesPerDay', limits.maxPagesPerDay, pages);
  }
}

