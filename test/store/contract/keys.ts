/** The Store contract, `store.keys` and `store.audit`, and the jobs' owning key and admission limits. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isOwlError } from '../../../src/errors.ts';
import type { NewApiKey, Store } from '../../../src/store/types.ts';
import { T0, options, done, claimOpts, type ContractContext } from './helpers.ts';
import { claim, settle } from '../frontier-calls.ts';

function newKey(n: number, overrides: Partial<NewApiKey> = {}): NewApiKey {
  return { name: `key ${n}`, scopes: ['jobs:read'], prefix: `owl_${String(n).padStart(8, '0')}`, hash: String(n).padStart(64, 'a'), ...overrides };
}

async function job(store: Store, keyId: string | null, url = 'http://a.test/', admission?: Parameters<Store['jobs']['create']>[0]['admission']) {
  return store.jobs.create({ seeds: [url], options: options(), source: 'api', keyId, admission }, T0);
}

export function keysContract({ withStore }: ContractContext): void {
  describe('keys and audit', () => {
    it('creates keys with their limits, finds them by hash only, lists them oldest first without the hash', () =>
      withStore(async (store) => {
        assert.deepEqual(await store.keys.list(), []);
        const a = await store.keys.create(newKey(1, { scopes: ['jobs:read', 'jobs:write'], rate: 2.5, maxRunningJobs: 3, maxPagesPerDay: 1000, expiresAt: T0 + 10 }), T0);
        const b = await store.keys.create(newKey(2, { scopes: ['admin'] }), T0 + 1);
        assert.deepEqual(a, {
          id: a.id, name: 'key 1', scopes: ['jobs:read', 'jobs:write'], prefix: 'owl_00000001', createdAt: T0, lastUsedAt: null,
          expiresAt: T0 + 10, revokedAt: null, rate: 2.5, maxRunningJobs: 3, maxPagesPerDay: 1000,
        });
        assert.equal('hash' in a, false);
        assert.deepEqual(await store.keys.list(), [a, b]);
        assert.deepEqual(await store.keys.findByHash(newKey(2).hash), { ...b, hash: newKey(2).hash });
        assert.equal(await store.keys.findByHash('f'.repeat(64)), undefined);
        assert.deepEqual(await store.keys.get(b.id), b);
        assert.equal(await store.keys.get('00000000-0000-4000-8000-000000000000'), undefined);
        assert.equal(await store.keys.get('not-an-id'), undefined);
      }));

    it('a second key with the same hash is refused', () =>
      withStore(async (store) => {
        await store.keys.create(newKey(1), T0);
        await assert.rejects(store.keys.create(newKey(1, { name: 'again' }), T0));
      }));

    it('revoke keeps the first time; touch only moves lastUsedAt forward; unknown ids are undefined', () =>
      withStore(async (store) => {
        const k = await store.keys.create(newKey(1), T0);
        assert.equal((await store.keys.revoke(k.id, T0 + 5))?.revokedAt, T0 + 5);
        assert.equal((await store.keys.revoke(k.id, T0 + 9))?.revokedAt, T0 + 5);
        assert.equal(await store.keys.revoke('00000000-0000-4000-8000-000000000000', T0), undefined);
        await store.keys.touch(k.id, T0 + 100);
        await store.keys.touch(k.id, T0 + 50);
        assert.equal((await store.keys.get(k.id))?.lastUsedAt, T0 + 100);
      }));

    it('a token bucket: burst tokens at once, then one per 1/rate seconds', () =>
      withStore(async (store) => {
        const k = await store.keys.create(newKey(1), T0);
        const takes = [];
        for (let i = 0; i < 3; i++) takes.push(await store.keys.take(k.id, 2, 2, T0));
        assert.deepEqual(takes.map((t) => t.allowed), [true, true, false]);
        assert.equal(takes[2]!.retryAfterMs, 500);
        assert.equal((await store.keys.take(k.id, 2, 2, T0 + 250)).allowed, false);
        assert.equal((await store.keys.take(k.id, 2, 2, T0 + 500)).allowed, true);
        assert.equal((await store.keys.take(k.id, 2, 2, T0 + 500)).allowed, false);
        // Idle time refills up to the burst, never beyond.
        const later = [];
        for (let i = 0; i < 3; i++) later.push((await store.keys.take(k.id, 2, 2, T0 + 60_000)).allowed);
        assert.deepEqual(later, [true, true, false]);
        // A fractional rate: one request per 4 s.
        const slow = await store.keys.create(newKey(2), T0);
        assert.deepEqual(await store.keys.take(slow.id, 0.25, 1, T0), { allowed: true, retryAfterMs: 0 });
        assert.deepEqual(await store.keys.take(slow.id, 0.25, 1, T0 + 1000), { allowed: false, retryAfterMs: 3000 });
        assert.equal((await store.keys.take(slow.id, 0.25, 1, T0 + 4000)).allowed, true);
      }));

    it('audit entries: newest first, keyset pages, retention by time', () =>
      withStore(async (store) => {
        const k = await store.keys.create(newKey(1), T0);
        for (let i = 0; i < 5; i++) await store.audit.record({ at: T0 + i, keyId: i % 2 ? k.id : null, action: 'job.create', target: `t${i}`, address: '127.0.0.1' });
        const first = await store.audit.list({ limit: 2 });
        assert.deepEqual(first.map((e) => e.target), ['t4', 't3']);
        assert.deepEqual(first[1], { id: first[1]!.id, at: T0 + 3, keyId: k.id, action: 'job.create', target: 't3', address: '127.0.0.1' });
        const rest = await store.audit.list({ limit: 10, after: first[1]!.id });
        assert.deepEqual(rest.map((e) => [e.target, e.keyId]), [['t2', null], ['t1', k.id], ['t0', null]]);
        assert.equal(await store.audit.deleteBefore(T0 + 2), 2);
        assert.deepEqual((await store.audit.list({ limit: 10 })).map((e) => e.target), ['t4', 't3', 't2']);
      }));

    it('jobs carry the key that created them; list filters by key', () =>
      withStore(async (store) => {
        const a = await store.keys.create(newKey(1), T0);
        const b = await store.keys.create(newKey(2), T0);
        const ja = await job(store, a.id);
        const jb = await job(store, b.id);
        const jn = await job(store, null);
        assert.equal(ja.keyId, a.id);
        assert.equal((await store.jobs.get(jb.id))?.keyId, b.id);
        assert.equal(jn.keyId, null);
        assert.deepEqual((await store.jobs.list({ limit: 10, keyId: a.id })).map((j) => j.id), [ja.id]);
        assert.deepEqual((await store.jobs.list({ limit: 10 })).map((j) => j.id), [jn.id, jb.id, ja.id]);
        const ja2 = await job(store, a.id, 'http://b.test/');
        assert.deepEqual((await store.jobs.list({ limit: 1, keyId: a.id })).map((j) => j.id), [ja2.id]);
        assert.deepEqual((await store.jobs.list({ limit: 5, keyId: a.id, after: ja2.id })).map((j) => j.id), [ja.id]);
        assert.deepEqual((await store.jobs.list({ limit: 5, keyId: a.id, status: 'done' })), []);
      }));

    it('admission: maxRunningJobs counts queued and running jobs of the key only', () =>
      withStore(async (store) => {
        const a = await store.keys.create(newKey(1), T0);
        const b = await store.keys.create(newKey(2), T0);
        const limits = { maxRunningJobs: 2, since: T0 };
        const first = await job(store, a.id, 'http://a.test/', limits);
        await job(store, a.id, 'http://a.test/2', limits);
        await job(store, b.id, 'http://a.test/3', limits);
        const refused = await job(store, a.id, 'http://a.test/4', limits).then(() => null, (e: unknown) => e);
        assert.ok(isOwlError(refused, 'QUOTA_EXCEEDED'), String(refused));
        assert.equal(refused.details.limit, 'maxRunningJobs');
        assert.equal((await store.jobs.list({ limit: 10, keyId: a.id })).length, 2);
        await store.jobs.cancel(first.id, 'x', T0);
        await job(store, a.id, 'http://a.test/5', limits);
      }));

    it('admission: maxPagesPerDay counts pages the key\'s jobs fetched since the day began', () =>
      withStore(async (store) => {
        const a = await store.keys.create(newKey(1), T0);
        const j = await job(store, a.id);
        const entries = await claim(store, claimOpts());
        await settle(store, entries.map((e) => done(e)));
        const over = await job(store, a.id, 'http://a.test/2', { maxPagesPerDay: 1, since: T0 }).then(() => null, (e: unknown) => e);
        assert.ok(isOwlError(over, 'QUOTA_EXCEEDED'), String(over));
        assert.equal(over.details.limit, 'maxPagesPerDay');
        // A new day (pages fetched before `since` do not count), or a larger quota, admits it.
        await job(store, a.id, 'http://a.test/3', { maxPagesPerDay: 1, since: T0 + 1 });
        await job(store, a.id, 'http://a.test/4', { maxPagesPerDay: 2, since: T0 });
        assert.equal((await store.jobs.get(j.id))?.counts.fetched, 1);
      }));
  });
}
