import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { DEFAULTS } from '../../src/config/schema.ts';
import { isOwlError } from '../../src/errors.ts';
import { silentLogger } from '../../src/log.ts';
import { createScheduleMetrics } from '../../src/metrics/registry.ts';
import { nextRunAfter, planDue, validateCron } from '../../src/schedules/cron.ts';
import { Scheduler } from '../../src/schedules/scheduler.ts';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import type { Schedule, Store } from '../../src/store/types.ts';
import { metricValue } from '../api/helpers.ts';
import { Recorder } from './recorder.ts';

const T = Date.UTC(2026, 0, 1, 12, 0, 0);
const MINUTE = 60_000;

function schedule(overrides: Partial<Schedule> = {}): Schedule {
  return {
    id: 'x', name: null, cron: '* * * * *', timezone: 'UTC', job: {}, overlap: 'skip', revisit: 'all', enabled: true, keyId: null,
    nextRunAt: T, createdAt: 0, updatedAt: 0, ...overrides,
  };
}

function violation(fn: () => unknown): { field: unknown; message: string } {
  try {
    fn();
  } catch (err) {
    assert.ok(isOwlError(err, 'VALIDATION'), String(err));
    return { field: err.details.field, message: err.message };
  }
  assert.fail('no error');
}

describe('cron patterns', () => {
  it('accepts five fields or six with seconds, in a time zone, and gives the first run after now', () => {
    assert.equal(validateCron('*/5 * * * *', 'UTC', MINUTE, T), T + 5 * MINUTE);
    assert.equal(validateCron('30 * * * * *', 'UTC', MINUTE, T), T + 30_000);
    // 09:00 in Paris is 08:00 UTC in January.
    assert.equal(validateCron('0 9 * * *', 'Europe/Paris', MINUTE, T), Date.UTC(2026, 0, 2, 8, 0, 0));
    assert.equal(nextRunAfter('0 9 * * *', 'Europe/Paris', T), Date.UTC(2026, 0, 2, 8, 0, 0));
  });

  it('names the bad field: a broken pattern, an unknown zone, runs closer than the minimum interval', () => {
    assert.equal(violation(() => validateCron('* * *', 'UTC', MINUTE, T)).field, 'cron');
    assert.equal(violation(() => validateCron('* * * * *', 'Mars/Olympus', MINUTE, T)).field, 'timezone');
    const tooOften = violation(() => validateCron('*/10 * * * * *', 'UTC', MINUTE, T));
    assert.equal(tooOften.field, 'cron');
    assert.match(tooOften.message, /10 s apart; the shortest interval allowed is 60 s \(OWL_MIN_SCHEDULE_INTERVAL_MS\)/);
    assert.equal(validateCron('* * * * * *', 'UTC', 1_000, T), T + 1_000);
  });

  it('plans due runs: on time, a little late (each runs), down for long (missed, one catch-up)', () => {
    assert.deepEqual(planDue(schedule(), T + 200, 10_000), { missed: [], due: [T], next: T + MINUTE });
    const everySecond = schedule({ cron: '* * * * * *' });
    assert.deepEqual(planDue(everySecond, T + 2_500, 10_000), { missed: [], due: [T, T + 1_000, T + 2_000], next: T + 3_000 });
    const down = planDue(schedule(), T + 3 * MINUTE + 5_000, 1_000);
    assert.deepEqual(down, { missed: [T, T + MINUTE, T + 2 * MINUTE], due: [T + 3 * MINUTE], next: T + 4 * MINUTE });
    // Down for days on a every-second pattern: the list is bounded, the latest due time is the catch-up.
    const long = planDue(everySecond, T + 86_400_000 + 500, 100);
    assert.equal(long.due.length, 1);
    assert.equal(long.due[0], T + 86_400_000);
    assert.ok(long.missed.length <= 100);
    assert.equal(long.next, T + 86_400_000 + 1_000);
  });
});

