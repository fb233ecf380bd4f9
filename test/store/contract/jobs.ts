/** The Store contract, `store.jobs`: creating, reading, listing, cancelling and failing jobs. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { claim, settle } from '../frontier-calls.ts';
import {
  T0, UUID, byUrl, claimOpts, done, link, mustGetJob, options, urls,
  type ContractContext,
} from './helpers.ts';

export function jobsContract({ withStore }: ContractContext): void {
  describe('jobs', () => {
    it('createJob stores a queued job with its seeds admitted at depth 0', () =>
      withStore(async (store) => {
        const opts = options({ maxPages: 10, maxDepth: 3, scope: 'domain', mode: 'auto', respectRobots: false, allowPrivate: true });
        const job = await store.jobs.create({ seeds: ['http://a.test/', 'http://b.test:8080/x'], options: opts, source: 'cli' }, T0);
        assert.match(job.id, UUID);
        assert.equal(job.status, 'queued');
        assert.deepEqual(job.seeds, ['http://a.test/', 'http://b.test:8080/x']);
        assert.deepEqual(job.options, opts);
        assert.equal(job.source, 'cli');
        assert.equal(job.createdAt, T0);
        assert.equal(job.startedAt, null);
        assert.equal(job.finishedAt, null);
        assert.equal(job.reason, null);
        assert.deepEqual(job.counts, { admitted: 2, queued: 2, inFlight: 0, fetched: 0, failed: 0, sitemaps: 0 });
        assert.deepEqual(await store.jobs.get(job.id), job);

        const entries = await claim(store, claimOpts({ modes: ['auto'] }));
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
        const job = await store.jobs.create(
          { seeds: ['http://a.test/1', 'http://a.test/1', 'http://a.test/2', 'http://a.test/3'], options: options({ maxPages: 2 }), source: 'api' },
          T0,
        );
        assert.deepEqual(job.counts, { admitted: 2, queued: 2, inFlight: 0, fetched: 0, failed: 0, sitemaps: 0 });
        assert.deepEqual(urls(await claim(store, claimOpts())), ['http://a.test/1', 'http://a.test/2']);
      }));

    it('two jobs may hold the same URL', () =>
      withStore(async (store) => {
        await store.jobs.create({ seeds: ['http://a.test/'], options: options(), source: 'api' }, T0);
        await store.jobs.create({ seeds: ['http://a.test/'], options: options(), source: 'api' }, T0 + 1);
        assert.equal((await claim(store, claimOpts())).length, 2);
      }));

    it('getJob of an unknown id is undefined', () =>
      withStore(async (store) => {
        assert.equal(await store.jobs.get('00000000-0000-4000-8000-000000000000'), undefined);
      }));

    it('listJobs: newest first, keyset pages by the last id, status filter', () =>
      withStore(async (store) => {
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) {
          ids.push((await store.jobs.create({ seeds: [`http://a.test/${i}`], options: options(), source: 'api' }, T0 + i * 1000)).id);
        }
        const newestFirst = [...ids].reverse();
        const first = await store.jobs.list({ limit: 2 });
        assert.deepEqual(first.map((j) => j.id), newestFirst.slice(0, 2));
        const second = await store.jobs.list({ limit: 2, after: first[1]!.id });
        assert.deepEqual(second.map((j) => j.id), newestFirst.slice(2, 4));
        const third = await store.jobs.list({ limit: 2, after: second[1]!.id });
        assert.deepEqual(third.map((j) => j.id), newestFirst.slice(4));

        await store.jobs.cancel(ids[1]!, 'stop', T0 + 10_000);
        await store.jobs.cancel(ids[3]!, 'stop', T0 + 10_000);
        const cancelled = await store.jobs.list({ limit: 10, status: 'cancelled' });
        assert.deepEqual(cancelled.map((j) => j.id), [ids[3], ids[1]]);
        const queued = await store.jobs.list({ limit: 1, status: 'queued', after: ids[4] });
        assert.deepEqual(queued.map((j) => j.id), [ids[2]]);
        assert.equal((await store.jobs.list({ limit: 10, status: 'running' })).length, 0);
      }));
  });

  describe('delete', () => {
    it('delete removes a finished job with its pages; a live job stays (live); an unknown one is unknown', () =>
      withStore(async (store) => {
        const live = await store.jobs.create({ seeds: ['http://a.test/1'], options: options(), source: 'api' }, T0);
        assert.equal(await store.jobs.delete(live.id), 'live');
        assert.ok(await store.jobs.get(live.id));
        const [e] = await claim(store, claimOpts());
        await settle(store, [done(e!, [], { content: new Uint8Array([1]) })], T0 + 1);
        assert.equal((await store.jobs.get(live.id))?.status, 'done');
        const kept = await store.jobs.create({ seeds: ['http://b.test/1'], options: options(), source: 'api' }, T0 + 2);
        assert.equal(await store.jobs.delete(live.id), 'deleted');
        assert.equal(await store.jobs.get(live.id), undefined);
        assert.deepEqual(await store.pages.list(live.id, { limit: 10 }), []);
        assert.equal(await store.jobs.delete(live.id), 'unknown');
        assert.equal(await store.jobs.delete('00000000-0000-4000-8000-000000000000'), 'unknown');
        assert.equal((await store.jobs.get(kept.id))?.status, 'queued', 'other jobs are untouched');
        assert.deepEqual(urls(await claim(store, claimOpts({ now: T0 + 3 }))), ['http://b.test/1']);
      }));
  });

  describe('cancel and fail', () => {
    it('cancelJob drops waiting URLs; outcomes of leased ones are recorded but admit nothing', () =>
      withStore(async (store) => {
        const job = await store.jobs.create({ seeds: ['http://a.test/1', 'http://a.test/2', 'http://a.test/3'], options: options(), source: 'api' }, T0);
        const [leased] = await claim(store, claimOpts({ limit: 1 }));
        assert.ok(leased);
        const cancelled = await store.jobs.cancel(job.id, 'operator said so', T0 + 10);
        assert.ok(cancelled);
        assert.equal(cancelled.status, 'cancelled');
        assert.equal(cancelled.reason, 'operator said so');
        assert.equal(cancelled.finishedAt, T0 + 10);
        assert.deepEqual(cancelled.counts, { admitted: 3, queued: 0, inFlight: 1, fetched: 0, failed: 0, sitemaps: 0 });
        assert.deepEqual(await store.stats(), { jobsInQueue: 0, queueDepth: 0 });
        assert.deepEqual(await claim(store, claimOpts({ now: T0 + 11 })), []);

        const res = await settle(store, [done(leased, [link('http://a.test/new', 1)])], T0 + 12);
        assert.deepEqual(res, { accepted: [true], enqueued: 0, finishedJobs: [] });
        const end = await mustGetJob(store, job.id);
        assert.equal(end.status, 'cancelled');
        assert.equal(end.finishedAt, T0 + 10);
        assert.deepEqual(end.counts, { admitted: 3, queued: 0, inFlight: 0, fetched: 1, failed: 0, sitemaps: 0 });
        assert.equal((await store.pages.list(job.id, { limit: 10 })).length, 1);

        const again = await store.jobs.cancel(job.id, 'twice', T0 + 20);
        assert.deepEqual(again, end, 'cancelling a finished job changes nothing');
        assert.equal(await store.jobs.cancel('00000000-0000-4000-8000-000000000000'), undefined);
      }));

    it('failJob marks a live job failed with the reason; a finished job is returned unchanged', () =>
      withStore(async (store) => {
        const job = await store.jobs.create({ seeds: ['http://a.test/1', 'http://a.test/2'], options: options(), source: 'api' }, T0);
        const failedJob = await store.jobs.fail(job.id, 'bad seeds', T0 + 5);
        assert.ok(failedJob);
        assert.equal(failedJob.status, 'failed');
        assert.equal(failedJob.reason, 'bad seeds');
        assert.equal(failedJob.finishedAt, T0 + 5);
        assert.equal(failedJob.counts.queued, 0);
        assert.deepEqual(await store.jobs.fail(job.id, 'again', T0 + 6), failedJob);
        assert.deepEqual(await store.jobs.cancel(job.id, 'late', T0 + 7), failedJob);
        assert.equal(await store.jobs.fail('00000000-0000-4000-8000-000000000000', 'x'), undefined);

        const other = await store.jobs.create({ seeds: ['http://b.test/1'], options: options(), source: 'api' }, T0);
        const [e] = await claim(store, claimOpts());
        assert.ok(e);
        await settle(store, [done(e)], T0 + 1);
        const finished = await mustGetJob(store, other.id);
        assert.equal(finished.status, 'done');
        assert.deepEqual(await store.jobs.fail(other.id, 'too late', T0 + 2), finished);
      }));
  });
}
