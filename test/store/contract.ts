/**
 * The Store contract: one backend-neutral suite that every Store implementation must pass
 * (SQLite in test/store/sqlite.test.ts, PostgreSQL in its own test file).
 * Every time is an explicit `now` so nothing depends on the clock.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isOwlError } from '../../src/errors.ts';
import type {
  ClaimOptions,
  DiscoveredUrl,
  FrontierEntry,
  Job,
  JobOptions,
  Outcome,
  PageRecord,
  Store,
} from '../../src/store/types.ts';

export interface StoreHarness {
  /** A fresh, migrated, EMPTY store. */
  store: Store;
  /** Closes every handle the harness opened and drops the database. */
  cleanup: () => Promise<void>;
  /**
   * Opens a second handle on the SAME database (a second SQLite connection to the file,
   * a second pool on the PostgreSQL schema), for the concurrent-claim case. The suite closes it.
   * Without it that case is reported as skipped, with the reason.
   */
  openPeer?: () => Promise<Store>;
  /**
   * Inserts `version` into schema_migrations, for the SCHEMA_TOO_NEW case.
   * Without it that case is reported as skipped, with the reason.
   */
  recordSchemaVersion?: (version: number) => Promise<void>;
}

const T0 = 1_700_000_000_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function options(overrides: Partial<JobOptions> = {}): JobOptions {
  return { maxPages: 100, maxDepth: 5, scope: 'host', mode: 'http', respectRobots: true, allowPrivate: false, ...overrides };
}

function claimOpts(overrides: Partial<ClaimOptions> = {}): ClaimOptions {
  return { workerId: 'w1', limit: 100, leaseMs: 10_000, maxPerHost: 100, hostDelayMs: 0, now: T0, ...overrides };
}

function pageOf(entry: FrontierEntry, overrides: Partial<PageRecord> = {}): PageRecord {
  return {
    url: entry.url,
    finalUrl: entry.url,
    statusCode: 200,
    title: `title of ${entry.url}`,
    bytes: 1234,
    fetchMs: 12,
    errorCode: null,
    contentType: 'text/html',
    mode: 'http',
    linksFound: 0,
    depth: entry.depth,
    fetchedAt: T0,
    ...overrides,
  };
}

function done(entry: FrontierEntry, discovered: DiscoveredUrl[] = [], page: Partial<PageRecord> = {}): Outcome {
  return { kind: 'done', entry, page: pageOf(entry, { linksFound: discovered.length, ...page }), discovered };
}

function failed(entry: FrontierEntry, errorCode: string, now = T0): Outcome {
  return { kind: 'failed', entry, page: pageOf(entry, { statusCode: null, title: null, finalUrl: null, bytes: 0, errorCode, fetchedAt: now }) };
}

function link(url: string, depth: number): DiscoveredUrl {
  return { url, host: new URL(url).hostname, depth };
}

function byUrl(entries: FrontierEntry[], url: string): FrontierEntry {
  const e = entries.find((x) => x.url === url);
  assert.ok(e, `no entry for ${url} among ${entries.map((x) => x.url).join(', ')}`);
  return e;
}

function urls(entries: { url: string }[]): string[] {
  return entries.map((e) => e.url).sort();
}

async function mustGetJob(store: Store, id: string): Promise<Job> {
  const job = await store.getJob(id);
  assert.ok(job, `job ${id} not found`);
  return job;
}

/** For a job that was never cancelled or failed by an operator, every admitted URL is in exactly one state. */
function assertBalanced(job: Job): void {
  const c = job.counts;
  assert.equal(c.admitted, c.queued + c.inFlight + c.fetched + c.failed, `unbalanced counts ${JSON.stringify(c)}`);
}

async function allPages(store: Store, jobId: string, pageSize = 100) {
  const out = [];
  let after: number | undefined;
  for (let i = 0; i < 10_000; i++) {
    const page = await store.listPages(jobId, { limit: pageSize, after });
    out.push(...page);
    if (page.length < pageSize) return out;
    after = page[page.length - 1]!.id;
  }
  throw new Error('listPages never ended');
}

/**
 * Registers the contract cases. `makeStore` gives a fresh, migrated, EMPTY store per case;
 * `cleanup` closes and drops it.
 */
