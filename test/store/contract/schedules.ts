/**
 * Schedules: CRUD, claiming due runs exactly once (overlap, missed and stale runs), and the end of
 * a run (baseline, gone pages, changes).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DuePlan, FrontierEntry, NewSchedule, Planner, RevisitFacts, Store } from '../../../src/store/types.ts';
import { claim, settle } from '../frontier-calls.ts';
import { claimOpts, done, failed, options, T0, UUID, type ContractContext } from './helpers.ts';

const SETTINGS = { minIntervalMs: 1_000, maxIntervalMs: 10_000 };

function newSchedule(overrides: Partial<NewSchedule> = {}): NewSchedule {
  return {
    name: 'prices',
    cron: '*/5 * * * * *',
    timezone: 'UTC',
    job: { seeds: ['http://a.test/'], maxPages: 10 },
    overlap: 'skip',
    revisit: 'all',
    enabled: true,
    keyId: null,
    nextRunAt: T0,
    ...overrides,
  };
}

/** A planner that runs every due schedule's `nextRunAt` once and moves it on by 5 s. */
const everyFive: Planner = (s, _now): DuePlan => ({ missed: [], due: [s.nextRunAt!], next: s.nextRunAt! + 5_000 });

function facts(links: string[] = [], etag: string | null = null): RevisitFacts {
  return { etag, lastModified: null, dataHash: null, links };
}

/** Creates the run's job, then fetches its URLs as `pages` says (in one settle), and lets it end. */
async function runJob(
  store: Store,
  scheduleId: string,
  runId: number,
  now: number,
  pages: Record<string, { change: 'new' | 'changed' | 'unchanged' | 'gone' | null; hash?: string; etag?: string; links?: string[] }>,
): Promise<string> {
  const urls = Object.keys(pages);
  const job = await store.jobs.create({ seeds: urls, options: options({ schedule: { id: scheduleId, revisit: 'all' } }), source: 'schedule' }, now);
  await store.schedules.markStarted(runId, job.id, now);
  const entries: FrontierEntry[] = await claim(store, claimOpts({ now, limit: urls.length }));
  assert.equal(entries.length, urls.length);
  await settle(store, entries.map((e) => {
    const p = pages[e.url]!;
    if (p.change === 'gone') {
      const out = failed(e, 'http_404', now);
      if (out.kind === 'failed') Object.assign(out.page, { change: 'gone', statusCode: 404 });
      return out;
    }
    return done(e, [], { change: p.change, contentHash: p.hash ?? null, fetchedAt: now, revisit: facts(p.links ?? [], p.etag ?? null) });
  }), now);
  assert.equal((await store.jobs.get(job.id))!.status, 'done');
  return job.id;
}

