/** The Store contract, `store.webhooks`: webhooks, their outbox, leases, and the job-end events published with the job's final status. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AttemptResult, ClaimedDelivery, Store } from '../../../src/store/types.ts';
import { claim, settle } from '../frontier-calls.ts';
import { T0, UUID, claimOpts, done, failed, options, type ContractContext } from './helpers.ts';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const LEASE = 30_000;

async function hook(store: Store, events: string[], url = 'https://hooks.example/in', now = T0) {
  return store.webhooks.create({ url, events, secret: SECRET }, now);
}

async function claimAllDue(store: Store, now: number, limit = 100): Promise<ClaimedDelivery[]> {
  return store.webhooks.claimDue({ limit, leaseMs: LEASE, now });
}

/** Every delivery of every webhook, oldest first, as `type webhookUrl` strings. */
async function outbox(store: Store): Promise<string[]> {
  const out: string[] = [];
  for (const w of await store.webhooks.list({ limit: 100 })) {
    for (const d of await store.webhooks.deliveries(w.id, { limit: 100 })) out.push(`${d.eventType} ${w.url}`);
  }
  return out.sort();
}

export function webhooksContract({ withStore, withPeer }: ContractContext): void {
  describe('webhooks', () => {
    it('creates, reads, lists (keyset, oldest first) and deletes webhooks; lists never carry the secret', () =>
      withStore(async (store) => {
        const a = await hook(store, ['job.completed', 'job.failed'], 'https://a.example/hook', T0);
        const b = await hook(store, ['page.changed'], 'https://b.example/hook', T0 + 1);
        assert.match(a.id, UUID);
        assert.deepEqual(a, { id: a.id, url: 'https://a.example/hook', events: ['job.completed', 'job.failed'], keyId: null, createdAt: T0 });
        assert.deepEqual(await store.webhooks.get(b.id), b);
        assert.equal(await store.webhooks.get('00000000-0000-4000-8000-000000000000'), undefined);
        assert.equal(await store.webhooks.get('not-a-uuid'), undefined);
        assert.deepEqual((await store.webhooks.list({ limit: 10 })).map((w) => w.id), [a.id, b.id]);
        assert.deepEqual((await store.webhooks.list({ limit: 1 })).map((w) => w.id), [a.id]);
        assert.deepEqual((await store.webhooks.list({ limit: 10, after: a.id })).map((w) => w.id), [b.id]);
        for (const w of await store.webhooks.list({ limit: 10 })) assert.ok(!('secret' in w));
        const keyed = await store.webhooks.create({ url: 'https://c.example/', events: ['job.failed'], secret: SECRET, keyId: 'key-1' }, T0);
        assert.equal(keyed.keyId, 'key-1');
        assert.equal(await store.webhooks.delete(a.id), true);
        assert.equal(await store.webhooks.delete(a.id), false);
        assert.equal(await store.webhooks.delete('nope'), false);
        assert.deepEqual((await store.webhooks.list({ limit: 10 })).map((w) => w.id), [b.id, keyed.id]);
      }));

    it('publish writes one pending delivery per subscribed webhook, with one webhook-id and the Standard Webhooks body', () =>
      withStore(async (store) => {
        const a = await hook(store, ['page.changed', 'job.failed']);
        const b = await hook(store, ['page.changed']);
        await hook(store, ['job.completed']);
        const data = { counts: { new: 1, changed: 0, unchanged: 2, gone: 0 }, changes: [{ url: 'https://s.example/', change: 'new', pageId: 7 }] };
        const published = await store.webhooks.publish({ type: 'page.changed', jobId: 'j-1', scheduleId: 's-1', data }, T0 + 5);
        assert.equal(published.deliveries, 2);
        assert.match(published.eventId, /^msg_[0-9a-f]{32}$/);
        const [da] = await store.webhooks.deliveries(a.id, { limit: 10 });
        assert.deepEqual(da, {
          id: da!.id, webhookId: a.id, eventId: published.eventId, eventType: 'page.changed', status: 'pending', attempts: 0,
          nextAttemptAt: T0 + 5, lastError: null, lastStatusCode: null, createdAt: T0 + 5, finishedAt: null,
        });
        const claimed = await claimAllDue(store, T0 + 5);
        assert.equal(claimed.length, 2);
        assert.deepEqual(new Set(claimed.map((c) => c.webhookId)), new Set([a.id, b.id]));
        for (const c of claimed) {
          assert.equal(c.eventId, published.eventId);
          assert.equal(c.secret, SECRET);
          assert.equal(c.url, 'https://hooks.example/in');
          assert.equal(c.attempts, 1);
          assert.deepEqual(JSON.parse(c.payload), { type: 'page.changed', timestamp: new Date(T0 + 5).toISOString(), data: { jobId: 'j-1', scheduleId: 's-1', ...data } });
        }
        const nobody = await store.webhooks.publish({ type: 'schedule.run.skipped', scheduleId: 's', data: {} }, T0);
        assert.equal(nobody.deliveries, 0, 'no webhook receives schedule.run.skipped');
      }));

    it('an event for one webhook (webhook.test) goes to it alone, whatever it subscribes to', () =>
      withStore(async (store) => {
        const a = await hook(store, ['job.completed']);
        const b = await hook(store, ['job.completed']);
        const sent = await store.webhooks.publish({ type: 'webhook.test', webhookId: b.id, data: { message: 'hi' } }, T0);
        assert.equal(sent.deliveries, 1);
        assert.deepEqual(await store.webhooks.deliveries(a.id, { limit: 10 }), []);
        assert.equal((await store.webhooks.deliveries(b.id, { limit: 10 }))[0]?.eventType, 'webhook.test');
        assert.equal((await store.webhooks.publish({ type: 'webhook.test', webhookId: '00000000-0000-4000-8000-000000000000', data: {} }, T0)).deliveries, 0);
      }));

    it('a lease hides a delivery from every other claim until it expires; a stale lease cannot complete it', () =>
      withStore(async (store) => {
        const w = await hook(store, ['job.failed']);
        await store.webhooks.publish({ type: 'job.failed', jobId: 'j', data: {} }, T0);
        assert.deepEqual(await claimAllDue(store, T0 - 1), [], 'not due before its time');
        const [first] = await claimAllDue(store, T0);
        assert.ok(first);
        assert.deepEqual(await claimAllDue(store, T0 + LEASE - 1), [], 'leased');
        const [second] = await claimAllDue(store, T0 + LEASE);
        assert.ok(second, 'the lease expired: the sender died, the attempt is due again');
        assert.equal(second.attempts, 2);
        assert.notEqual(second.leaseToken, first.leaseToken);
        const ok: AttemptResult = { status: 'delivered', statusCode: 204 };
        assert.equal(await store.webhooks.complete(first.id, first.leaseToken, ok, T0 + LEASE + 1), false, 'stale lease');
        assert.equal(await store.webhooks.complete(second.id, second.leaseToken, ok, T0 + LEASE + 2), true);
        assert.equal(await store.webhooks.complete(second.id, second.leaseToken, ok, T0 + LEASE + 3), false, 'completed once');
        const [d] = await store.webhooks.deliveries(w.id, { limit: 10 });
        assert.deepEqual({ status: d!.status, attempts: d!.attempts, nextAttemptAt: d!.nextAttemptAt, lastStatusCode: d!.lastStatusCode, finishedAt: d!.finishedAt },
          { status: 'delivered', attempts: 2, nextAttemptAt: null, lastStatusCode: 204, finishedAt: T0 + LEASE + 2 });
        assert.deepEqual(await claimAllDue(store, T0 + 10 * LEASE), [], 'a delivered event is never sent again');
      }));

    it('a failed attempt waits for its retry with its error; a given-up delivery is failed for good', () =>
      withStore(async (store) => {
        const w = await hook(store, ['job.completed']);
        await store.webhooks.publish({ type: 'job.completed', jobId: 'j', data: {} }, T0);
        const [a1] = await claimAllDue(store, T0);
        assert.equal(await store.webhooks.complete(a1!.id, a1!.leaseToken, { status: 'pending', nextAttemptAt: T0 + 5_000, error: 'http_500', statusCode: 500 }, T0 + 10), true);
        let [d] = await store.webhooks.deliveries(w.id, { limit: 1 });
        assert.deepEqual([d!.status, d!.attempts, d!.nextAttemptAt, d!.lastError, d!.lastStatusCode], ['pending', 1, T0 + 5_000, 'http_500', 500]);
        assert.deepEqual(await claimAllDue(store, T0 + 4_999), []);
        const [a2] = await claimAllDue(store, T0 + 5_000);
        assert.equal(a2?.attempts, 2);
        assert.equal(await store.webhooks.complete(a2!.id, a2!.leaseToken, { status: 'failed', error: 'timeout', statusCode: null }, T0 + 5_010), true);
        [d] = await store.webhooks.deliveries(w.id, { limit: 1 });
        assert.deepEqual([d!.status, d!.attempts, d!.nextAttemptAt, d!.lastError, d!.lastStatusCode, d!.finishedAt], ['failed', 2, null, 'timeout', null, T0 + 5_010]);
        assert.deepEqual(await claimAllDue(store, T0 + 10 ** 9), []);
      }));

    it('claims take the oldest due first, up to the limit, and lists show the newest first (keyset)', () =>
      withStore(async (store) => {
        const w = await hook(store, ['page.changed']);
        for (let i = 0; i < 5; i++) await store.webhooks.publish({ type: 'page.changed', jobId: `j${i}`, data: { i } }, T0 + i);
        const first = await claimAllDue(store, T0 + 10, 2);
        assert.deepEqual(first.map((c) => JSON.parse(c.payload).data.i), [0, 1]);
        const rest = await claimAllDue(store, T0 + 10, 10);
        assert.deepEqual(rest.map((c) => JSON.parse(c.payload).data.i), [2, 3, 4]);
        const page1 = await store.webhooks.deliveries(w.id, { limit: 2 });
        const page2 = await store.webhooks.deliveries(w.id, { limit: 10, after: page1[1]!.id });
        assert.deepEqual([...page1, ...page2].map((d) => d.createdAt), [T0 + 4, T0 + 3, T0 + 2, T0 + 1, T0]);
        assert.deepEqual(await store.webhooks.deliveries('00000000-0000-4000-8000-000000000000', { limit: 10 }), []);
      }));

    it('retention removes deliveries delivered or given up before the cutoff, never pending ones', () =>
      withStore(async (store) => {
        const w = await hook(store, ['job.failed']);
        for (let i = 0; i < 3; i++) await store.webhooks.publish({ type: 'job.failed', data: { i } }, T0 + i);
        const [a, b] = await claimAllDue(store, T0 + 10, 2);
        await store.webhooks.complete(a!.id, a!.leaseToken, { status: 'delivered', statusCode: 200 }, T0 + 100);
        await store.webhooks.complete(b!.id, b!.leaseToken, { status: 'failed', error: 'timeout', statusCode: null }, T0 + 200);
        assert.equal(await store.webhooks.dropFinishedBefore(T0 + 100), 0, 'finished at the cutoff: kept');
        assert.equal(await store.webhooks.dropFinishedBefore(T0 + 101), 1);
        assert.equal(await store.webhooks.dropFinishedBefore(T0 + 10 ** 9), 1);
        const left = await store.webhooks.deliveries(w.id, { limit: 10 });
        assert.deepEqual(left.map((d) => d.status), ['pending']);
      }));

    it('deleting a webhook drops its deliveries: nothing of it is sent, an attempt in flight cannot complete', () =>
      withStore(async (store) => {
        const w = await hook(store, ['job.failed']);
        await store.webhooks.publish({ type: 'job.failed', data: {} }, T0);
        await store.webhooks.publish({ type: 'job.failed', data: {} }, T0 + 1);
        const [inFlight] = await claimAllDue(store, T0, 1);
        assert.equal(await store.webhooks.delete(w.id), true);
        assert.equal(await store.webhooks.complete(inFlight!.id, inFlight!.leaseToken, { status: 'delivered', statusCode: 200 }, T0 + 2), false);
        assert.deepEqual(await claimAllDue(store, T0 + 10 * LEASE), []);
        assert.equal((await store.webhooks.stats({ failingAttempts: 1, now: T0 })).pending, 0);
      }));

    it('stats: pending deliveries, the oldest pending, and webhooks failing repeatedly (an attempt in flight is not a failure yet)', () =>
      withStore(async (store) => {
        assert.deepEqual(await store.webhooks.stats({ failingAttempts: 2, now: T0 }), { pending: 0, oldestPendingAt: null, failingWebhooks: 0 });
        const a = await hook(store, ['job.failed']);
        await hook(store, ['job.failed']);
        await store.webhooks.publish({ type: 'job.failed', data: {} }, T0);
        await store.webhooks.publish({ type: 'job.failed', data: {} }, T0 + 100);
        assert.deepEqual(await store.webhooks.stats({ failingAttempts: 2, now: T0 + 100 }), { pending: 4, oldestPendingAt: T0, failingWebhooks: 0 });
        const fail = async (now: number) => {
          for (const c of await claimAllDue(store, now)) {
            if (c.webhookId !== a.id) {
              await store.webhooks.complete(c.id, c.leaseToken, { status: 'delivered', statusCode: 200 }, now);
              continue;
            }
            await store.webhooks.complete(c.id, c.leaseToken, { status: 'pending', nextAttemptAt: now + 10, error: 'http_503', statusCode: 503 }, now);
          }
        };
        await fail(T0 + 200);
        assert.deepEqual(await store.webhooks.stats({ failingAttempts: 2, now: T0 + 200 }), { pending: 2, oldestPendingAt: T0, failingWebhooks: 0 });
        const inFlight = await claimAllDue(store, T0 + 210);
        assert.equal(inFlight.length, 2);
        assert.equal((await store.webhooks.stats({ failingAttempts: 2, now: T0 + 211 })).failingWebhooks, 0, 'the second attempts are in flight');
        for (const c of inFlight) await store.webhooks.complete(c.id, c.leaseToken, { status: 'pending', nextAttemptAt: T0 + 300, error: 'timeout', statusCode: null }, T0 + 212);
        assert.deepEqual(await store.webhooks.stats({ failingAttempts: 2, now: T0 + 213 }), { pending: 2, oldestPendingAt: T0, failingWebhooks: 1 });
      }));

    it("a job's end publishes job.completed, job.failed or job.cancelled exactly once, with its summary", () =>
      withStore(async (store) => {
        await hook(store, ['job.completed', 'job.failed', 'job.cancelled'], 'https://all.example/');
        await hook(store, ['job.cancelled'], 'https://cancel.example/');
        const ok = await store.jobs.create({ seeds: ['http://a.test/1', 'http://a.test/2'], options: options(), source: 'api' }, T0);
        const entries = await claim(store, claimOpts({ now: T0 + 1 }));
        await settle(store, [done(entries[0]!)], T0 + 2);
        assert.deepEqual(await outbox(store), [], 'a job still running publishes nothing');
        await settle(store, [failed(entries[1]!, 'http_404', T0 + 3)], T0 + 3);
        assert.deepEqual(await outbox(store), ['job.completed https://all.example/']);
        const [event] = await claimAllDue(store, T0 + 3);
        assert.deepEqual(JSON.parse(event!.payload), {
          type: 'job.completed',
          timestamp: new Date(T0 + 3).toISOString(),
          data: { jobId: ok.id, scheduleId: null, status: 'done', reason: null, counts: { admitted: 2, fetched: 1, failed: 1 }, startedAt: T0 + 1, finishedAt: T0 + 3 },
        });

        const bad = await store.jobs.create({ seeds: ['http://b.test/1'], options: options(), source: 'api' }, T0 + 10);
        const [b1] = await claim(store, claimOpts({ now: T0 + 11 }));
        await settle(store, [failed(b1!, 'timeout', T0 + 12)], T0 + 12);
        const cancelled = await store.jobs.create({ seeds: ['http://c.test/1'], options: options(), source: 'api' }, T0 + 20);
        await store.jobs.cancel(cancelled.id, 'cancelled_by_operator', T0 + 21);
        await store.jobs.cancel(cancelled.id, 'again', T0 + 22);
        const operator = await store.jobs.create({ seeds: ['http://d.test/1'], options: options(), source: 'api' }, T0 + 30);
        await store.jobs.fail(operator.id, 'bad_seed', T0 + 31);
        await store.jobs.fail(operator.id, 'bad_seed', T0 + 32);
        await store.jobs.cancel(ok.id, 'late', T0 + 33);
        assert.deepEqual(await outbox(store), [
          'job.cancelled https://all.example/',
          'job.cancelled https://cancel.example/',
          'job.completed https://all.example/',
          'job.failed https://all.example/',
          'job.failed https://all.example/',
        ]);
        const bodies = (await claimAllDue(store, T0 + 40)).map((c) => JSON.parse(c.payload) as { type: string; data: Record<string, unknown> });
        const byJob = new Map(bodies.map((b) => [`${b.type} ${b.data.jobId}`, b.data]));
        assert.deepEqual(byJob.get(`job.failed ${bad.id}`), { jobId: bad.id, scheduleId: null, status: 'failed', reason: 'timeout', counts: { admitted: 1, fetched: 0, failed: 1 }, startedAt: T0 + 11, finishedAt: T0 + 12 });
        assert.equal(byJob.get(`job.failed ${operator.id}`)?.reason, 'bad_seed');
        assert.equal(byJob.get(`job.cancelled ${cancelled.id}`)?.reason, 'cancelled_by_operator');
      }));

    it("the end of a schedule's job names the schedule (settled to its end, or cancelled)", () =>
      withStore(async (store) => {
        await hook(store, ['job.completed', 'job.cancelled'], 'https://all.example/');
        const schedule = { id: 'sched-1', revisit: 'all' as const };
        const ran = await store.jobs.create({ seeds: ['http://a.test/1'], options: options({ schedule }), source: 'schedule' }, T0);
        const [entry] = await claim(store, claimOpts({ now: T0 + 1 }));
        await settle(store, [done(entry!)], T0 + 2);
        const stopped = await store.jobs.create({ seeds: ['http://b.test/1'], options: options({ schedule }), source: 'schedule' }, T0 + 3);
        await store.jobs.cancel(stopped.id, 'cancelled_by_operator', T0 + 4);
        const bodies = (await claimAllDue(store, T0 + 5)).map((c) => JSON.parse(c.payload) as { type: string; data: Record<string, unknown> });
        assert.deepEqual(bodies.map((b) => [b.type, b.data.jobId, b.data.scheduleId]).sort(), [
          ['job.cancelled', stopped.id, 'sched-1'],
          ['job.completed', ran.id, 'sched-1'],
        ]);
      }));

    it('two store handles claiming at once never lease one delivery twice', (t) =>
      withPeer(t, async (store, peer) => {
        await hook(store, ['page.changed']);
        await hook(store, ['page.changed']);
        for (let i = 0; i < 100; i++) await store.webhooks.publish({ type: 'page.changed', data: { i } }, T0);
        const seen = new Map<number, string>();
        for (let round = 0; round < 50 && seen.size < 200; round++) {
          const batches = await Promise.all([store, peer, store, peer].map((s) => s.webhooks.claimDue({ limit: 15, leaseMs: LEASE, now: T0 + round })));
          for (const [i, batch] of batches.entries()) {
            for (const c of batch) {
              assert.ok(!seen.has(c.id), `delivery ${c.id} leased by claim ${i} and ${seen.get(c.id)}`);
              seen.set(c.id, `claim ${i}`);
            }
          }
        }
        assert.equal(seen.size, 200);
      }));
  });
}