export function runStoreContract(name: string, makeStore: () => Promise<StoreHarness>): void {
  async function withStore(fn: (store: Store, harness: StoreHarness) => Promise<void>): Promise<void> {
    const harness = await makeStore();
    try {
      await fn(harness.store, harness);
    } finally {
      await harness.cleanup();
    }
  }

  describe(`Store contract: ${name}`, () => {
    describe('migrations and lifecycle', () => {
      it('migrate() is idempotent and reports the version', () =>
        withStore(async (store) => {
          const again = await store.migrate();
          assert.deepEqual(again.applied, []);
          assert.ok(Number.isInteger(again.version) && again.version >= 1);
          assert.equal((await store.migrate()).version, again.version);
          assert.ok(store.backend === 'sqlite' || store.backend === 'postgres');
          await store.ping();
        }));

      it('migrate() refuses a database newer than the code (SCHEMA_TOO_NEW)', async (t) => {
        const harness = await makeStore();
        try {
          if (!harness.recordSchemaVersion) {
            t.skip('the harness gives no recordSchemaVersion');
            return;
          }
          const { version } = await harness.store.migrate();
          await harness.recordSchemaVersion(version + 1000);
          await assert.rejects(harness.store.migrate(), (e: unknown) => isOwlError(e, 'SCHEMA_TOO_NEW'));
        } finally {
          await harness.cleanup();
        }
      });
    });

    describe('jobs', () => {
      it('createJob stores a queued job with its seeds admitted at depth 0', () =>
        withStore(async (store) => {
          const opts = options({ maxPages: 10, maxDepth: 3, scope: 'domain', mode: 'auto', respectRobots: false, allowPrivate: true });
          const job = await store.createJob({ seeds: ['http://a.test/', 'http://b.test:8080/x'], options: opts, source: 'cli' }, T0);
          assert.match(job.id, UUID);
          assert.equal(job.status, 'queued');
          assert.deepEqual(job.seeds, ['http://a.test/', 'http://b.test:8080/x']);
          assert.deepEqual(job.options, opts);
          assert.equal(job.source, 'cli');
          assert.equal(job.createdAt, T0);
          assert.equal(job.startedAt, null);
          assert.equal(job.finishedAt, null);
          assert.equal(job.reason, null);
          assert.deepEqual(job.counts, { admitted: 2, queued: 2, inFlight: 0, fetched: 0, failed: 0 });
          assert.deepEqual(await store.getJob(job.id), job);

          const entries = await store.claim(claimOpts({ modes: ['auto'] }));
          assert.deepEqual(urls(entries), ['http://a.test/', 'http://b.test:8080/x']);
          const b = byUrl(entries, 'http://b.test:8080/x');
          assert.equal(b.host, 'b.test', 'the host of a seed is its lower-case host name without port');
          assert.equal(b.depth, 0);
          assert.equal(b.attempts, 0);
          assert.equal(b.jobId, job.id);
          assert.deepEqual(b.job.options, opts);
        }));

      it('createJob de-duplicates seeds and admits at most maxPages of them', () =>
        withStore(async (store) => {
          const job = await store.createJob(
            { seeds: ['http://a.test/1', 'http://a.test/1', 'http://a.test/2', 'http://a.test/3'], options: options({ maxPages: 2 }), source: 'api' },
            T0,
          );
          assert.deepEqual(job.counts, { admitted: 2, queued: 2, inFlight: 0, fetched: 0, failed: 0 });
          assert.deepEqual(urls(await store.claim(claimOpts())), ['http://a.test/1', 'http://a.test/2']);
        }));

      it('two jobs may hold the same URL', () =>
        withStore(async (store) => {
          await store.createJob({ seeds: ['http://a.test/'], options: options(), source: 'api' }, T0);
          await store.createJob({ seeds: ['http://a.test/'], options: options(), source: 'api' }, T0 + 1);
          assert.equal((await store.claim(claimOpts())).length, 2);
        }));

      it('getJob of an unknown id is undefined', () =>
        withStore(async (store) => {
          assert.equal(await store.getJob('00000000-0000-4000-8000-000000000000'), undefined);
        }));

      it('listJobs: newest first, keyset pages by the last id, status filter', () =>
        withStore(async (store) => {
          const ids: string[] = [];
          for (let i = 0; i < 5; i++) {
            ids.push((await store.createJob({ seeds: [`http://a.test/${i}`], options: options(), source: 'api' }, T0 + i * 1000)).id);
          }
          const newestFirst = [...ids].reverse();
          const first = await store.listJobs({ limit: 2 });
          assert.deepEqual(first.map((j) => j.id), newestFirst.slice(0, 2));
          const second = await store.listJobs({ limit: 2, after: first[1]!.id });
          assert.deepEqual(second.map((j) => j.id), newestFirst.slice(2, 4));
          const third = await store.listJobs({ limit: 2, after: second[1]!.id });
          assert.deepEqual(third.map((j) => j.id), newestFirst.slice(4));

          await store.cancelJob(ids[1]!, 'stop', T0 + 10_000);
          await store.cancelJob(ids[3]!, 'stop', T0 + 10_000);
          const cancelled = await store.listJobs({ limit: 10, status: 'cancelled' });
          assert.deepEqual(cancelled.map((j) => j.id), [ids[3], ids[1]]);
          const queued = await store.listJobs({ limit: 1, status: 'queued', after: ids[4] });
          assert.deepEqual(queued.map((j) => j.id), [ids[2]]);
          assert.equal((await store.listJobs({ limit: 10, status: 'running' })).length, 0);
        }));
    });

    describe('claim', () => {
      it('leases with a fresh token, a deadline and the worker; the job starts running', () =>
        withStore(async (store) => {
          const job = await store.createJob({ seeds: ['http://a.test/1', 'http://b.test/1'], options: options(), source: 'api' }, T0);
          const entries = await store.claim(claimOpts({ now: T0 + 50, leaseMs: 5000 }));
          assert.equal(entries.length, 2);
          for (const e of entries) {
            assert.equal(e.leaseUntil, T0 + 5050);
            assert.equal(typeof e.leaseToken, 'string');
            assert.ok(e.leaseToken.length >= 8);
            assert.ok(Number.isInteger(e.id));
          }
          assert.notEqual(entries[0]!.leaseToken, entries[1]!.leaseToken);
          const running = await mustGetJob(store, job.id);
          assert.equal(running.status, 'running');
          assert.equal(running.startedAt, T0 + 50);
          assert.deepEqual(running.counts, { admitted: 2, queued: 0, inFlight: 2, fetched: 0, failed: 0 });
          assert.deepEqual(await store.claim(claimOpts({ now: T0 + 60, workerId: 'w2' })), [], 'a leased URL is not claimed twice');

          // startedAt is set by the first claim only
          await store.settle([done(entries[0]!, [link('http://a.test/2', 1)])], T0 + 100);
          await store.claim(claimOpts({ now: T0 + 200 }));
          assert.equal((await mustGetJob(store, job.id)).startedAt, T0 + 50);
        }));

      it('claims nothing when the limit is 0 or the frontier is empty', () =>
        withStore(async (store) => {
          assert.deepEqual(await store.claim(claimOpts()), []);
          await store.createJob({ seeds: ['http://a.test/'], options: options(), source: 'api' }, T0);
          assert.deepEqual(await store.claim(claimOpts({ limit: 0 })), []);
        }));

      it('takes the oldest entries first but round-robins across hosts', () =>
        withStore(async (store) => {
          const seeds = ['http://a.test/1', 'http://a.test/2', 'http://a.test/3', 'http://a.test/4', 'http://b.test/1', 'http://c.test/1', 'http://c.test/2'];
          await store.createJob({ seeds, options: options(), source: 'api' }, T0);
          const first = await store.claim(claimOpts({ limit: 4 }));
          assert.deepEqual(urls(first), ['http://a.test/1', 'http://a.test/2', 'http://b.test/1', 'http://c.test/1']);
          const second = await store.claim(claimOpts({ limit: 2 }));
          assert.deepEqual(urls(second), ['http://a.test/3', 'http://c.test/2']);
          const third = await store.claim(claimOpts({ limit: 2 }));
          assert.deepEqual(urls(third), ['http://a.test/4']);
        }));

      it('respects maxPerHost across workers; expired leases do not count and are claimable again', () =>
        withStore(async (store) => {
          const seeds = ['http://a.test/1', 'http://a.test/2', 'http://a.test/3', 'http://b.test/1'];
          await store.createJob({ seeds, options: options(), source: 'api' }, T0);
          const first = await store.claim(claimOpts({ maxPerHost: 2, leaseMs: 1000 }));
          assert.deepEqual(urls(first), ['http://a.test/1', 'http://a.test/2', 'http://b.test/1']);
          assert.deepEqual(await store.claim(claimOpts({ maxPerHost: 2, workerId: 'w2', now: T0 + 10 })), []);

          const settled = await store.settle([done(byUrl(first, 'http://a.test/1'))], T0 + 20);
          assert.deepEqual(settled.accepted, [true]);
          const second = await store.claim(claimOpts({ maxPerHost: 2, workerId: 'w2', now: T0 + 30 }));
          assert.deepEqual(urls(second), ['http://a.test/3']);

          // a.test/2 and b.test/1 (leased until T0+1000) expired; a.test/3 (until T0+10030) still counts
          const third = await store.claim(claimOpts({ maxPerHost: 2, workerId: 'w3', now: T0 + 1000, leaseMs: 1000 }));
          assert.deepEqual(urls(third), ['http://a.test/2', 'http://b.test/1']);
          assert.equal(byUrl(third, 'http://a.test/2').attempts, 0);
          const stale = await store.settle([done(byUrl(first, 'http://a.test/2'))], T0 + 1001);
          assert.deepEqual(stale.accepted, [false], 'the first lease of a re-leased URL is stale');
          const fresh = await store.settle([done(byUrl(third, 'http://a.test/2'))], T0 + 1002);
          assert.deepEqual(fresh.accepted, [true]);
        }));

      it('with hostDelayMs, one entry per host per claim and the host waits the delay', () =>
        withStore(async (store) => {
          const seeds = ['http://a.test/1', 'http://a.test/2', 'http://b.test/1', 'http://b.test/2'];
          await store.createJob({ seeds, options: options(), source: 'api' }, T0);
          const o = { hostDelayMs: 1000, maxPerHost: 10 };
          assert.deepEqual(urls(await store.claim(claimOpts({ ...o }))), ['http://a.test/1', 'http://b.test/1']);
          assert.deepEqual(await store.claim(claimOpts({ ...o, now: T0 + 999 })), []);
          assert.deepEqual(urls(await store.claim(claimOpts({ ...o, now: T0 + 1000, limit: 1 }))), ['http://a.test/2']);
          assert.deepEqual(urls(await store.claim(claimOpts({ ...o, now: T0 + 1000 }))), ['http://b.test/2']);
        }));

      it('deferHost keeps every worker off a host; it never shortens a deferral', () =>
        withStore(async (store) => {
          await store.createJob({ seeds: ['http://a.test/1', 'http://b.test/1'], options: options(), source: 'api' }, T0);
          await store.deferHost('a.test', T0 + 5000);
          await store.deferHost('a.test', T0 + 10);
          assert.deepEqual(urls(await store.claim(claimOpts())), ['http://b.test/1']);
          assert.deepEqual(await store.claim(claimOpts({ now: T0 + 4999 })), []);
          assert.deepEqual(urls(await store.claim(claimOpts({ now: T0 + 5000 }))), ['http://a.test/1']);
        }));

      it('only claims entries of jobs whose mode is in modes', () =>
        withStore(async (store) => {
          await store.createJob({ seeds: ['http://a.test/browser'], options: options({ mode: 'browser' }), source: 'api' }, T0);
          await store.createJob({ seeds: ['http://a.test/http'], options: options({ mode: 'http' }), source: 'api' }, T0);
          await store.createJob({ seeds: ['http://a.test/auto'], options: options({ mode: 'auto' }), source: 'api' }, T0);
          assert.deepEqual(urls(await store.claim(claimOpts({ modes: ['http'] }))), ['http://a.test/http']);
          assert.deepEqual(urls(await store.claim(claimOpts({ modes: ['http', 'auto'] }))), ['http://a.test/auto']);
          assert.deepEqual(urls(await store.claim(claimOpts())), ['http://a.test/browser']);
        }));

      it('never claims entries of finished or cancelled jobs', () =>
        withStore(async (store) => {
          const a = await store.createJob({ seeds: ['http://a.test/1', 'http://a.test/2'], options: options(), source: 'api' }, T0);
          const b = await store.createJob({ seeds: ['http://b.test/1', 'http://b.test/2'], options: options(), source: 'api' }, T0);
          await store.cancelJob(a.id, 'operator', T0 + 1);
          await store.failJob(b.id, 'broken', T0 + 1);
          assert.deepEqual(await store.claim(claimOpts({ now: T0 + 2 })), []);
        }));
    });

    describe('settle', () => {
      it('done: records the page, admits new links within maxDepth and maxPages, in order', () =>
        withStore(async (store) => {
          const job = await store.createJob({ seeds: ['http://a.test/', 'http://a.test/seed2'], options: options({ maxPages: 4, maxDepth: 1 }), source: 'api' }, T0);
          const [seed] = await store.claim(claimOpts({ limit: 1 }));
          assert.ok(seed);
          const discovered = [
            link('http://a.test/seed2', 1), // already admitted
            link('http://a.test/x', 1),
            link('http://a.test/x', 1), // twice in the list
            link('http://b.test/deep', 2), // beyond maxDepth
            link('http://b.test/y', 1),
            link('http://a.test/z', 1), // over maxPages
          ];
          const res = await store.settle([done(seed, discovered)], T0 + 10);
          assert.deepEqual(res.accepted, [true]);
          assert.equal(res.enqueued, 2);
          assert.deepEqual(res.finishedJobs, []);

          const after = await mustGetJob(store, job.id);
          assert.deepEqual(after.counts, { admitted: 4, queued: 3, inFlight: 0, fetched: 1, failed: 0 });
          const next = await store.claim(claimOpts({ now: T0 + 20 }));
          assert.deepEqual(urls(next), ['http://a.test/seed2', 'http://a.test/x', 'http://b.test/y']);
          assert.equal(byUrl(next, 'http://b.test/y').host, 'b.test');
          assert.equal(byUrl(next, 'http://b.test/y').depth, 1);

          const pages = await store.listPages(job.id, { limit: 10 });
          assert.equal(pages.length, 1);
          assert.equal(typeof pages[0]!.id, 'number');
          assert.deepEqual(pages[0], { id: pages[0]!.id, jobId: job.id, ...pageOf(seed, { linksFound: discovered.length }) });
        }));

      it('settleAndClaim (where a backend offers it) equals settle then claim, in one step', (t) =>
        withStore(async (store) => {
          if (!store.settleAndClaim) {
            t.skip(`${store.backend} has no settleAndClaim (optional)`);
            return;
          }
          const job = await store.createJob({ seeds: ['http://a.test/1', 'http://b.test/1'], options: options({ maxPages: 10 }), source: 'api' }, T0);
          const first = await store.claim(claimOpts({ limit: 1 }));
          assert.deepEqual(urls(first), ['http://a.test/1']);
          const { settled, entries } = await store.settleAndClaim([done(first[0]!, [link('http://a.test/2', 1)])], claimOpts({ limit: 5, now: T0 + 10 }), T0 + 10);
          assert.deepEqual(settled.accepted, [true]);
          assert.equal(settled.enqueued, 1);
          // The claim sees what the settle admitted and the host slot it freed.
          assert.deepEqual(urls(entries).sort(), ['http://a.test/2', 'http://b.test/1']);
          const stale = await store.settleAndClaim([done(first[0]!)], claimOpts({ limit: 5, now: T0 + 20 }), T0 + 20);
          assert.deepEqual(stale.settled.accepted, [false]);
          assert.deepEqual(stale.entries, []);
          assert.deepEqual((await mustGetJob(store, job.id)).counts, { admitted: 3, queued: 0, inFlight: 2, fetched: 1, failed: 0 });
        }));

      it('settleFreesSlotsAtOnce (where a backend says so): a claim right after settle() has its slot; its links once it resolved', (t) =>
        withStore(async (store) => {
          if (!store.settleFreesSlotsAtOnce) {
            t.skip(`${store.backend} settles and claims in one transaction instead (settleAndClaim)`);
            return;
          }
          const job = await store.createJob({ seeds: ['http://a.test/1', 'http://a.test/2'], options: options(), source: 'api' }, T0);
          const one = claimOpts({ maxPerHost: 1 });
          const [first] = await store.claim(one);
          assert.ok(first);
          assert.deepEqual(await store.claim({ ...one, now: T0 + 1 }), [], 'the host is full');
          const settling = store.settle([done(first, [link('http://a.test/3', 1)])], T0 + 2);
          const second = await store.claim({ ...one, now: T0 + 3 });
          assert.deepEqual(urls(second), ['http://a.test/2'], 'the slot is free before the settle resolved');
          const settled = await settling;
          assert.deepEqual(settled.accepted, [true]);
          assert.equal(settled.enqueued, 1);
          // Nothing else is claimable: the claim does not wait for the group commit to see a.test/4.
          void store.settle([done(second[0]!, [link('http://a.test/4', 1)])], T0 + 4);
          const third = await store.claim({ ...one, now: T0 + 5 });
          assert.deepEqual(urls(third), ['http://a.test/3']);
          await store.settle([done(third[0]!)], T0 + 6);
          assert.deepEqual(urls(await store.claim({ ...one, now: T0 + 7 })), ['http://a.test/4']);
          assert.deepEqual((await mustGetJob(store, job.id)).counts, { admitted: 4, queued: 0, inFlight: 1, fetched: 3, failed: 0 });
        }));

      it('a stale or repeated outcome is refused and changes nothing', () =>
        withStore(async (store) => {
          const job = await store.createJob({ seeds: ['http://a.test/1', 'http://a.test/2'], options: options(), source: 'api' }, T0);
          const [e1, e2] = await store.claim(claimOpts());
          assert.ok(e1 && e2);
          const forged = { ...e2, leaseToken: 'not-the-token' };
          const res = await store.settle([done(e1, [link('http://a.test/3', 1)]), done(e1, [link('http://a.test/4', 1)]), done(forged)], T0 + 1);
          assert.deepEqual(res.accepted, [true, false, false]);
          assert.equal(res.enqueued, 1);
          const again = await store.settle([done(e1, [link('http://a.test/5', 1)]), failed(e1, 'timeout')], T0 + 2);
          assert.deepEqual(again, { accepted: [false, false], enqueued: 0, finishedJobs: [] });
          const j = await mustGetJob(store, job.id);
          assert.deepEqual(j.counts, { admitted: 3, queued: 1, inFlight: 1, fetched: 1, failed: 0 });
          assert.equal((await store.listPages(job.id, { limit: 10 })).length, 1);
        }));

      it('retry: back to the queue with one more attempt, not before notBefore; no page', () =>
        withStore(async (store) => {
          const job = await store.createJob({ seeds: ['http://a.test/1'], options: options(), source: 'api' }, T0);
          const [e] = await store.claim(claimOpts());
          assert.ok(e);
          const res = await store.settle([{ kind: 'retry', entry: e, notBefore: T0 + 500, errorCode: 'http_429' }], T0 + 1);
          assert.deepEqual(res, { accepted: [true], enqueued: 0, finishedJobs: [] });
          const j = await mustGetJob(store, job.id);
          assert.equal(j.status, 'running');
          assert.deepEqual(j.counts, { admitted: 1, queued: 1, inFlight: 0, fetched: 0, failed: 0 });
          assert.deepEqual(await store.claim(claimOpts({ now: T0 + 499 })), []);
          const [again] = await store.claim(claimOpts({ now: T0 + 500 }));
          assert.ok(again);
          assert.equal(again.id, e.id);
          assert.equal(again.attempts, 1);
          assert.notEqual(again.leaseToken, e.leaseToken);
          assert.equal((await store.listPages(job.id, { limit: 10 })).length, 0);
        }));

      it('failed: records the error page; a job with only failures fails with the most frequent code', () =>
        withStore(async (store) => {
          const seeds = ['http://a.test/1', 'http://a.test/2', 'http://a.test/3'];
          const job = await store.createJob({ seeds, options: options(), source: 'api' }, T0);
          const entries = await store.claim(claimOpts());
          const res1 = await store.settle([failed(entries[0]!, 'timeout'), failed(entries[1]!, 'network')], T0 + 5);
          assert.deepEqual(res1.finishedJobs, []);
          const mid = await mustGetJob(store, job.id);
          assert.equal(mid.status, 'running');
          assert.deepEqual(mid.counts, { admitted: 3, queued: 0, inFlight: 1, fetched: 0, failed: 2 });
          const res2 = await store.settle([failed(entries[2]!, 'timeout')], T0 + 9);
          assert.deepEqual(res2.finishedJobs, [{ id: job.id, status: 'failed', reason: 'timeout' }]);
          const end = await mustGetJob(store, job.id);
          assert.equal(end.status, 'failed');
          assert.equal(end.reason, 'timeout');
          assert.equal(end.finishedAt, T0 + 9);
          assert.deepEqual(end.counts, { admitted: 3, queued: 0, inFlight: 0, fetched: 0, failed: 3 });
          const pages = await store.listPages(job.id, { limit: 10 });
          assert.deepEqual(pages.map((p) => p.errorCode).sort(), ['network', 'timeout', 'timeout']);
        }));

      it('a tie between error codes is broken by the code name', () =>
        withStore(async (store) => {
          const job = await store.createJob({ seeds: ['http://a.test/1', 'http://a.test/2'], options: options(), source: 'api' }, T0);
          const entries = await store.claim(claimOpts());
          const res = await store.settle([failed(entries[0]!, 'timeout'), failed(entries[1]!, 'http_404')], T0 + 1);
          assert.deepEqual(res.finishedJobs, [{ id: job.id, status: 'failed', reason: 'http_404' }]);
        }));

      it('a job with at least one fetched page finishes done, reported exactly once', () =>
        withStore(async (store) => {
          const job = await store.createJob({ seeds: ['http://a.test/1', 'http://a.test/2'], options: options(), source: 'api' }, T0);
          const entries = await store.claim(claimOpts());
          const [e1, e2] = entries;
          assert.ok(e1 && e2);
          const r1 = await store.settle([{ kind: 'retry', entry: e1, notBefore: T0, errorCode: 'timeout' }, failed(e2, 'http_404')], T0 + 1);
          assert.deepEqual(r1.finishedJobs, [], 'a URL waiting for its retry keeps the job open');
          const [again] = await store.claim(claimOpts({ now: T0 + 2 }));
          assert.ok(again);
          const r2 = await store.settle([done(again)], T0 + 3);
          assert.deepEqual(r2.finishedJobs, [{ id: job.id, status: 'done', reason: null }]);
          const r3 = await store.settle([done(again)], T0 + 4);
          assert.deepEqual(r3, { accepted: [false], enqueued: 0, finishedJobs: [] });
          const end = await mustGetJob(store, job.id);
          assert.equal(end.status, 'done');
          assert.equal(end.reason, null);
          assert.equal(end.finishedAt, T0 + 3);
          assert.deepEqual(end.counts, { admitted: 2, queued: 0, inFlight: 0, fetched: 1, failed: 1 });
          assertBalanced(end);
        }));

      it('settles outcomes of several jobs in one call and finishes each', () =>
        withStore(async (store) => {
          const a = await store.createJob({ seeds: ['http://a.test/'], options: options(), source: 'api' }, T0);
          const b = await store.createJob({ seeds: ['http://b.test/'], options: options(), source: 'api' }, T0);
          const entries = await store.claim(claimOpts());
          const ea = entries.find((e) => e.jobId === a.id);
          const eb = entries.find((e) => e.jobId === b.id);
          assert.ok(ea && eb);
          const res = await store.settle([done(ea), failed(eb, 'captcha')], T0 + 1);
          const finished = [...res.finishedJobs].sort((x, y) => (x.id === a.id ? -1 : y.id === a.id ? 1 : 0));
          assert.deepEqual(finished, [
            { id: a.id, status: 'done', reason: null },
            { id: b.id, status: 'failed', reason: 'captcha' },
          ]);
          assert.deepEqual(await store.stats(), { jobsInQueue: 0, queueDepth: 0 });
        }));

      it('a settle that throws midway leaves nothing half-applied', () =>
        withStore(async (store) => {
          const job = await store.createJob({ seeds: ['http://a.test/1', 'http://a.test/2'], options: options(), source: 'api' }, T0);
          const [e1, e2] = await store.claim(claimOpts());
          assert.ok(e1 && e2);
          const good = done(e1, [link('http://a.test/new', 1)]);
          const bomb = { kind: 'done', entry: e2, discovered: [] } as unknown as Outcome;
          Object.defineProperty(bomb, 'page', {
            enumerable: true,
            get() {
              throw new Error('boom inside settle');
            },
          });
          await assert.rejects(store.settle([good, bomb], T0 + 1), /boom inside settle/);

          const j = await mustGetJob(store, job.id);
          assert.deepEqual(j.counts, { admitted: 2, queued: 0, inFlight: 2, fetched: 0, failed: 0 });
          assert.equal((await store.listPages(job.id, { limit: 10 })).length, 0);
          assert.deepEqual(await store.stats(), { jobsInQueue: 1, queueDepth: 0 });
          // the leases survived: the same outcomes apply cleanly afterwards
          const res = await store.settle([good, done(e2)], T0 + 2);
          assert.deepEqual(res.accepted, [true, true]);
          assert.equal(res.enqueued, 1);
        }));
    });

    describe('cancel and fail', () => {
      it('cancelJob drops waiting URLs; outcomes of leased ones are recorded but admit nothing', () =>
        withStore(async (store) => {
          const job = await store.createJob({ seeds: ['http://a.test/1', 'http://a.test/2', 'http://a.test/3'], options: options(), source: 'api' }, T0);
          const [leased] = await store.claim(claimOpts({ limit: 1 }));
          assert.ok(leased);
          const cancelled = await store.cancelJob(job.id, 'operator said so', T0 + 10);
          assert.ok(cancelled);
          assert.equal(cancelled.status, 'cancelled');
          assert.equal(cancelled.reason, 'operator said so');
          assert.equal(cancelled.finishedAt, T0 + 10);
          assert.deepEqual(cancelled.counts, { admitted: 3, queued: 0, inFlight: 1, fetched: 0, failed: 0 });
          assert.deepEqual(await store.stats(), { jobsInQueue: 0, queueDepth: 0 });
          assert.deepEqual(await store.claim(claimOpts({ now: T0 + 11 })), []);

          const res = await store.settle([done(leased, [link('http://a.test/new', 1)])], T0 + 12);
          assert.deepEqual(res, { accepted: [true], enqueued: 0, finishedJobs: [] });
          const end = await mustGetJob(store, job.id);
          assert.equal(end.status, 'cancelled');
          assert.equal(end.finishedAt, T0 + 10);
          assert.deepEqual(end.counts, { admitted: 3, queued: 0, inFlight: 0, fetched: 1, failed: 0 });
          assert.equal((await store.listPages(job.id, { limit: 10 })).length, 1);

          const again = await store.cancelJob(job.id, 'twice', T0 + 20);
          assert.deepEqual(again, end, 'cancelling a finished job changes nothing');
          assert.equal(await store.cancelJob('00000000-0000-4000-8000-000000000000'), undefined);
        }));

      it('failJob marks a live job failed with the reason; a finished job is returned unchanged', () =>
        withStore(async (store) => {
          const job = await store.createJob({ seeds: ['http://a.test/1', 'http://a.test/2'], options: options(), source: 'api' }, T0);
          const failedJob = await store.failJob(job.id, 'bad seeds', T0 + 5);
          assert.ok(failedJob);
          assert.equal(failedJob.status, 'failed');
          assert.equal(failedJob.reason, 'bad seeds');
          assert.equal(failedJob.finishedAt, T0 + 5);
          assert.equal(failedJob.counts.queued, 0);
          assert.deepEqual(await store.failJob(job.id, 'again', T0 + 6), failedJob);
          assert.deepEqual(await store.cancelJob(job.id, 'late', T0 + 7), failedJob);
          assert.equal(await store.failJob('00000000-0000-4000-8000-000000000000', 'x'), undefined);

          const other = await store.createJob({ seeds: ['http://b.test/1'], options: options(), source: 'api' }, T0);
          const [e] = await store.claim(claimOpts());
          assert.ok(e);
          await store.settle([done(e)], T0 + 1);
          const finished = await mustGetJob(store, other.id);
          assert.equal(finished.status, 'done');
          assert.deepEqual(await store.failJob(other.id, 'too late', T0 + 2), finished);
        }));
    });

    describe('leases', () => {
      it('extendLeases prolongs only leases whose token matches', () =>
        withStore(async (store) => {
          await store.createJob({ seeds: ['http://a.test/1', 'http://a.test/2'], options: options(), source: 'api' }, T0);
          const [e1, e2] = await store.claim(claimOpts({ leaseMs: 1000 }));
          assert.ok(e1 && e2);
          await store.extendLeases([{ id: e1.id, leaseToken: e1.leaseToken }, { id: e2.id, leaseToken: 'wrong' }], 5000, T0 + 900);
          assert.equal(await store.requeueExpired(T0 + 1000), 1);
          assert.equal(await store.requeueExpired(T0 + 5899), 0);
          assert.equal(await store.requeueExpired(T0 + 5900), 1);
        }));

      it('releaseLeases returns one worker\'s URLs to the queue with attempts unchanged', () =>
        withStore(async (store) => {
          const job = await store.createJob({ seeds: ['http://a.test/1', 'http://a.test/2', 'http://a.test/3'], options: options(), source: 'api' }, T0);
          const mine = await store.claim(claimOpts({ workerId: 'w1', limit: 2 }));
          const theirs = await store.claim(claimOpts({ workerId: 'w2', limit: 2 }));
          assert.equal(mine.length, 2);
          assert.equal(theirs.length, 1);
          assert.equal(await store.releaseLeases('w1'), 2);
          assert.equal(await store.releaseLeases('w1'), 0);
          assert.deepEqual((await mustGetJob(store, job.id)).counts, { admitted: 3, queued: 2, inFlight: 1, fetched: 0, failed: 0 });
          const back = await store.claim(claimOpts({ workerId: 'w3', now: T0 + 1 }));
          assert.deepEqual(urls(back), urls(mine));
          for (const e of back) assert.equal(e.attempts, 0);
          assert.deepEqual((await store.settle([done(mine[0]!)], T0 + 2)).accepted, [false]);
          assert.deepEqual((await store.settle([done(theirs[0]!)], T0 + 2)).accepted, [true]);
        }));

      it('requeueExpired returns only expired leases to the queue', () =>
        withStore(async (store) => {
          const job = await store.createJob({ seeds: ['http://a.test/1', 'http://b.test/1'], options: options(), source: 'api' }, T0);
          await store.claim(claimOpts({ limit: 1, leaseMs: 100 }));
          await store.claim(claimOpts({ limit: 1, leaseMs: 1000 }));
          assert.equal(await store.requeueExpired(T0 + 99), 0);
          assert.equal(await store.requeueExpired(T0 + 100), 1);
          assert.deepEqual((await mustGetJob(store, job.id)).counts, { admitted: 2, queued: 1, inFlight: 1, fetched: 0, failed: 0 });
          assert.deepEqual(await store.stats(), { jobsInQueue: 1, queueDepth: 1 });
        }));
    });

    describe('results, proxies, stats', () => {
      it('listPages: oldest first, keyset pages by page id, only the job\'s pages', () =>
        withStore(async (store) => {
          const seeds = Array.from({ length: 7 }, (_, i) => `http://a.test/${i}`);
          const job = await store.createJob({ seeds, options: options(), source: 'api' }, T0);
          const other = await store.createJob({ seeds: ['http://b.test/'], options: options(), source: 'api' }, T0);
          const entries = (await store.claim(claimOpts())).sort((x, y) => x.id - y.id);
          await store.settle(entries.map((e) => done(e)), T0 + 1);
          const pages = await store.listPages(job.id, { limit: 3 });
          assert.equal(pages.length, 3);
          const all = await allPages(store, job.id, 3);
          assert.equal(all.length, 7);
          assert.deepEqual(all.slice(0, 3), pages);
          const ids = all.map((p) => p.id);
          assert.deepEqual(ids, [...ids].sort((x, y) => x - y));
          assert.equal(new Set(ids).size, 7);
          assert.ok(all.every((p) => p.jobId === job.id));
          assert.deepEqual(urls(all), [...seeds].sort());
          assert.deepEqual(await store.listPages(job.id, { limit: 3, after: ids[6] }), []);
          assert.equal((await store.listPages(other.id, { limit: 10 })).length, 1);
        }));

      it('proxy health is upserted by proxy and listed', () =>
        withStore(async (store) => {
          assert.deepEqual(await store.listProxyHealth(), []);
          await store.recordProxyHealth({ proxy: 'http://p1:8080', failures: 1, cooldownUntil: T0 + 100, lastError: 'proxy' });
          await store.recordProxyHealth({ proxy: 'http://p2:8080', failures: 0, cooldownUntil: 0, lastError: null });
          await store.recordProxyHealth({ proxy: 'http://p1:8080', failures: 3, cooldownUntil: T0 + 900, lastError: 'timeout' });
          const list = (await store.listProxyHealth()).sort((a, b) => a.proxy.localeCompare(b.proxy));
          assert.deepEqual(list, [
            { proxy: 'http://p1:8080', failures: 3, cooldownUntil: T0 + 900, lastError: 'timeout' },
            { proxy: 'http://p2:8080', failures: 0, cooldownUntil: 0, lastError: null },
          ]);
        }));

      it('stats counts live jobs and the URLs waiting in them', () =>
        withStore(async (store) => {
          assert.deepEqual(await store.stats(), { jobsInQueue: 0, queueDepth: 0 });
          const a = await store.createJob({ seeds: ['http://a.test/1', 'http://a.test/2', 'http://a.test/3'], options: options(), source: 'api' }, T0);
          await store.createJob({ seeds: ['http://b.test/1', 'http://b.test/2'], options: options(), source: 'api' }, T0);
          const c = await store.createJob({ seeds: ['http://c.test/1'], options: options(), source: 'api' }, T0);
          assert.deepEqual(await store.stats(), { jobsInQueue: 3, queueDepth: 6 });
          await store.cancelJob(c.id, 'stop', T0 + 1);
          assert.deepEqual(await store.stats(), { jobsInQueue: 2, queueDepth: 5 });
          const [e] = await store.claim(claimOpts({ limit: 1, now: T0 + 2 }));
          assert.ok(e);
          assert.deepEqual(await store.stats(), { jobsInQueue: 2, queueDepth: 4 });
          await store.settle([{ kind: 'retry', entry: e, notBefore: T0 + 1000, errorCode: 'timeout' }], T0 + 3);
          assert.deepEqual(await store.stats(), { jobsInQueue: 2, queueDepth: 5 }, 'a URL waiting for its retry is waiting');
          await store.failJob(a.id, 'x', T0 + 4);
          assert.deepEqual(await store.stats(), { jobsInQueue: 1, queueDepth: 2 });
        }));
    });

    describe('concurrency and scale', () => {
      it('two handles on one database claiming concurrently never lease the same URL', async (t) => {
        const harness = await makeStore();
        let peer: Store | undefined;
        try {
          if (!harness.openPeer) {
            t.skip('the harness gives no openPeer');
            return;
          }
          peer = await harness.openPeer();
          const store = harness.store;
          const seeds = Array.from({ length: 300 }, (_, i) => `http://h${i % 7}.test/${i}`);
          const job = await store.createJob({ seeds, options: options({ maxPages: 1000 }), source: 'api' }, T0);
          const seen = new Map<number, string>();
          for (let round = 0; round < 50 && seen.size < seeds.length; round++) {
            const batches = await Promise.all(
              [store, peer, store, peer].map((s, i) => s.claim(claimOpts({ workerId: `w${i}`, limit: 20, now: T0 + round }))),
            );
            for (const [i, batch] of batches.entries()) {
              for (const e of batch) {
                assert.ok(!seen.has(e.id), `entry ${e.id} leased by w${i} and ${seen.get(e.id)}`);
                seen.set(e.id, `w${i}`);
              }
            }
          }
          assert.equal(seen.size, seeds.length);
          const j = await mustGetJob(peer, job.id);
          assert.deepEqual(j.counts, { admitted: 300, queued: 0, inFlight: 300, fetched: 0, failed: 0 });
        } finally {
          await peer?.close();
          await harness.cleanup();
        }
      });

      it('a 1,000-URL job runs end to end through claim and settle with consistent counts', () =>
        withStore(async (store) => {
          const job = await store.createJob({ seeds: ['http://h0.test/0'], options: options({ maxPages: 1000, maxDepth: 20 }), source: 'api' }, T0);
          let now = T0;
          let next = 1;
          const finished: unknown[] = [];
          let enqueued = 0;
          let retried = 0;
          let failures = 0;
          for (let round = 0; round < 500; round++) {
            now += 10;
            const entries = await store.claim(claimOpts({ limit: 50, maxPerHost: 20, now }));
            if (entries.length === 0) break;
            const outcomes: Outcome[] = entries.map((e) => {
              const n = Number(new URL(e.url).pathname.slice(1));
              if (n % 10 === 3 && e.attempts === 0) {
                retried++;
                return { kind: 'retry', entry: e, notBefore: now, errorCode: 'timeout' };
              }
              if (n % 37 === 5) {
                failures++;
                return failed(e, 'http_404', now);
              }
              const discovered = Array.from({ length: 20 }, () => {
                const k = next++;
                return link(`http://h${k % 9}.test/${k}`, e.depth + 1);
              });
              return done(e, discovered, { fetchedAt: now });
            });
            const res = await store.settle(outcomes, now);
            assert.ok(res.accepted.every(Boolean));
            enqueued += res.enqueued;
            finished.push(...res.finishedJobs);
            const mid = await mustGetJob(store, job.id);
            assertBalanced(mid);
            const stats = await store.stats();
            assert.equal(stats.queueDepth, finished.length ? 0 : mid.counts.queued);
          }
          const end = await mustGetJob(store, job.id);
          assert.equal(end.status, 'done');
          assert.deepEqual(finished, [{ id: job.id, status: 'done', reason: null }]);
          assert.equal(enqueued, 999);
          assert.ok(retried > 0 && failures > 0);
          assert.deepEqual(end.counts, { admitted: 1000, queued: 0, inFlight: 0, fetched: 1000 - failures, failed: failures });
          const pages = await allPages(store, job.id, 300);
          assert.equal(pages.length, 1000);
          assert.equal(new Set(pages.map((p) => p.url)).size, 1000);
          assert.equal(pages.filter((p) => p.errorCode === 'http_404').length, failures);
          assert.deepEqual(await store.stats(), { jobsInQueue: 0, queueDepth: 0 });
        }));
    });
  });
}
