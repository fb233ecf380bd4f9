/**
 * The proof of conditional re-crawls and change detection, on both stores: two runs of a schedule
 * over a site that changes a known set of pages give exactly the expected new / changed /
 * unchanged / gone sets, and the second run downloads only what changed (the fixture counts full
 * answers and 304s). Adaptive re-visits skip URLs that are not due. The scheduler runs on a fake
 * clock; the crawl is the real worker runtime against the fixture on 127.0.0.1.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { buildApp } from '../../src/api/app.ts';
import { DEFAULTS } from '../../src/config/schema.ts';
import { silentLogger } from '../../src/log.ts';
import { createApiMetrics, createScheduleMetrics } from '../../src/metrics/registry.ts';
import { Scheduler } from '../../src/schedules/scheduler.ts';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import type { ScheduleRevisit, Store } from '../../src/store/types.ts';
import { startWatchedSite, type WatchedSite } from '../fixtures/watched-site.ts';
import { createTestSchema, type TestSchema } from '../store/postgres-harness.ts';
import { metricValue, startTestCrawler, waitForJob, type TestCrawler } from '../worker/helpers.ts';
import type { ChangeSummary } from '../../src/schedules/events.ts';
import { Recorder } from './recorder.ts';

const T = Date.UTC(2026, 11, 6, 12, 0, 0);
const HOUR = 3_600_000;

interface Harness {
  store: Store;
  crawler: TestCrawler;
  scheduler: Scheduler;
  events: Recorder;
  clock: { now: number };
  close(): Promise<void>;
}

async function harness(store: Store, revisit: { minIntervalMs: number; maxIntervalMs: number } = { minIntervalMs: 0, maxIntervalMs: 0 }): Promise<Harness> {
  const clock = { now: T };
  const crawler = await startTestCrawler({}, store, { now: () => clock.now });
  const events = new Recorder();
  const scheduler = new Scheduler({
    store,
    config: { ...DEFAULTS, allowPrivateTargets: true, revisitMinIntervalMs: revisit.minIntervalMs, revisitMaxIntervalMs: revisit.maxIntervalMs },
    metrics: createScheduleMetrics(new Registry()),
    events,
    logger: silentLogger(),
    now: () => clock.now,
    onJobCreated: () => crawler.runtime.crawler.wake(),
  });
  return { store, crawler, scheduler, events, clock, close: () => crawler.close() };
}

/** Lets the scheduler start the run due at `at`, waits for its job, then lets it finish the run. */
async function runOnce(h: Harness, scheduleId: string, at: number): Promise<{ jobId: string; summary: ChangeSummary }> {
  h.clock.now = at;
  await h.scheduler.tick();
  const [run] = await h.store.schedules.runs(scheduleId, { limit: 1 });
  assert.equal(run!.plannedAt, at);
  assert.equal(run!.outcome, 'running');
  const job = await waitForJob(h.store, run!.jobId!);
  assert.equal(job.status, 'done');
  const before = h.events.finished.length;
  await h.scheduler.tick();
  assert.equal(h.events.finished.length, before + 1);
  const summary = h.events.finished[before]!;
  assert.equal(summary.jobId, job.id);
  return { jobId: job.id, summary };
}

function jobBody(site: WatchedSite) {
  return {
    seeds: [`${site.url}/`], maxPages: 50, maxDepth: 2, scope: 'host', mode: 'http', screenshots: false, source: 'schedule',
    formats: ['markdown'], sitemaps: 'skip', extract: { fields: { price: { selector: '.price', type: 'number' } } },
  };
}

async function newSchedule(store: Store, site: WatchedSite, revisit: ScheduleRevisit): Promise<string> {
  const s = await store.schedules.create({
    name: 'shop', cron: '0 * * * *', timezone: 'UTC', job: jobBody(site), overlap: 'skip', revisit, enabled: true, keyId: null, nextRunAt: T,
  }, T - 1);
  return s.id;
}