async function setup(config: Partial<typeof DEFAULTS> = {}) {
  const store: Store = openSqliteStore({ path: ':memory:' });
  await store.migrate();
  const registry = new Registry();
  const metrics = createScheduleMetrics(registry);
  const events = new Recorder();
  const clock = { now: T };
  let created = 0;
  const scheduler = new Scheduler({
    store,
    config: { ...DEFAULTS, allowPrivateTargets: true, ...config },
    metrics,
    events,
    logger: silentLogger(),
    now: () => clock.now,
    onJobCreated: () => created++,
  });
  return { store, registry, events, clock, scheduler, created: () => created };
}

const JOB = { seeds: ['http://127.0.0.1:9/'], maxPages: 5, maxDepth: 1, scope: 'host', mode: 'http', screenshots: false, source: 'schedule' };

describe('scheduler', () => {
  it('starts a due run once with a job marked as the schedule\'s, then reports its end', async () => {
    const { store, registry, events, clock, scheduler, created } = await setup();
    const s = await store.schedules.create({ name: null, cron: '* * * * *', timezone: 'UTC', job: JOB, overlap: 'skip', revisit: 'adaptive', enabled: true, keyId: null, nextRunAt: T }, T - 1);
    clock.now = T + 250;
    await scheduler.tick();
    await scheduler.tick();
    const [run, ...rest] = await store.schedules.runs(s.id, { limit: 10 });
    assert.deepEqual(rest, []);
    assert.equal(run!.outcome, 'running');
    assert.equal(run!.startedAt, T + 250);
    const job = await store.jobs.get(run!.jobId!);
    assert.deepEqual(job!.options.schedule, { id: s.id, revisit: 'adaptive' });
    assert.deepEqual(job!.seeds, ['http://127.0.0.1:9/']);
    assert.equal(job!.source, 'schedule');
    assert.equal(created(), 1);
    assert.equal(await metricValue(registry, 'schedule_runs_total', { outcome: 'started' }), 1);
    assert.equal(await metricValue(registry, 'schedule_start_lag_seconds', {}, 'schedule_start_lag_seconds_sum'), 0.25);
    assert.equal((await store.schedules.get(s.id))!.nextRunAt, T + MINUTE);
    // Still running at the next planned time: skipped, and the event says so.
    clock.now = T + MINUTE + 10;
    await scheduler.tick();
    assert.deepEqual(events.skipped, [{ scheduleId: s.id, plannedAt: T + MINUTE, reason: 'previous_running' }]);
    assert.equal(await metricValue(registry, 'schedule_runs_total', { outcome: 'skipped' }), 1);
    await store.jobs.cancel(job!.id, 'test', clock.now);
    await scheduler.tick();
    assert.equal(events.finished.length, 1);
    assert.deepEqual(events.finished[0], { jobId: job!.id, scheduleId: s.id, baseline: true, counts: { new: 0, changed: 0, unchanged: 0, gone: 0 }, changes: [] });
    assert.equal((await store.schedules.runs(s.id, { limit: 10 })).find((r) => r.jobId === job!.id)!.outcome, 'cancelled');
    await store.close();
  });

  it('after an outage: the runs it missed are reported, one catch-up run starts', async () => {
    const { store, registry, events, clock, scheduler } = await setup();
    const s = await store.schedules.create({ name: null, cron: '* * * * *', timezone: 'UTC', job: JOB, overlap: 'skip', revisit: 'all', enabled: true, keyId: null, nextRunAt: T }, T - 1);
    clock.now = T + 10 * MINUTE + 30_000;
    await scheduler.tick();
    const runs = await store.schedules.runs(s.id, { limit: 100 });
    assert.equal(runs.length, 11);
    assert.deepEqual(runs.filter((r) => r.outcome === 'running').map((r) => r.plannedAt), [T + 10 * MINUTE]);
    assert.equal(runs.filter((r) => r.outcome === 'missed' && r.reason === 'down').length, 10);
    assert.equal(events.skipped.length, 10);
    assert.equal(await metricValue(registry, 'schedule_runs_total', { outcome: 'missed' }), 10);
    assert.equal((await store.schedules.get(s.id))!.nextRunAt, T + 11 * MINUTE);
    await store.close();
  });

  it('a run whose job is refused by today\'s settings fails with the reason, and the schedule goes on', async () => {
    const { store, registry, clock, scheduler } = await setup({ allowPrivateTargets: false });
    const s = await store.schedules.create({ name: null, cron: '* * * * *', timezone: 'UTC', job: JOB, overlap: 'skip', revisit: 'all', enabled: true, keyId: null, nextRunAt: T }, T - 1);
    clock.now = T + 1;
    await scheduler.tick();
    const [run] = await store.schedules.runs(s.id, { limit: 10 });
    assert.deepEqual([run!.outcome, run!.reason, run!.jobId], ['failed', 'target_forbidden', null]);
    assert.equal(await metricValue(registry, 'schedule_runs_total', { outcome: 'not_started' }), 1);
    assert.equal((await store.schedules.get(s.id))!.nextRunAt, T + MINUTE);
    await store.close();
  });

  it('start and stop: the loop ticks on its own and stops cleanly', async () => {
    const { store, scheduler, clock } = await setup({ schedulerTickMs: 100 });
    const s = await store.schedules.create({ name: null, cron: '* * * * *', timezone: 'UTC', job: JOB, overlap: 'skip', revisit: 'all', enabled: true, keyId: null, nextRunAt: T }, T - 1);
    clock.now = T + 5;
    scheduler.start();
    for (let i = 0; i < 200 && (await store.schedules.runs(s.id, { limit: 1 })).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await scheduler.stop();
    assert.equal((await store.schedules.runs(s.id, { limit: 10 })).length, 1);
    await store.close();
  });
});

describe('scheduler and API keys', () => {
  it("a key's schedule starts jobs that are the key's and count against its limits; a revoked key's runs do not start", async () => {
    const { store, clock, scheduler } = await setup();
    const { createApiKey } = await import('../../src/auth/key-service.ts');
    const key = await createApiKey(store, { name: 'watcher', scopes: ['jobs:write'], maxRunningJobs: 1 }, { keyId: null, address: 'local' }, T - 10);
    const s = await store.schedules.create({ name: null, cron: '* * * * *', timezone: 'UTC', job: JOB, overlap: 'queue', revisit: 'all', enabled: true, keyId: key.id, nextRunAt: T }, T - 1);
    clock.now = T + 1;
    await scheduler.tick();
    const [first] = await store.schedules.runs(s.id, { limit: 1 });
    assert.equal(first!.outcome, 'running');
    assert.equal((await store.jobs.get(first!.jobId!))!.keyId, key.id);
    // The key's one running job is the schedule's: another job of the key is refused, so the queued run fails on the quota.
    const other = await store.jobs.create({ seeds: ['http://127.0.0.1:9/other'], options: { maxPages: 1, maxDepth: 0, scope: 'host', mode: 'http', respectRobots: true, allowPrivate: true }, source: 'api', keyId: key.id }, T + 2);
    await store.jobs.cancel(first!.jobId!, 'test', T + 3);
    clock.now = T + 60_000 + 1;
    await scheduler.tick();
    const [second] = await store.schedules.runs(s.id, { limit: 1 });
    assert.deepEqual([second!.plannedAt, second!.outcome, second!.reason], [T + 60_000, 'failed', 'quota_exceeded']);
    await store.jobs.cancel(other.id, 'test', T + 60_002);
    await store.keys.revoke(key.id, T + 60_003);
    clock.now = T + 120_000 + 1;
    await scheduler.tick();
    const [third] = await store.schedules.runs(s.id, { limit: 1 });
    assert.deepEqual([third!.plannedAt, third!.outcome, third!.reason, third!.jobId], [T + 120_000, 'failed', 'key_revoked', null]);
    await store.close();
  });
});
