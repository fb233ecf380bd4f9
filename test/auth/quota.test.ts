/** The daily page quota of running jobs: a key over it has its unfinished jobs ended with reason `quota`. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { enforcePageQuotas, QUOTA_REASON } from '../../src/auth/quota.ts';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import type { JobOptions, Store } from '../../src/store/types.ts';
import { claim, settle } from '../store/frontier-calls.ts';
import { done } from '../store/contract/helpers.ts';
import { addKey } from './helpers.ts';

const DAY = 86_400_000;
const T = 20_000 * DAY + 3_600_000; // 01:00 UTC
const options: JobOptions = { maxPages: 100, maxDepth: 5, scope: 'host', mode: 'http', respectRobots: true, allowPrivate: false };

async function fetchOne(store: Store, at: number): Promise<void> {
  const entries = await claim(store, { workerId: 'w', limit: 1, leaseMs: 60_000, maxPerHost: 10, hostDelayMs: 0, now: at });
  assert.equal(entries.length, 1);
  await settle(store, [done(entries[0]!, [], { fetchedAt: at })], at);
}

describe('daily page quota', () => {
  it('ends the live jobs of a key past maxPagesPerDay with reason quota, and only those', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    await store.migrate();
    try {
      const capped = await addKey(store, 'capped', ['jobs:write'], { maxPagesPerDay: 2 }, T);
      const free = await addKey(store, 'free', ['jobs:write'], {}, T);
      const a = await store.jobs.create({ seeds: ['http://a.test/1', 'http://a.test/2', 'http://a.test/3'], options, source: 'api', keyId: capped.id }, T);
      const b = await store.jobs.create({ seeds: ['http://b.test/1'], options, source: 'api', keyId: free.id }, T);
      await fetchOne(store, T);
      assert.deepEqual(await enforcePageQuotas(store, T + 1), [], 'one page of two: nothing ends');
      await fetchOne(store, T + 2);
      // Pages fetched the day before do not count.
      assert.deepEqual(await enforcePageQuotas(store, T + DAY), []);
      const ended = await enforcePageQuotas(store, T + 3);
      assert.deepEqual(ended, [a.id]);
      const job = await store.jobs.get(a.id);
      assert.equal(job?.status, 'cancelled');
      assert.equal(job?.reason, QUOTA_REASON);
      assert.equal((await store.jobs.get(b.id))?.status !== 'cancelled', true);
      assert.deepEqual(await enforcePageQuotas(store, T + 4), [], 'idempotent');
    } finally {
      await store.close();
    }
  });
});
