/** The Store contract, `store.pages`: a job's results. */
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { claim, settle } from '../frontier-calls.ts';
import {
  T0, allPages, claimOpts, done, failed, options, urls,
  type ContractContext,
} from './helpers.ts';

export function pagesContract({ withStore }: ContractContext): void {
  describe('pages', () => {
    it('keeps a page\'s content, hash and lastmod: get and iterate give them back, list leaves the content out', () =>
      withStore(async (store) => {
        const job = await store.jobs.create({ seeds: ['http://a.test/1', 'http://a.test/2', 'http://a.test/3'], options: options(), source: 'api' }, T0);
        const entries = (await claim(store, claimOpts())).sort((x, y) => x.id - y.id);
        const blob = (i: number) => new Uint8Array(Array.from({ length: 300 + i }, (_, k) => (k * 7 + i) % 256));
        await settle(store, entries.map((e, i) => done(e, [], { contentHash: `hash-${i}`, lastmod: T0 - i, content: i === 1 ? null : blob(i) })), T0 + 1);
        const listed = await store.pages.list(job.id, { limit: 10 });
        assert.deepEqual(listed.map((p) => p.contentHash), ['hash-0', 'hash-1', 'hash-2']);
        assert.deepEqual(listed.map((p) => p.lastmod), [T0, T0 - 1, T0 - 2]);
        assert.ok(listed.every((p) => !('content' in p)), 'lists stay light');
        const first = await store.pages.get(job.id, listed[0]!.id);
        assert.deepEqual(first && Buffer.from(first.content!), Buffer.from(blob(0)));
        assert.equal((await store.pages.get(job.id, listed[1]!.id))?.content, null);
        assert.equal(await store.pages.get(job.id, 999_999_999), undefined);
        const other = await store.jobs.create({ seeds: ['http://b.test/'], options: options(), source: 'api' }, T0);
        assert.equal(await store.pages.get(other.id, listed[0]!.id), undefined, "another job's page is not found");
        const all = [];
        for await (const p of store.pages.iterate(job.id, { batch: 2 })) all.push(p);
        assert.deepEqual(all.map((p) => p.id), listed.map((p) => p.id));
        assert.deepEqual(Buffer.from(all[2]!.content!), Buffer.from(blob(2)));
      }));

    it('dropContentBefore removes the content of older pages and keeps the rows', () =>
      withStore(async (store) => {
        const job = await store.jobs.create({ seeds: ['http://a.test/1', 'http://a.test/2'], options: options(), source: 'api' }, T0);
        const [e1, e2] = (await claim(store, claimOpts())).sort((x, y) => x.id - y.id);
        await settle(store, [done(e1!, [], { fetchedAt: T0, content: new Uint8Array([1, 2, 3]) }), done(e2!, [], { fetchedAt: T0 + 5_000, content: new Uint8Array([4]) })], T0 + 5_000);
        assert.equal(await store.pages.dropContentBefore(T0 + 1_000), 1);
        assert.equal(await store.pages.dropContentBefore(T0 + 1_000), 0, 'already dropped');
        const pages = await store.pages.list(job.id, { limit: 10 });
        assert.equal(pages.length, 2);
        assert.equal((await store.pages.get(job.id, pages[0]!.id))?.content, null);
        assert.deepEqual(Buffer.from((await store.pages.get(job.id, pages[1]!.id))!.content!), Buffer.from([4]));
      }));

    it('listPages: oldest first, keyset pages by page id, only the job\'s pages', () =>
      withStore(async (store) => {
        const seeds = Array.from({ length: 7 }, (_, i) => `http://a.test/${i}`);
        const job = await store.jobs.create({ seeds, options: options(), source: 'api' }, T0);
        const other = await store.jobs.create({ seeds: ['http://b.test/'], options: options(), source: 'api' }, T0);
        const entries = (await claim(store, claimOpts())).sort((x, y) => x.id - y.id);
        await settle(store, entries.map((e) => done(e)), T0 + 1);
        const pages = await store.pages.list(job.id, { limit: 3 });
        assert.equal(pages.length, 3);
        const all = await allPages(store, job.id, 3);
        assert.equal(all.length, 7);
        assert.deepEqual(all.slice(0, 3), pages);
        const ids = all.map((p) => p.id);
        assert.deepEqual(ids, [...ids].sort((x, y) => x - y));
        assert.equal(new Set(ids).size, 7);
        assert.ok(all.every((p) => p.jobId === job.id));
        assert.deepEqual(urls(all), [...seeds].sort());
        assert.deepEqual(await store.pages.list(job.id, { limit: 3, after: ids[6] }), []);
        assert.equal((await store.pages.list(other.id, { limit: 10 })).length, 1);
      }));

    it('list filters by outcome, failuresByCode counts the failed results by code', () =>
      withStore(async (store) => {
        const seeds = Array.from({ length: 6 }, (_, i) => `http://a.test/${i}`);
        const job = await store.jobs.create({ seeds, options: options(), source: 'api' }, T0);
        const other = await store.jobs.create({ seeds: ['http://b.test/'], options: options(), source: 'api' }, T0);
        const entries = (await claim(store, claimOpts())).sort((x, y) => x.id - y.id);
        const codes: Record<string, string> = { 'http://a.test/1': 'http_404', 'http://a.test/3': 'timeout', 'http://a.test/4': 'http_404', 'http://b.test/': 'captcha' };
        await settle(store, entries.map((e) => (codes[e.url] ? failed(e, codes[e.url]!) : done(e))), T0 + 1);
        assert.deepEqual(urls(await store.pages.list(job.id, { limit: 10, outcome: 'failed' })), ['http://a.test/1', 'http://a.test/3', 'http://a.test/4']);
        const ok = await store.pages.list(job.id, { limit: 2, outcome: 'ok' });
        assert.deepEqual(urls(ok), ['http://a.test/0', 'http://a.test/2']);
        assert.deepEqual(urls(await store.pages.list(job.id, { limit: 10, outcome: 'ok', after: ok[1]!.id })), ['http://a.test/5'], 'keyset paging within a filter');
        assert.equal((await store.pages.list(job.id, { limit: 10 })).length, 6);
        assert.deepEqual(await store.pages.failuresByCode(job.id), { http_404: 2, timeout: 1 });
        assert.deepEqual(await store.pages.failuresByCode(other.id), { captcha: 1 });
        const quiet = await store.jobs.create({ seeds: ['http://c.test/'], options: options(), source: 'api' }, T0);
        assert.deepEqual(await store.pages.failuresByCode(quiet.id), {});
      }));

    it('recent: results of every job since a time, newest first, bounded by the limit', () =>
      withStore(async (store) => {
        assert.deepEqual(await store.pages.recent(0, 10), [], 'an empty store');
        const seeds = Array.from({ length: 5 }, (_, i) => `http://a.test/${i}`);
        await store.jobs.create({ seeds, options: options(), source: 'api' }, T0);
        const entries = (await claim(store, claimOpts())).sort((x, y) => x.id - y.id);
        // Settled one by one, in time order (page ids grow with the time they are stored).
        for (const [i, e] of entries.entries()) {
          await settle(store, [e.url.endsWith('/2') ? failed(e, 'http_429', T0 + i * 1000) : done(e, [], { fetchedAt: T0 + i * 1000, fetchMs: 10 + i, statusCode: 200 })], T0 + i * 1000);
        }
        const since = await store.pages.recent(T0 + 2000, 100);
        assert.deepEqual(since.map((p) => p.url), ['http://a.test/4', 'http://a.test/3', 'http://a.test/2']);
        assert.deepEqual(since.map((p) => [p.statusCode, p.errorCode, p.fetchMs, p.fetchedAt]), [[200, null, 14, T0 + 4000], [200, null, 13, T0 + 3000], [null, 'http_429', 12, T0 + 2000]]);
        assert.deepEqual((await store.pages.recent(0, 2)).map((p) => p.url), ['http://a.test/4', 'http://a.test/3'], 'the limit keeps the newest');
        assert.equal((await store.pages.recent(T0 + 10_000, 100)).length, 0);
      }));

    it('recent with a key: only the results of that key\'s jobs live in the window', () =>
      withStore(async (store) => {
        const [keyA, keyB] = [randomUUID(), randomUUID()];
        const jobA = await store.jobs.create({ seeds: ['http://a.test/1', 'http://a.test/2'], options: options(), source: 'api', keyId: keyA }, T0);
        await store.jobs.create({ seeds: ['http://b.test/1', 'http://b.test/2'], options: options(), source: 'api', keyId: keyB }, T0);
        await store.jobs.create({ seeds: ['http://c.test/1'], options: options(), source: 'api' }, T0);
        const entries = (await claim(store, claimOpts())).sort((x, y) => x.id - y.id);
        assert.equal(entries.length, 5);
        for (const [i, e] of entries.entries()) await settle(store, [done(e, [], { fetchedAt: T0 + i * 1000, fetchMs: 10, statusCode: 200 })], T0 + i * 1000);
        const urls = async (since: number, limit: number, key?: string) => (await store.pages.recent(since, limit, key)).map((p) => p.url).sort();
        assert.deepEqual(await urls(0, 100, keyA), ['http://a.test/1', 'http://a.test/2']);
        assert.deepEqual(await urls(0, 100, keyB), ['http://b.test/1', 'http://b.test/2']);
        assert.deepEqual(await urls(0, 1, keyA), [(await store.pages.recent(0, 100, keyA))[0]!.url], 'the limit keeps the newest');
        assert.equal((await store.pages.recent(0, 100)).length, 5, 'without a key, every job');
        assert.deepEqual(await store.pages.recent(0, 100, randomUUID()), [], 'a key without jobs sees nothing');
        assert.equal((await store.jobs.get(jobA.id))!.status, 'done');
        assert.deepEqual(await store.pages.recent(T0 + 10_000, 100, keyA), []);
      }));
  });
}