const sets = (changes: Array<{ url: string; change: string }>, origin: string) => {
  const out: Record<string, string[]> = { new: [], changed: [], unchanged: [], gone: [] };
  for (const c of changes) out[c.change]!.push(c.url.slice(origin.length));
  for (const k of Object.keys(out)) out[k]!.sort();
  return out;
};
const counted = (m: Map<string, number>) => Object.fromEntries([...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));

function proof(name: string, open: () => Promise<{ store: Store; cleanup: () => Promise<void> }>): void {
  describe(`schedules: change detection (${name})`, () => {
    let site: WatchedSite;
    before(async () => {
      site = await startWatchedSite();
    });
    after(() => site.close());

    it('two runs give exactly the expected new/changed/unchanged/gone sets; the second downloads only what changed', async () => {
      const { store, cleanup } = await open();
      site.version = 1;
      site.resetCounts();
      const h = await harness(store);
      try {
        const scheduleId = await newSchedule(store, site, 'all');
        const first = await runOnce(h, scheduleId, T);
        assert.equal(first.summary.baseline, true);
        assert.deepEqual(first.summary.counts, { new: 7, changed: 0, unchanged: 0, gone: 0 });
        assert.deepEqual(counted(site.full), { '/': 1, '/a': 1, '/b': 1, '/c': 1, '/d': 1, '/e': 1, '/h': 1 });
        assert.deepEqual(counted(site.notModified), {});

        site.version = 2;
        site.resetCounts();
        const second = await runOnce(h, scheduleId, T + HOUR);
        assert.equal(second.summary.baseline, false);
        assert.deepEqual(second.summary.counts, { new: 1, changed: 3, unchanged: 2, gone: 2 });
        // Only the changed and new pages were downloaded; the unchanged ones were answered 304.
        assert.deepEqual(counted(site.full), { '/': 1, '/a': 1, '/c': 1, '/f': 1 });
        assert.deepEqual(counted(site.notModified), { '/b': 1, '/h': 1 });
        assert.equal(await metricValue(h.crawler.metrics, 'pages_not_modified_total'), 2);

        const registry = new Registry();
        const app = await buildApp({ store, registry, metrics: createApiMetrics(registry), config: { ...DEFAULTS, allowPrivateTargets: true }, auth: { mode: 'off' } });
        try {
          const all = (await app.inject({ method: 'GET', url: `/jobs/${second.jobId}/changes` })).json();
          assert.equal(all.next, null);
          assert.deepEqual(sets(all.changes, site.url), { new: ['/f'], changed: ['/', '/a', '/c'], unchanged: ['/b', '/h'], gone: ['/d', '/e'] });
          const some = (await app.inject({ method: 'GET', url: `/jobs/${second.jobId}/changes?type=changed,new,gone&limit=3` })).json();
          assert.equal(some.changes.length, 3);
          const rest = (await app.inject({ method: 'GET', url: `/jobs/${second.jobId}/changes?type=changed,new,gone&limit=10&after=${some.next}` })).json();
          assert.deepEqual(sets([...some.changes, ...rest.changes], site.url), { new: ['/f'], changed: ['/', '/a', '/c'], unchanged: [], gone: ['/d', '/e'] });
          assert.deepEqual(sets(second.summary.changes, site.url), { new: ['/f'], changed: ['/', '/a', '/c'], unchanged: [], gone: ['/d', '/e'] });
          const bad = await app.inject({ method: 'GET', url: `/jobs/${second.jobId}/changes?type=changed,moved` });
          assert.equal(bad.statusCode, 400);
          assert.match(bad.json().error.message, /^query parameter type must be a comma-separated list of: new, changed, unchanged, gone/);

          const pageOf = (path: string) => all.changes.find((c: { url: string }) => c.url === `${site.url}${path}`).pageId;
          const price = (await app.inject({ method: 'GET', url: `/jobs/${second.jobId}/pages/${pageOf('/c')}/diff` })).json();
          assert.equal(price.change, 'changed');
          assert.equal(price.previousJobId, first.jobId);
          assert.deepEqual(price.data, [{ field: 'price', before: 10, after: 12 }]);
          assert.equal(price.content.format, 'markdown');
          assert.match(price.content.diff, /^-10\.00 EUR$/m);
          assert.match(price.content.diff, /^\+12\.00 EUR$/m);
          const text = (await app.inject({ method: 'GET', url: `/jobs/${second.jobId}/pages/${pageOf('/a')}/diff` })).json();
          assert.deepEqual(text.data, []);
          assert.match(text.content.diff, /^-The first text of page A, version one\.$/m);
          assert.match(text.content.diff, /^\+The first text of page A, version two\.$/m);
          const same = (await app.inject({ method: 'GET', url: `/jobs/${second.jobId}/pages/${pageOf('/b')}/diff` })).json();
          assert.deepEqual([same.change, same.content.diff, same.data], ['unchanged', '', []]);
          // A 304 carried the content over: the page reads as it did.
          const carried = (await app.inject({ method: 'GET', url: `/jobs/${second.jobId}/pages/${pageOf('/b')}` })).json();
          assert.equal(carried.statusCode, 304);
          assert.deepEqual([carried.change, carried.previousPageId], ['unchanged', same.previousPageId]);
          assert.match(carried.markdown, /Page B never changes\./);
          const fresh = (await app.inject({ method: 'GET', url: `/jobs/${second.jobId}/pages/${pageOf('/f')}/diff` })).json();
          assert.equal(fresh.previousPageId, null);
          assert.match(fresh.content.diff, /^\+Page F is new in version two\.$/m);
          const gone = (await app.inject({ method: 'GET', url: `/jobs/${second.jobId}/pages/${pageOf('/e')}/diff` })).json();
          assert.equal(gone.change, 'gone');
          assert.match(gone.content.diff, /^-Page E will no longer be linked\.$/m);
          assert.equal((await app.inject({ method: 'GET', url: `/jobs/${second.jobId}/pages/999999/diff` })).statusCode, 404);
        } finally {
          await app.close();
        }
      } finally {
        await h.close();
        await cleanup();
      }
    });

    it('adaptive re-visits: URLs not due are carried over without a request', async () => {
      const { store, cleanup } = await open();
      site.version = 1;
      site.resetCounts();
      const h = await harness(store, { minIntervalMs: 2 * HOUR, maxIntervalMs: 8 * HOUR });
      try {
        const scheduleId = await newSchedule(store, site, 'adaptive');
        await runOnce(h, scheduleId, T);
        site.resetCounts();
        site.version = 2;
        // One hour later nothing is due (every interval is 2 h): nothing is requested, all is unchanged.
        const early = await runOnce(h, scheduleId, T + HOUR);
        assert.deepEqual(counted(site.full), {});
        assert.deepEqual(counted(site.notModified), {});
        assert.deepEqual(early.summary.counts, { new: 0, changed: 0, unchanged: 7, gone: 0 });
        const b = await store.schedules.baseline(scheduleId, `${site.url}/b`);
        assert.equal(b!.intervalMs, 2 * HOUR);
        assert.equal(b!.nextVisitAt > T + HOUR, true);
        // Two hours later every URL is due again: the changes are found, unchanged URLs' intervals grow.
        const due = await runOnce(h, scheduleId, T + 3 * HOUR);
        assert.deepEqual(due.summary.counts, { new: 1, changed: 3, unchanged: 2, gone: 2 });
        assert.equal((await store.schedules.baseline(scheduleId, `${site.url}/b`))!.intervalMs, 3 * HOUR);
        assert.equal((await store.schedules.baseline(scheduleId, `${site.url}/a`))!.intervalMs, 2 * HOUR);
      } finally {
        await h.close();
        await cleanup();
      }
    });
  });
}

proof('sqlite', async () => {
  const store = openSqliteStore({ path: ':memory:' });
  return { store, cleanup: async () => {} };
});

proof('postgres', async () => {
  const schema: TestSchema = await createTestSchema();
  const store = schema.open();
  return { store, cleanup: () => schema.drop() };
});
