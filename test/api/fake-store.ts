/**
 * A small in-memory Store for the API tests, until the SQLite store lands. Only what the API
 * uses is implemented with the store contract's semantics; everything else throws.
 */
import { randomUUID } from 'node:crypto';
import type { Job, ListOptions, JobStatus, NewJob, Page, PageRecord, Store } from '../../src/store/types.ts';

export interface FakeStore extends Store {
  addPage(jobId: string, page: PageRecord): void;
  /** Makes every call fail like an unreachable database. */
  broken: boolean;
}

export function createFakeStore(): FakeStore {
  const jobs: Job[] = [];
  const pages: Page[] = [];
  let nextPageId = 1;
  const unsupported = async (): Promise<never> => {
    throw new Error('not used by the API');
  };

  const store: FakeStore = {
    backend: 'sqlite',
    broken: false,
    async migrate() { return { applied: [], version: 1 }; },
    async ping() { check(); },
    async close() {},
    async createJob(job: NewJob, now = Date.now()) {
      check();
      const seeds = [...new Set(job.seeds)].slice(0, job.options.maxPages);
      const j: Job = {
        id: randomUUID(), status: 'queued', seeds: job.seeds, options: { ...job.options }, source: job.source,
        createdAt: now, startedAt: null, finishedAt: null, reason: null,
        counts: { admitted: seeds.length, queued: seeds.length, inFlight: 0, fetched: 0, failed: 0 },
      };
      jobs.push(j);
      return structuredClone(j);
    },
    async getJob(id) {
      check();
      const j = jobs.find((x) => x.id === id);
      return j && structuredClone(j);
    },
    async listJobs(opts: ListOptions & { status?: JobStatus }) {
      check();
      let list = [...jobs].reverse().filter((j) => opts.status === undefined || j.status === opts.status);
      if (opts.after !== undefined) list = list.slice(list.findIndex((j) => j.id === opts.after) + 1);
      return structuredClone(list.slice(0, opts.limit));
    },
    async cancelJob(id, reason = 'cancelled', now = Date.now()) {
      return finish(id, 'cancelled', reason, now);
    },
    async failJob(id, reason, now = Date.now()) {
      return finish(id, 'failed', reason, now);
    },
    async listPages(jobId, opts) {
      check();
      const after = Number(opts.after ?? 0);
      return structuredClone(pages.filter((p) => p.jobId === jobId && p.id > after).slice(0, opts.limit));
    },
    addPage(jobId, page) {
      pages.push({ ...page, id: nextPageId++, jobId });
    },
    async stats() {
      check();
      return { jobsInQueue: jobs.filter((j) => j.status === 'queued' || j.status === 'running').length, queueDepth: 0 };
    },
    claim: unsupported,
    settle: unsupported,
    extendLeases: unsupported,
    releaseLeases: unsupported,
    requeueExpired: unsupported,
    deferHost: unsupported,
    recordProxyHealth: unsupported,
    listProxyHealth: unsupported,
  };

  function check(): void {
    if (store.broken) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  }

  function finish(id: string, status: 'cancelled' | 'failed', reason: string, now: number): Job | undefined {
    check();
    const j = jobs.find((x) => x.id === id);
    if (!j) return undefined;
    if (j.status === 'queued' || j.status === 'running') {
      j.status = status;
      j.reason = reason;
      j.finishedAt = now;
      j.counts.queued = 0;
    }
    return structuredClone(j);
  }

  return store;
}
