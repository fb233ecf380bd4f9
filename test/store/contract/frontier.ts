/** The Store contract, `store.frontier`: claiming, settling, leases, concurrency and a crawl end to end. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Outcome } from '../../../src/store/types.ts';
import { MAX_SITEMAP_NESTING, MAX_SITEMAPS_PER_JOB } from '../../../src/store/types.ts';
import { claim, settle } from '../frontier-calls.ts';
import {
  T0, allPages, assertBalanced, byUrl, claimOpts, done, failed, link, mustGetJob, options, pageOf, urls,
  type ContractContext,
} from './helpers.ts';

export function frontierContract({ withStore, withPeer }: ContractContext): void {
  describe('claim', () => {
    it('leases with a fresh token, a deadline and the worker; the job starts running', () =>
      withStore(async (store) => {
        const job = await store.jobs.create({ seeds: ['http://a.test/1', 'http://b.test/1'], options: options(), source: 'api' }, T0);
        const entries = await claim(store, claimOpts({ now: T0 + 50, leaseMs: 5000 }));
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
        assert.deepEqual(running.counts, { admitted: 2, queued: 0, inFlight: 2, fetched: 0, failed: 0, sitemaps: 0 });
        assert.deepEqual(await claim(store, claimOpts({ now: T0 + 60, workerId: 'w2' })), [], 'a leased URL is not claimed twice');

        // startedAt is set by the first claim only
        await settle(store, [done(entries[0]!, [link('http://a.test/2', 1)])], T0 + 100);
        await claim(store, claimOpts({ now: T0 + 200 }));
        assert.equal((await mustGetJob(store, job.id)).startedAt, T0 + 50);
      }));

    it('claims nothing when the limit is 0 or the frontier is empty', () =>
      withStore(async (store) => {
        assert.deepEqual(await claim(store, claimOpts()), []);
        await store.jobs.create({ seeds: ['http://a.test/'], options: options(), source: 'api' }, T0);
        assert.deepEqual(await claim(store, claimOpts({ limit: 0 })), []);
      }));

    it('takes the oldest entries first but round-robins across hosts', () =>
      withStore(async (store) => {
        const seeds = ['http://a.test/1', 'http://a.test/2', 'http://a.test/3', 'http://a.test/4', 'http://b.test/1', 'http://c.test/1', 'http://c.test/2'];
        await store.jobs.create({ seeds, options: options(), source: 'api' }, T0);
        const first = await claim(store, claimOpts({ limit: 4 }));
        assert.deepEqual(urls(first), ['http://a.test/1', 'http://a.test/2', 'http://b.test/1', 'http://c.test/1']);
        const second = await claim(store, claimOpts({ limit: 2 }));
        assert.deepEqual(urls(second), ['http://a.test/3', 'http://c.test/2']);
        const third = await claim(store, claimOpts({ limit: 2 }));
        assert.deepEqual(urls(third), ['http://a.test/4']);
      }));

    it('respects maxPerHost across workers; expired leases do not count and are claimable again', () =>
      withStore(async (store) => {
        const seeds = ['http://a.test/1', 'http://a.test/2', 'http://a.test/3', 'http://b.test/1'];
        await store.jobs.create({ seeds, options: options(), source: 'api' }, T0);
        const first = await claim(store, claimOpts({ maxPerHost: 2, leaseMs: 1000 }));
        assert.deepEqual(urls(first), ['http://a.test/1', 'http://a.test/2', 'http://b.test/1']);
        assert.deepEqual(await claim(store, claimOpts({ maxPerHost: 2, workerId: 'w2', now: T0 + 10 })), []);

        const settled = await settle(store, [done(byUrl(first, 'http://a.test/1'))], T0 + 20);
        assert.deepEqual(settled.accepted, [true]);
        const second = await claim(store, claimOpts({ maxPerHost: 2, workerId: 'w2', now: T0 + 30 }));
        assert.deepEqual(urls(second), ['http://a.test/3']);

        // a.test/2 and b.test/1 (leased until T0+1000) expired; a.test/3 (until T0+10030) still counts
        const third = await claim(store, claimOpts({ maxPerHost: 2, workerId: 'w3', now: T0 + 1000, leaseMs: 1000 }));
        assert.deepEqual(urls(third), ['http://a.test/2', 'http://b.test/1']);
        assert.equal(byUrl(third, 'http://a.test/2').attempts, 0);
        const stale = await settle(store, [done(byUrl(first, 'http://a.test/2'))], T0 + 1001);
        assert.deepEqual(stale.accepted, [false], 'the first lease of a re-leased URL is stale');
        const fresh = await settle(store, [done(byUrl(third, 'http://a.test/2'))], T0 + 1002);
        assert.deepEqual(fresh.accepted, [true]);
      }));

    it('with hostDelayMs, one entry per host per claim and the host waits the delay', () =>
      withStore(async (store) => {
        const seeds = ['http://a.test/1', 'http://a.test/2', 'http://b.test/1', 'http://b.test/2'];
        await store.jobs.create({ seeds, options: options(), source: 'api' }, T0);
        const o = { hostDelayMs: 1000, maxPerHost: 10 };
        assert.deepEqual(urls(await claim(store, claimOpts({ ...o }))), ['http://a.test/1', 'http://b.test/1']);
        assert.deepEqual(await claim(store, claimOpts({ ...o, now: T0 + 999 })), []);
        assert.deepEqual(urls(await claim(store, claimOpts({ ...o, now: T0 + 1000, limit: 1 }))), ['http://a.test/2']);
        assert.deepEqual(urls(await claim(store, claimOpts({ ...o, now: T0 + 1000 }))), ['http://b.test/2']);
      }));

    it('deferHost keeps every worker off a host; it never shortens a deferral', () =>
      withStore(async (store) => {
        await store.jobs.create({ seeds: ['http://a.test/1', 'http://b.test/1'], options: options(), source: 'api' }, T0);
        await store.frontier.deferHost('a.test', T0 + 5000);
        await store.frontier.deferHost('a.test', T0 + 10);
        assert.deepEqual(urls(await claim(store, claimOpts())), ['http://b.test/1']);
        assert.deepEqual(await claim(store, claimOpts({ now: T0 + 4999 })), []);
        assert.deepEqual(urls(await claim(store, claimOpts({ now: T0 + 5000 }))), ['http://a.test/1']);
      }));

    it('only claims entries of jobs whose mode is in modes', () =>
      withStore(async (store) => {
        await store.jobs.create({ seeds: ['http://a.test/browser'], options: options({ mode: 'browser' }), source: 'api' }, T0);
        await store.jobs.create({ seeds: ['http://a.test/http'], options: options({ mode: 'http' }), source: 'api' }, T0);
        await store.jobs.create({ seeds: ['http://a.test/auto'], options: options({ mode: 'auto' }), source: 'api' }, T0);
        assert.deepEqual(urls(await claim(store, claimOpts({ modes: ['http'] }))), ['http://a.test/http']);
        assert.deepEqual(urls(await claim(store, claimOpts({ modes: ['http', 'auto'] }))), ['http://a.test/auto']);
        assert.deepEqual(urls(await claim(store, claimOpts())), ['http://a.test/browser']);
      }));

    it('never claims entries of finished or cancelled jobs', () =>
      withStore(async (store) => {
        const a = await store.jobs.create({ seeds: ['http://a.test/1', 'http://a.test/2'], options: options(), source: 'api' }, T0);
        const b = await store.jobs.create({ seeds: ['http://b.test/1', 'http://b.test/2'], options: options(), source: 'api' }, T0);
        await store.jobs.cancel(a.id, 'operator', T0 + 1);
        await store.jobs.fail(b.id, 'broken', T0 + 1);
        assert.deepEqual(await claim(store, claimOpts({ now: T0 + 2 })), []);
      }));
  });

  describe('settle', () => {
    it('done: records the page, admits new links within maxDepth and maxPages, in order', () =>
      withStore(async (store) => {
        const job = await store.jobs.create({ seeds: ['http://a.test/', 'http://a.test/seed2'], options: options({ maxPages: 4, maxDepth: 1 }), source: 'api' }, T0);
        const [seed] = await claim(store, claimOpts({ limit: 1 }));
        assert.ok(seed);
        const discovered = [
          link('http://a.test/seed2', 1), // already admitted
          link('http://a.test/x', 1),
          link('http://a.test/x', 1), // twice in the list
          link('http://b.test/deep', 2), // beyond maxDepth
          link('http://b.test/y', 1),
          link('http://a.test/z', 1), // over maxPages
        ];
        const res = await settle(store, [done(seed, discovered)], T0 + 10);
        assert.deepEqual(res.accepted, [true]);
        assert.equal(res.enqueued, 2);
        assert.deepEqual(res.finishedJobs, []);

        const after = await mustGetJob(store, job.id);
        assert.deepEqual(after.counts, { admitted: 4, queued: 3, inFlight: 0, fetched: 1, failed: 0, sitemaps: 0 });
        const next = await claim(store, claimOpts({ now: T0 + 20 }));
        assert.deepEqual(urls(next), ['http://a.test/seed2', 'http://a.test/x', 'http://b.test/y']);
        assert.equal(byUrl(next, 'http://b.test/y').host, 'b.test');
        assert.equal(byUrl(next, 'http://b.test/y').depth, 1);

        const pages = await store.pages.list(job.id, { limit: 10 });
        assert.equal(pages.length, 1);
        assert.equal(typeof pages[0]!.id, 'number');
        const { content: _content, ...listed } = pageOf(seed, { linksFound: discovered.length });
        assert.deepEqual(pages[0], { id: pages[0]!.id, jobId: job.id, ...listed, change: null, previousPageId: null });
      }));

    it('settleAndClaim settles, then claims with the slots it freed; the links it admitted are claimable once `settled` resolved', () =>
      withStore(async (store) => {
        const job = await store.jobs.create({ seeds: ['http://a.test/1', 'http://b.test/1'], options: options({ maxPages: 10 }), source: 'api' }, T0);
        const one = claimOpts({ maxPerHost: 1 });
        const first = await claim(store, { ...one, limit: 1 });
        assert.deepEqual(urls(first), ['http://a.test/1']);
        const r = await store.frontier.settleAndClaim([done(first[0]!, [link('http://a.test/2', 1)])], { ...one, limit: 5, now: T0 + 10 }, T0 + 10);
        const settled = await r.settled;
        assert.deepEqual(settled.accepted, [true]);
        assert.equal(settled.enqueued, 1);
        // The claim had a.test's freed slot; the admitted link is in it (one transaction) or claimable now (group commit).
        const later = await claim(store, { ...one, limit: 5, now: T0 + 11 });
        assert.deepEqual(urls([...r.entries, ...later]), ['http://a.test/2', 'http://b.test/1']);
        assert.ok(r.entries.some((e) => e.url === 'http://b.test/1'));
        const stale = await store.frontier.settleAndClaim([done(first[0]!)], claimOpts({ limit: 5, now: T0 + 20 }), T0 + 20);
        assert.deepEqual((await stale.settled).accepted, [false]);
        assert.deepEqual(stale.entries, []);
        assert.deepEqual((await mustGetJob(store, job.id)).counts, { admitted: 3, queued: 0, inFlight: 2, fetched: 1, failed: 0, sitemaps: 0 });
      }));

    it('settleAndClaim says when a claim that left slots unused can get more (nextDueAt); a filled claim says nothing', () =>
      withStore(async (store) => {
        await store.jobs.create({ seeds: ['http://a.test/1', 'http://a.test/2', 'http://b.test/1'], options: options(), source: 'api' }, T0);
        const polite = claimOpts({ hostDelayMs: 1000 });
        const first = await store.frontier.settleAndClaim([], polite, T0);
        assert.deepEqual(urls(first.entries), ['http://a.test/1', 'http://b.test/1']);
        assert.equal(first.nextDueAt, T0 + 1000, 'a.test still has a URL and is due after its delay');
        const early = await store.frontier.settleAndClaim([], { ...polite, now: T0 + 500 }, T0 + 500);
        assert.deepEqual(early.entries, []);
        assert.equal(early.nextDueAt, T0 + 1000);
        const due = await store.frontier.settleAndClaim([], { ...polite, now: T0 + 1000 }, T0 + 1000);
        assert.deepEqual(urls(due.entries), ['http://a.test/2']);
        assert.equal(due.nextDueAt, null, 'nothing waits any more');
        await store.jobs.create({ seeds: ['http://c.test/1', 'http://d.test/1'], options: options(), source: 'api' }, T0);
        const filled = await store.frontier.settleAndClaim([], claimOpts({ limit: 1, now: T0 + 1001 }), T0 + 1001);
        assert.equal(filled.entries.length, 1);
        assert.equal(filled.nextDueAt, null);
      }));

    it('a stale or repeated outcome is refused and changes nothing', () =>
      withStore(async (store) => {
        const job = await store.jobs.create({ seeds: ['http://a.test/1', 'http://a.test/2'], options: options(), source: 'api' }, T0);
        const [e1, e2] = await claim(store, claimOpts());
        assert.ok(e1 && e2);
        const forged = { ...e2, leaseToken: 'not-the-token' };
        const res = await settle(store, [done(e1, [link('http://a.test/3', 1)]), done(e1, [link('http://a.test/4', 1)]), done(forged)], T0 + 1);
        assert.deepEqual(res.accepted, [true, false, false]);
        assert.equal(res.enqueued, 1);
        const again = await settle(store, [done(e1, [link('http://a.test/5', 1)]), failed(e1, 'timeout')], T0 + 2);
        assert.deepEqual(again, { accepted: [false, false], enqueued: 0, finishedJobs: [] });
        const j = await mustGetJob(store, job.id);
        assert.deepEqual(j.counts, { admitted: 3, queued: 1, inFlight: 1, fetched: 1, failed: 0, sitemaps: 0 });
        assert.equal((await store.pages.list(job.id, { limit: 10 })).length, 1);
      }));

    it('retry: back to the queue with one more attempt, not before notBefore; no page', () =>
      withStore(async (store) => {
        const job = await store.jobs.create({ seeds: ['http://a.test/1'], options: options(), source: 'api' }, T0);
        const [e] = await claim(store, claimOpts());
        assert.ok(e);
        const res = await settle(store, [{ kind: 'retry', entry: e, notBefore: T0 + 500, errorCode: 'http_429' }], T0 + 1);
        assert.deepEqual(res, { accepted: [true], enqueued: 0, finishedJobs: [] });
        const j = await mustGetJob(store, job.id);
        assert.equal(j.status, 'running');
        assert.deepEqual(j.counts, { admitted: 1, queued: 1, inFlight: 0, fetched: 0, failed: 0, sitemaps: 0 });
        assert.deepEqual(await claim(store, claimOpts({ now: T0 + 499 })), []);
        const [again] = await claim(store, claimOpts({ now: T0 + 500 }));
        assert.ok(again);
        assert.equal(again.id, e.id);
        assert.equal(again.attempts, 1);
        assert.notEqual(again.leaseToken, e.leaseToken);
        assert.equal((await store.pages.list(job.id, { limit: 10 })).length, 0);
      }));

    it('failed: records the error page; a job with only failures fails with the most frequent code', () =>
      withStore(async (store) => {
        const seeds = ['http://a.test/1', 'http://a.test/2', 'http://a.test/3'];
        const job = await store.jobs.create({ seeds, options: options(), source: 'api' }, T0);
        const entries = await claim(store, claimOpts());
        const res1 = await settle(store, [failed(entries[0]!, 'timeout'), failed(entries[1]!, 'network')], T0 + 5);
        assert.deepEqual(res1.finishedJobs, []);
        const mid = await mustGetJob(store, job.id);
        assert.equal(mid.status, 'running');
        assert.deepEqual(mid.counts, { admitted: 3, queued: 0, inFlight: 1, fetched: 0, failed: 2, sitemaps: 0 });
        const res2 = await settle(store, [failed(entries[2]!, 'timeout')], T0 + 9);
        assert.deepEqual(res2.finishedJobs, [{ id: job.id, status: 'failed', reason: 'timeout' }]);
        const end = await mustGetJob(store, job.id);
        assert.equal(end.status, 'failed');
        assert.equal(end.reason, 'timeout');
        assert.equal(end.finishedAt, T0 + 9);
        assert.deepEqual(end.counts, { admitted: 3, queued: 0, inFlight: 0, fetched: 0, failed: 3, sitemaps: 0 });
        const pages = await store.pages.list(job.id, { limit: 10 });
        assert.deepEqual(pages.map((p) => p.errorCode).sort(), ['network', 'timeout', 'timeout']);
      }));

    it('a tie between error codes is broken by the code name', () =>
      withStore(async (store) => {
        const job = await store.jobs.create({ seeds: ['http://a.test/1', 'http://a.test/2'], options: options(), source: 'api' }, T0);
        const entries = await claim(store, claimOpts());
        const res = await settle(store, [failed(entries[0]!, 'timeout'), failed(entries[1]!, 'http_404')], T0 + 1);
        assert.deepEqual(res.finishedJobs, [{ id: job.id, status: 'failed', reason: 'http_404' }]);
      }));

    it('a job with at least one fetched page finishes done, reported exactly once', () =>
      withStore(async (store) => {
        const job = await store.jobs.create({ seeds: ['http://a.test/1', 'http://a.test/2'], options: options(), source: 'api' }, T0);
        const entries = await claim(store, claimOpts());
        const [e1, e2] = entries;
        assert.ok(e1 && e2);
        const r1 = await settle(store, [{ kind: 'retry', entry: e1, notBefore: T0, errorCode: 'timeout' }, failed(e2, 'http_404')], T0 + 1);
        assert.deepEqual(r1.finishedJobs, [], 'a URL waiting for its retry keeps the job open');
        const [again] = await claim(store, claimOpts({ now: T0 + 2 }));
        assert.ok(again);
        const r2 = await settle(store, [done(again)], T0 + 3);
        assert.deepEqual(r2.finishedJobs, [{ id: job.id, status: 'done', reason: null }]);
        const r3 = await settle(store, [done(again)], T0 + 4);
        assert.deepEqual(r3, { accepted: [false], enqueued: 0, finishedJobs: [] });
        const end = await mustGetJob(store, job.id);
        assert.equal(end.status, 'done');
        assert.equal(end.reason, null);
        assert.equal(end.finishedAt, T0 + 3);
        assert.deepEqual(end.counts, { admitted: 2, queued: 0, inFlight: 0, fetched: 1, failed: 1, sitemaps: 0 });
        assertBalanced(end);
      }));

    it('settles outcomes of several jobs in one call and finishes each', () =>
      withStore(async (store) => {
        const a = await store.jobs.create({ seeds: ['http://a.test/'], options: options(), source: 'api' }, T0);
        const b = await store.jobs.create({ seeds: ['http://b.test/'], options: options(), source: 'api' }, T0);
        const entries = await claim(store, claimOpts());
        const ea = entries.find((e) => e.jobId === a.id);
        const eb = entries.find((e) => e.jobId === b.id);
        assert.ok(ea && eb);
        const res = await settle(store, [done(ea), failed(eb, 'captcha')], T0 + 1);
        const finished = [...res.finishedJobs].sort((x, y) => (x.id === a.id ? -1 : y.id === a.id ? 1 : 0));
        assert.deepEqual(finished, [
          { id: a.id, status: 'done', reason: null },
          { id: b.id, status: 'failed', reason: 'captcha' },
        ]);
        assert.deepEqual(await store.stats(), { jobsInQueue: 0, queueDepth: 0 });
      }));

    it('a settle that throws midway leaves nothing half-applied', () =>
      withStore(async (store) => {
        const job = await store.jobs.create({ seeds: ['http://a.test/1', 'http://a.test/2'], options: options(), source: 'api' }, T0);
        const [e1, e2] = await claim(store, claimOpts());
        assert.ok(e1 && e2);
        const good = done(e1, [link('http://a.test/new', 1)]);
        const bomb = { kind: 'done', entry: e2, discovered: [] } as unknown as Outcome;
        Object.defineProperty(bomb, 'page', {
          enumerable: true,
          get() {
            throw new Error('boom inside settle');
          },
        });
        await assert.rejects(settle(store, [good, bomb], T0 + 1), /boom inside settle/);

        const j = await mustGetJob(store, job.id);
        assert.deepEqual(j.counts, { admitted: 2, queued: 0, inFlight: 2, fetched: 0, failed: 0, sitemaps: 0 });
        assert.equal((await store.pages.list(job.id, { limit: 10 })).length, 0);
        assert.deepEqual(await store.stats(), { jobsInQueue: 1, queueDepth: 0 });
        // the leases survived: the same outcomes apply cleanly afterwards
        const res = await settle(store, [good, done(e2)], T0 + 2);
        assert.deepEqual(res.accepted, [true, true]);
        assert.equal(res.enqueued, 1);
      }));
  });

  describe('sitemaps', () => {
    it('sitemap entries are claimed with their kind, admit pages at depth 0 with lastmod and nested sitemaps, and count apart from pages', () =>
      withStore(async (store) => {
        const job = await store.jobs.create(
          { seeds: ['http://a.test/'], sitemaps: ['http://a.test/sitemap.xml'], options: options({ maxPages: 3, maxDepth: 2 }), source: 'api' },
          T0,
        );
        assert.deepEqual(job.counts, { admitted: 1, queued: 1, inFlight: 0, fetched: 0, failed: 0, sitemaps: 1 });
        const first = await claim(store, claimOpts());
        const root = byUrl(first, 'http://a.test/sitemap.xml');
        assert.equal(root.kind, 'sitemap');
        assert.equal(byUrl(first, 'http://a.test/').kind, 'page');
        assert.equal(root.depth, 0);
        const r = await settle(store, [{
          kind: 'sitemap', entry: root, errorCode: null, discovered: [
            { url: 'http://a.test/listed-1', host: 'a.test', depth: 0, lastmod: T0 - 1000 },
            { url: 'http://a.test/listed-2', host: 'a.test', depth: 0, lastmod: null },
            { url: 'http://a.test/listed-3', host: 'a.test', depth: 0 },
            { url: 'http://a.test/part-2.xml', host: 'a.test', depth: 1, kind: 'sitemap' },
          ],
        }], T0 + 1);
        assert.deepEqual(r.accepted, [true]);
        assert.equal(r.enqueued, 2, 'pages admitted up to maxPages (the seed took one of 3)');
        assert.deepEqual((await mustGetJob(store, job.id)).counts, { admitted: 3, queued: 2, inFlight: 1, fetched: 0, failed: 0, sitemaps: 1 });
        const next = await claim(store, claimOpts({ now: T0 + 2 }));
        assert.deepEqual(urls(next), ['http://a.test/listed-1', 'http://a.test/listed-2', 'http://a.test/part-2.xml']);
        assert.equal(byUrl(next, 'http://a.test/listed-1').lastmod, T0 - 1000);
        assert.equal(byUrl(next, 'http://a.test/listed-1').depth, 0);
        const nested = byUrl(next, 'http://a.test/part-2.xml');
        assert.equal(nested.kind, 'sitemap');
        // A sitemap that cannot be read ends with its error code and records no page.
        await settle(store, [{ kind: 'sitemap', entry: nested, errorCode: 'http_404', discovered: [] }], T0 + 3);
        const seedEntry = byUrl(first, 'http://a.test/');
        const stillRunning = await settle(store, [done(seedEntry), done(byUrl(next, 'http://a.test/listed-1'))], T0 + 4);
        assert.deepEqual(stillRunning.finishedJobs, []);
        const end = await settle(store, [done(byUrl(next, 'http://a.test/listed-2'))], T0 + 5);
        assert.deepEqual(end.finishedJobs, [{ id: job.id, status: 'done', reason: null }]);
        assert.deepEqual((await mustGetJob(store, job.id)).counts, { admitted: 3, queued: 0, inFlight: 0, fetched: 3, failed: 0, sitemaps: 0 });
        const pages = await store.pages.list(job.id, { limit: 10 });
        assert.deepEqual(urls(pages), ['http://a.test/', 'http://a.test/listed-1', 'http://a.test/listed-2'], 'sitemaps are not pages');
        assert.deepEqual(await store.stats(), { jobsInQueue: 0, queueDepth: 0 });
      }));

    it("with sitemaps 'only' the seeds are not pages; a job waits for its sitemaps and ends done when they list nothing", () =>
      withStore(async (store) => {
        const only = { formats: ['metadata' as const], onlyMainContent: true, sitemaps: 'only' as const };
        const job = await store.jobs.create(
          { seeds: ['http://a.test/', 'http://a.test/about'], sitemaps: ['http://a.test/sitemap.xml'], options: options({ scrape: only }), source: 'api' },
          T0,
        );
        assert.deepEqual(job.counts, { admitted: 0, queued: 0, inFlight: 0, fetched: 0, failed: 0, sitemaps: 1 });
        assert.deepEqual(job.seeds, ['http://a.test/', 'http://a.test/about'], 'the job still names its seeds');
        const [root] = await claim(store, claimOpts());
        assert.equal(root?.kind, 'sitemap');
        assert.deepEqual(await claim(store, claimOpts({ now: T0 + 1 })), []);
        // A retry keeps it waiting; the job goes on.
        await settle(store, [{ kind: 'retry', entry: root!, notBefore: T0 + 10, errorCode: 'timeout' }], T0 + 2);
        assert.equal((await mustGetJob(store, job.id)).status, 'running');
        const [again] = await claim(store, claimOpts({ now: T0 + 10 }));
        assert.equal(again?.attempts, 1);
        const r = await settle(store, [{ kind: 'sitemap', entry: again!, errorCode: null, discovered: [] }], T0 + 11);
        assert.deepEqual(r.finishedJobs, [{ id: job.id, status: 'done', reason: null }]);
      }));

    it('a job admits at most MAX_SITEMAPS_PER_JOB sitemaps and none nested deeper than MAX_SITEMAP_NESTING', () =>
      withStore(async (store) => {
        const job = await store.jobs.create({ seeds: ['http://a.test/'], sitemaps: ['http://a.test/index.xml'], options: options(), source: 'api' }, T0);
        const root = byUrl(await claim(store, claimOpts()), 'http://a.test/index.xml');
        const many = Array.from({ length: MAX_SITEMAPS_PER_JOB + 50 }, (_, i) => ({ url: `http://s${i % 5}.test/map-${i}.xml`, host: `s${i % 5}.test`, depth: 1, kind: 'sitemap' as const }));
        const tooDeep = { url: 'http://a.test/deep.xml', host: 'a.test', depth: MAX_SITEMAP_NESTING + 1, kind: 'sitemap' as const };
        await settle(store, [{ kind: 'sitemap', entry: root, errorCode: null, discovered: [tooDeep, ...many] }], T0 + 1);
        assert.equal((await mustGetJob(store, job.id)).counts.sitemaps, MAX_SITEMAPS_PER_JOB - 1, 'the root counted as one of them');
      }));
  });

  describe('leases', () => {
    it('extendLeases prolongs only leases whose token matches', () =>
      withStore(async (store) => {
        await store.jobs.create({ seeds: ['http://a.test/1', 'http://a.test/2'], options: options(), source: 'api' }, T0);
        const [e1, e2] = await claim(store, claimOpts({ leaseMs: 1000 }));
        assert.ok(e1 && e2);
        await store.frontier.extendLeases([{ id: e1.id, leaseToken: e1.leaseToken }, { id: e2.id, leaseToken: 'wrong' }], 5000, T0 + 900);
        assert.equal(await store.frontier.requeueExpired(T0 + 1000), 1);
        assert.equal(await store.frontier.requeueExpired(T0 + 5899), 0);
        assert.equal(await store.frontier.requeueExpired(T0 + 5900), 1);
      }));

    it('releaseLeases returns one worker\'s URLs to the queue with attempts unchanged', () =>
      withStore(async (store) => {
        const job = await store.jobs.create({ seeds: ['http://a.test/1', 'http://a.test/2', 'http://a.test/3'], options: options(), source: 'api' }, T0);
        const mine = await claim(store, claimOpts({ workerId: 'w1', limit: 2 }));
        const theirs = await claim(store, claimOpts({ workerId: 'w2', limit: 2 }));
        assert.equal(mine.length, 2);
        assert.equal(theirs.length, 1);
        assert.equal(await store.frontier.releaseLeases('w1'), 2);
        assert.equal(await store.frontier.releaseLeases('w1'), 0);
        assert.deepEqual((await mustGetJob(store, job.id)).counts, { admitted: 3, queued: 2, inFlight: 1, fetched: 0, failed: 0, sitemaps: 0 });
        const back = await claim(store, claimOpts({ workerId: 'w3', now: T0 + 1 }));
        assert.deepEqual(urls(back), urls(mine));
        for (const e of back) assert.equal(e.attempts, 0);
        assert.deepEqual((await settle(store, [done(mine[0]!)], T0 + 2)).accepted, [false]);
        assert.deepEqual((await settle(store, [done(theirs[0]!)], T0 + 2)).accepted, [true]);
      }));

    it('requeueExpired returns only expired leases to the queue', () =>
      withStore(async (store) => {
        const job = await store.jobs.create({ seeds: ['http://a.test/1', 'http://b.test/1'], options: options(), source: 'api' }, T0);
        await claim(store, claimOpts({ limit: 1, leaseMs: 100 }));
        await claim(store, claimOpts({ limit: 1, leaseMs: 1000 }));
        assert.equal(await store.frontier.requeueExpired(T0 + 99), 0);
        assert.equal(await store.frontier.requeueExpired(T0 + 100), 1);
        assert.deepEqual((await mustGetJob(store, job.id)).counts, { admitted: 2, queued: 1, inFlight: 1, fetched: 0, failed: 0, sitemaps: 0 });
        assert.deepEqual(await store.stats(), { jobsInQueue: 1, queueDepth: 1 });
      }));
  });

  describe('concurrency and scale', () => {
    it('two handles on one database claiming concurrently never lease the same URL', (t) =>
      withPeer(t, async (store, peer) => {
        const seeds = Array.from({ length: 300 }, (_, i) => `http://h${i % 7}.test/${i}`);
        const job = await store.jobs.create({ seeds, options: options({ maxPages: 1000 }), source: 'api' }, T0);
        const seen = new Map<number, string>();
        for (let round = 0; round < 50 && seen.size < seeds.length; round++) {
          const batches = await Promise.all(
            [store, peer, store, peer].map((s, i) => claim(s, claimOpts({ workerId: `w${i}`, limit: 20, now: T0 + round }))),
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
        assert.deepEqual(j.counts, { admitted: 300, queued: 0, inFlight: 300, fetched: 0, failed: 0, sitemaps: 0 });
      }));

    it('a 1,000-URL job runs end to end through claim and settle with consistent counts', () =>
      withStore(async (store) => {
        const job = await store.jobs.create({ seeds: ['http://h0.test/0'], options: options({ maxPages: 1000, maxDepth: 20 }), source: 'api' }, T0);
        let now = T0;
        let next = 1;
        const finished: unknown[] = [];
        let enqueued = 0;
        let retried = 0;
        let failures = 0;
        for (let round = 0; round < 500; round++) {
          now += 10;
          const entries = await claim(store, claimOpts({ limit: 50, maxPerHost: 20, now }));
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
          const res = await settle(store, outcomes, now);
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
        assert.deepEqual(end.counts, { admitted: 1000, queued: 0, inFlight: 0, fetched: 1000 - failures, failed: failures, sitemaps: 0 });
        const pages = await allPages(store, job.id, 300);
        assert.equal(pages.length, 1000);
        assert.equal(new Set(pages.map((p) => p.url)).size, 1000);
        assert.equal(pages.filter((p) => p.errorCode === 'http_404').length, failures);
        assert.deepEqual(await store.stats(), { jobsInQueue: 0, queueDepth: 0 });
      }));
  });
}
