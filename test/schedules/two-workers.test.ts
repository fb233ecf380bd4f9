/**
 * Exactly one job per due run across processes: two `owl worker` processes on one PostgreSQL
 * database, a schedule every second (OWL_MIN_SCHEDULE_INTERVAL_MS=1000), for a bounded number of
 * runs. Every planned second is recorded once, without gaps, and every job started belongs to one
 * run and one only.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sendBody, startHttpFixture, type HttpFixture } from '../fixtures/http-fixture.ts';
import { startWorker, waitFor, type OwlProcess } from '../scale/processes.ts';
import { createTestSchema, type TestSchema } from '../store/postgres-harness.ts';
import type { Store } from '../../src/store/types.ts';

/** Planned seconds to record (the minute: OWL_TEST_SCHEDULE_RUNS=60). */
const RUNS = Number(process.env.OWL_TEST_SCHEDULE_RUNS ?? 12);

describe('schedules: two workers on PostgreSQL', () => {
  let schema: TestSchema;
  let store: Store;
  let site: HttpFixture;
  const workers: OwlProcess[] = [];

  before(async () => {
    schema = await createTestSchema();
    store = schema.open();
    await store.migrate();
    site = await startHttpFixture((_req, res, at) => {
      if (at.pathname === '/') return sendBody(res, 200, '<html><head><title>One</title></head><body><p>One page.</p></body></html>', { 'content-type': 'text/html' });
      return sendBody(res, 404, 'not found', { 'content-type': 'text/plain' });
    });
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await store.close();
    await site.close();
    await schema.drop();
  });

  it('a schedule every second gives exactly one job per due run', async (t) => {
    const env = {
      DATABASE_URL: schema.url(),
      OWL_MIN_SCHEDULE_INTERVAL_MS: '1000',
      OWL_SCHEDULER_TICK_MS: '200',
      OWL_ALLOW_PRIVATE_TARGETS: 'true',
      OWL_HOST_DELAY_MS: '0',
      OWL_BROWSER_MAX: '0',
      OWL_CONCURRENCY: '2',
    };
    workers.push(...(await Promise.all([startWorker(env), startWorker(env)])));
    const first = Math.ceil((Date.now() + 1_000) / 1_000) * 1_000;
    const s = await store.schedules.create({
      name: 'every second', cron: '* * * * * *', timezone: 'UTC', overlap: 'skip', revisit: 'all', enabled: true, keyId: null, nextRunAt: first,
      job: { seeds: [`${site.url}/`], maxPages: 1, maxDepth: 0, scope: 'host', mode: 'http', screenshots: false, source: 'schedule', sitemaps: 'skip' },
    });
    await waitFor('the runs', async () => (await store.schedules.runs(s.id, { limit: 1000 })).length >= RUNS || undefined, 50 * RUNS + 300, 200);
    await store.schedules.update(s.id, { enabled: false, nextRunAt: null });
    // Let a claim in flight end, then read what was recorded.
    await waitFor('the last jobs to end', async () => {
      const runs = await store.schedules.runs(s.id, { limit: 1000 });
      return runs.every((r) => !['pending', 'queued', 'running'].includes(r.outcome)) || undefined;
    }, 300, 200);
    const runs = (await store.schedules.runs(s.id, { limit: 1000 })).reverse();
    const planned = runs.map((r) => r.plannedAt);
    assert.equal(new Set(planned).size, planned.length, 'a planned time recorded twice');
    assert.equal(planned[0], first);
    assert.deepEqual(planned, planned.map((_, i) => first + i * 1_000), 'every planned second, without gaps');
    const started = runs.filter((r) => r.jobId !== null);
    assert.ok(started.length >= RUNS / 2, `only ${started.length} of ${runs.length} runs started: ${JSON.stringify(runs.map((r) => [r.outcome, r.reason]))}`);
    for (const r of runs) assert.ok(['done', 'skipped', 'missed'].includes(r.outcome), `run ${r.plannedAt}: ${r.outcome} ${r.reason}`);
    const jobIds = started.map((r) => r.jobId!);
    assert.equal(new Set(jobIds).size, jobIds.length, 'a job shared by two runs');
    const jobs = (await store.jobs.list({ limit: 1000 })).filter((j) => j.options.schedule?.id === s.id);
    assert.deepEqual(jobs.map((j) => j.id).sort(), [...jobIds].sort(), 'one job per started run, and no other');
    assert.ok(site.hits('/') >= jobIds.length);
    // Both processes took part: each started some of the runs (the claim decides who, never both).
    const startedBy = workers.map((w) => w.output.filter((line) => line.includes('schedule run started')).length);
    assert.equal(startedBy[0]! + startedBy[1]!, jobIds.length, `runs started per worker: ${startedBy.join(', ')}`);
    const outcomes: Record<string, number> = {};
    for (const r of runs) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    t.diagnostic(`${runs.length} planned seconds: ${JSON.stringify(outcomes)}; jobs started per worker: ${startedBy.join(', ')}`);
  });
});