export function schedulesContract({ withStore, withPeer }: ContractContext): void {
  describe('schedules', () => {
    it('creates, reads, lists (keyset), updates and deletes schedules', () =>
      withStore(async (store) => {
        const a = await store.schedules.create(newSchedule(), T0);
        assert.match(a.id, UUID);
        assert.deepEqual(a, { id: a.id, ...newSchedule(), createdAt: T0, updatedAt: T0 });
        const b = await store.schedules.create(newSchedule({ name: null, overlap: 'queue', revisit: 'adaptive', enabled: false, nextRunAt: null }), T0 + 1);
        assert.deepEqual(await store.schedules.get(b.id), b);
        assert.deepEqual((await store.schedules.list({ limit: 10 })).map((s) => s.id), [a.id, b.id]);
        assert.deepEqual((await store.schedules.list({ limit: 10, after: a.id })).map((s) => s.id), [b.id]);
        const changed = await store.schedules.update(a.id, { cron: '0 * * * * *', enabled: false, nextRunAt: null, job: { seeds: ['http://b.test/'] } }, T0 + 5);
        assert.equal(changed!.cron, '0 * * * * *');
        assert.equal(changed!.enabled, false);
        assert.equal(changed!.nextRunAt, null);
        assert.deepEqual(changed!.job, { seeds: ['http://b.test/'] });
        assert.equal(changed!.updatedAt, T0 + 5);
        assert.equal(changed!.createdAt, T0);
        assert.equal(await store.schedules.update('00000000-0000-4000-8000-000000000000', { name: 'x' }), undefined);
        assert.equal(await store.schedules.delete(a.id), true);
        assert.equal(await store.schedules.delete(a.id), false);
        assert.equal(await store.schedules.get(a.id), undefined);
        assert.equal(await store.schedules.get('not-a-uuid'), undefined);
      }));

    it('claims a due run once, moves the next run on, and records the job that started it', () =>
      withStore(async (store) => {
        const s = await store.schedules.create(newSchedule(), T0 - 10);
        await store.schedules.create(newSchedule({ enabled: false }), T0 - 10);
        await store.schedules.create(newSchedule({ nextRunAt: T0 + 60_000 }), T0 - 10);
        assert.equal(await store.schedules.earliestDue(), T0);
        const first = await store.schedules.claimDue(T0 + 100, everyFive, { limit: 10, staleMs: 60_000 });
        assert.equal(first.toStart.length, 1);
        assert.deepEqual(first.skipped, []);
        const { run, schedule } = first.toStart[0]!;
        assert.equal(schedule.id, s.id);
        assert.deepEqual({ ...run, id: 0 }, { id: 0, scheduleId: s.id, jobId: null, plannedAt: T0, startedAt: null, finishedAt: null, outcome: 'pending', reason: null });
        assert.equal((await store.schedules.get(s.id))!.nextRunAt, T0 + 5_000);
        // Nothing is due any more at the same instant.
        const again = await store.schedules.claimDue(T0 + 100, everyFive, { limit: 10, staleMs: 60_000 });
        assert.deepEqual(again, { toStart: [], skipped: [], missed: [], queued: [] });
        const job = await store.jobs.create({ seeds: ['http://a.test/'], options: options(), source: 'schedule' }, T0 + 150);
        await store.schedules.markStarted(run.id, job.id, T0 + 150);
        const runs = await store.schedules.runs(s.id, { limit: 10 });
        assert.deepEqual(runs, [{ id: run.id, scheduleId: s.id, jobId: job.id, plannedAt: T0, startedAt: T0 + 150, finishedAt: null, outcome: 'running', reason: null }]);
      }));

    it('overlap skip records a skipped run while the previous job is live; queue waits for it, one at most', () =>
      withStore(async (store) => {
        const skip = await store.schedules.create(newSchedule(), T0);
        const queue = await store.schedules.create(newSchedule({ overlap: 'queue' }), T0);
        const first = await store.schedules.claimDue(T0, everyFive, { limit: 10, staleMs: 60_000 });
        assert.equal(first.toStart.length, 2);
        const jobs = new Map<string, string>();
        for (const { run, schedule } of first.toStart) {
          const job = await store.jobs.create({ seeds: [`http://${schedule.overlap}.test/`], options: options(), source: 'schedule' }, T0);
          jobs.set(schedule.id, job.id);
          await store.schedules.markStarted(run.id, job.id, T0);
        }
        const second = await store.schedules.claimDue(T0 + 5_000, everyFive, { limit: 10, staleMs: 60_000 });
        assert.deepEqual(second.toStart, []);
        assert.deepEqual(second.skipped.map((r) => [r.scheduleId, r.plannedAt, r.outcome, r.reason]), [[skip.id, T0 + 5_000, 'skipped', 'previous_running']]);
        assert.deepEqual(second.queued.map((r) => [r.scheduleId, r.plannedAt, r.outcome]), [[queue.id, T0 + 5_000, 'queued']]);
        const third = await store.schedules.claimDue(T0 + 10_000, everyFive, { limit: 10, staleMs: 60_000 });
        assert.deepEqual(third.skipped.map((r) => [r.scheduleId, r.reason]).sort(), [[skip.id, 'previous_running'], [queue.id, 'queue_full']].sort());
        // The queued run starts once the previous job ended.
        await store.jobs.cancel(jobs.get(queue.id)!, 'test', T0 + 11_000);
        const fourth = await store.schedules.claimDue(T0 + 12_000, everyFive, { limit: 10, staleMs: 60_000 });
        assert.deepEqual(fourth.toStart.map(({ run }) => [run.scheduleId, run.plannedAt, run.outcome]), [[queue.id, T0 + 5_000, 'pending']]);
      }));

    it('records missed runs and marks as missed a pending run whose claimer died', () =>
      withStore(async (store) => {
        const s = await store.schedules.create(newSchedule(), T0);
        const down: Planner = () => ({ missed: [T0, T0 + 5_000], due: [T0 + 10_000], next: T0 + 15_000 });
        const claimed = await store.schedules.claimDue(T0 + 11_000, down, { limit: 10, staleMs: 60_000 });
        assert.deepEqual(claimed.missed.map((r) => [r.plannedAt, r.outcome, r.reason]), [[T0, 'missed', 'down'], [T0 + 5_000, 'missed', 'down']]);
        assert.deepEqual(claimed.toStart.map(({ run }) => run.plannedAt), [T0 + 10_000]);
        // The claimer never created the job: past staleMs the run is missed.
        const later = await store.schedules.claimDue(T0 + 11_000 + 60_001, () => ({ missed: [], due: [], next: T0 + 200_000 }), { limit: 10, staleMs: 60_000 });
        assert.deepEqual(later.missed.map((r) => [r.plannedAt, r.outcome, r.reason]), [[T0 + 10_000, 'missed', 'start_interrupted']]);
        const runs = await store.schedules.runs(s.id, { limit: 2 });
        assert.deepEqual(runs.map((r) => r.plannedAt), [T0 + 10_000, T0 + 5_000]);
        assert.deepEqual((await store.schedules.runs(s.id, { limit: 2, after: runs[1]!.id })).map((r) => r.plannedAt), [T0]);
      }));

    it('a run that could not start is failed with its reason', () =>
      withStore(async (store) => {
        const s = await store.schedules.create(newSchedule(), T0);
        const { toStart } = await store.schedules.claimDue(T0, everyFive, { limit: 10, staleMs: 60_000 });
        await store.schedules.markNotStarted(toStart[0]!.run.id, 'target_forbidden', T0 + 1);
        const [run] = await store.schedules.runs(s.id, { limit: 1 });
        assert.deepEqual([run!.outcome, run!.reason, run!.finishedAt, run!.jobId], ['failed', 'target_forbidden', T0 + 1, null]);
      }));

    it('finishing runs: the first is the baseline; the next updates it, lists gone pages (404 and no longer linked) and its changes', () =>
      withStore(async (store) => {
        const s = await store.schedules.create(newSchedule(), T0);
        const c1 = await store.schedules.claimDue(T0, everyFive, { limit: 10, staleMs: 60_000 });
        const job1 = await runJob(store, s.id, c1.toStart[0]!.run.id, T0, {
          'http://a.test/': { change: 'new', hash: 'h0', etag: '"e0"', links: ['http://a.test/1'] },
          'http://a.test/1': { change: 'new', hash: 'h1' },
          'http://a.test/2': { change: 'new', hash: 'h2' },
          'http://a.test/3': { change: 'new', hash: 'h3' },
        });
        const [f1, ...none] = await store.schedules.finishRuns(T0 + 1_000, SETTINGS, 10);
        assert.deepEqual(none, []);
        assert.equal(f1!.baseline, true);
        assert.deepEqual(f1!.counts, { new: 4, changed: 0, unchanged: 0, gone: 0 });
        assert.deepEqual(f1!.run.outcome, 'done');
        assert.equal(f1!.run.jobId, job1);
        assert.deepEqual(await store.schedules.finishRuns(T0 + 1_000, SETTINGS, 10), []);
        const b = await store.schedules.baseline(s.id, 'http://a.test/');
        assert.equal(b!.etag, '"e0"');
        assert.equal(b!.contentHash, 'h0');
        assert.deepEqual(b!.links, ['http://a.test/1']);
        assert.equal(b!.intervalMs, SETTINGS.minIntervalMs);
        assert.equal(b!.nextVisitAt, T0 + SETTINGS.minIntervalMs);
        assert.equal(b!.title, 'title of http://a.test/');
        assert.equal(await store.schedules.baseline(s.id, 'http://a.test/nope'), undefined);

        const c2 = await store.schedules.claimDue(T0 + 5_000, everyFive, { limit: 10, staleMs: 60_000 });
        const job2 = await runJob(store, s.id, c2.toStart[0]!.run.id, T0 + 5_000, {
          'http://a.test/': { change: 'unchanged', hash: 'h0', etag: '"e0"' },
          'http://a.test/1': { change: 'changed', hash: 'h1b' },
          'http://a.test/2': { change: 'gone' },
          'http://a.test/4': { change: 'new', hash: 'h4' },
        });
        const [f2] = await store.schedules.finishRuns(T0 + 6_000, SETTINGS, 10);
        assert.equal(f2!.baseline, false);
        assert.deepEqual(f2!.counts, { new: 1, changed: 1, unchanged: 1, gone: 2 });
        assert.deepEqual(f2!.changes.map((c) => [c.url, c.change]), [
          ['http://a.test/1', 'changed'], ['http://a.test/2', 'gone'], ['http://a.test/4', 'new'], ['http://a.test/3', 'gone'],
        ]);
        // The interval of the unchanged URL grew; the changed one's stays at the minimum.
        assert.equal((await store.schedules.baseline(s.id, 'http://a.test/'))!.intervalMs, 1_500);
        assert.equal((await store.schedules.baseline(s.id, 'http://a.test/1'))!.intervalMs, 1_000);
        assert.equal(await store.schedules.baseline(s.id, 'http://a.test/2'), undefined);
        assert.equal(await store.schedules.baseline(s.id, 'http://a.test/3'), undefined);

        const all = await store.schedules.changes(job2, { types: ['new', 'changed', 'unchanged', 'gone'], limit: 100 });
        assert.deepEqual(all.map((c) => [c.url, c.change]), [
          ['http://a.test/', 'unchanged'], ['http://a.test/1', 'changed'], ['http://a.test/2', 'gone'], ['http://a.test/4', 'new'], ['http://a.test/3', 'gone'],
        ]);
        const gone = await store.schedules.changes(job2, { types: ['gone'], limit: 1 });
        assert.deepEqual(gone.map((c) => c.url), ['http://a.test/2']);
        assert.deepEqual((await store.schedules.changes(job2, { types: ['gone'], limit: 5, after: gone[0]!.pageId })).map((c) => c.url), ['http://a.test/3']);
        // The page of a URL no longer linked points at the previous run's page.
        const unlinked = await store.pages.get(job2, all[4]!.pageId);
        assert.equal(unlinked!.errorCode, 'not_linked');
        const previous = await store.schedules.pageById(unlinked!.previousPageId!);
        assert.equal(previous!.jobId, job1);
        assert.equal(previous!.url, 'http://a.test/3');
        assert.equal(previous!.contentHash, 'h3');
      }));

    it('a job that failed or was cancelled says nothing of what is gone', () =>
      withStore(async (store) => {
        const s = await store.schedules.create(newSchedule(), T0);
        const c1 = await store.schedules.claimDue(T0, everyFive, { limit: 10, staleMs: 60_000 });
        await runJob(store, s.id, c1.toStart[0]!.run.id, T0, { 'http://a.test/': { change: 'new', hash: 'h0' } });
        await store.schedules.finishRuns(T0 + 1, SETTINGS, 10);
        const c2 = await store.schedules.claimDue(T0 + 5_000, everyFive, { limit: 10, staleMs: 60_000 });
        const job = await store.jobs.create({ seeds: ['http://b.test/'], options: options({ schedule: { id: s.id, revisit: 'all' } }), source: 'schedule' }, T0 + 5_000);
        await store.schedules.markStarted(c2.toStart[0]!.run.id, job.id, T0 + 5_000);
        await store.jobs.cancel(job.id, 'test', T0 + 5_001);
        const [f] = await store.schedules.finishRuns(T0 + 6_000, SETTINGS, 10);
        assert.equal(f!.run.outcome, 'cancelled');
        assert.deepEqual(f!.counts, { new: 0, changed: 0, unchanged: 0, gone: 0 });
        assert.ok(await store.schedules.baseline(s.id, 'http://a.test/'));
      }));

    it('publishes page.changed with the end of a run that changed pages, and schedule.run.skipped with skipped and missed runs, in the same transaction', () =>
      withStore(async (store) => {
        const hook = await store.webhooks.create({ url: 'https://hooks.example/owl', events: ['page.changed', 'schedule.run.skipped'], secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }, T0);
        const outbox = async (now: number) => (await store.webhooks.claimDue({ limit: 100, leaseMs: 60_000, now })).map((d) => ({ type: d.eventType, body: JSON.parse(d.payload) }));
        const s = await store.schedules.create(newSchedule(), T0);
        const c1 = await store.schedules.claimDue(T0, everyFive, { limit: 10, staleMs: 60_000 });
        await runJob(store, s.id, c1.toStart[0]!.run.id, T0, { 'http://a.test/': { change: 'new', hash: 'h0' }, 'http://a.test/1': { change: 'new', hash: 'h1' } });
        await store.schedules.finishRuns(T0 + 1_000, SETTINGS, 10);
        // The baseline run sends nothing.
        assert.deepEqual(await outbox(T0 + 1_000), []);
        const c2 = await store.schedules.claimDue(T0 + 5_000, everyFive, { limit: 10, staleMs: 60_000 });
        const job2 = await runJob(store, s.id, c2.toStart[0]!.run.id, T0 + 5_000, { 'http://a.test/': { change: 'changed', hash: 'h0b' } });
        await store.schedules.finishRuns(T0 + 6_000, SETTINGS, 10);
        const [changed, ...none] = await outbox(T0 + 6_000);
        assert.deepEqual(none, []);
        assert.equal(changed!.type, 'page.changed');
        assert.equal(changed!.body.data.jobId, job2);
        assert.equal(changed!.body.data.scheduleId, s.id);
        assert.deepEqual(changed!.body.data.counts, { new: 0, changed: 1, unchanged: 0, gone: 1 });
        assert.deepEqual(changed!.body.data.changes.map((c: { url: string; change: string }) => [c.url, c.change]), [['http://a.test/', 'changed'], ['http://a.test/1', 'gone']]);
        // A run planned while the previous job runs is skipped; two planned while nothing ran are missed.
        const c3 = await store.schedules.claimDue(T0 + 10_000, everyFive, { limit: 10, staleMs: 60_000 });
        const job3 = await store.jobs.create({ seeds: ['http://a.test/'], options: options(), source: 'schedule' }, T0 + 10_000);
        await store.schedules.markStarted(c3.toStart[0]!.run.id, job3.id, T0 + 10_000);
        await store.schedules.claimDue(T0 + 15_000, () => ({ missed: [T0 + 15_000], due: [T0 + 20_000], next: T0 + 25_000 }), { limit: 10, staleMs: 60_000 });
        const skipped = (await outbox(T0 + 21_000)).map((d) => [d.type, d.body.data.scheduleId, d.body.data.plannedAt, d.body.data.outcome, d.body.data.reason]);
        assert.deepEqual(skipped.sort(), [
          ['schedule.run.skipped', s.id, T0 + 15_000, 'missed', 'down'],
          ['schedule.run.skipped', s.id, T0 + 20_000, 'skipped', 'previous_running'],
        ]);
        assert.equal((await store.webhooks.deliveries(hook.id, { limit: 10 })).length, 3);
      }));

    it('two handles claiming the same due schedules at once start each run once', (t) =>
      withPeer(t, async (store, peer) => {
        const ids = [];
        for (let i = 0; i < 5; i++) ids.push((await store.schedules.create(newSchedule(), T0)).id);
        const results = await Promise.all([
          store.schedules.claimDue(T0, everyFive, { limit: 10, staleMs: 60_000 }),
          peer.schedules.claimDue(T0, everyFive, { limit: 10, staleMs: 60_000 }),
          store.schedules.claimDue(T0, everyFive, { limit: 10, staleMs: 60_000 }),
          peer.schedules.claimDue(T0, everyFive, { limit: 10, staleMs: 60_000 }),
        ]);
        const started = results.flatMap((r) => r.toStart.map(({ run }) => run.scheduleId)).sort();
        assert.deepEqual(started, [...ids].sort());
      }));
  });
}
