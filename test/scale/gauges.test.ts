/**
 * Two `owl worker` processes and one `owl serve` (API only) on one PostgreSQL database: the global
 * gauges come from the database, so every process that serves one shows the same true value (and
 * `max()` across instances is right with 1 or 10 workers); the per-process counter
 * pages_fetched_total summed over the workers equals the pages fetched.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobOptions } from '../../src/store/types.ts';
import { useScaleFixture } from './fixture.ts';
import { metricValue, scrape, startApi, startWorker, waitFor } from './processes.ts';

const PAGES = 300;
const options: JobOptions = { maxPages: 10_000, maxDepth: 10_000, scope: 'host', mode: 'http', respectRobots: false, allowPrivate: true };

describe('scale: global gauges and per-process counters with two workers and an API', () => {
  // Each page takes 50 ms: one worker alone needs 300 / 8 × 50 ms ≈ 2 s, far longer than the other's
  // 200 ms idle poll, so both share the crawl however fast the machine (a fast one finished it alone).
  const fx = useScaleFixture(PAGES, 50);

  it('queue gauges agree with the database on every process; pages_fetched_total sums to the pages fetched', { timeout: 120_000 }, async () => {
    const { schema, store, site, procs } = fx;
    const env = { DATABASE_URL: schema.url(), OWL_ALLOW_PRIVATE_TARGETS: 'true', OWL_HOST_DELAY_MS: '0', OWL_PER_HOST_CONCURRENCY: '16', OWL_RESPECT_ROBOTS: 'false',
      // Half the host's slots per worker: with 16 (the default) the first worker may hold all of them and fetch every page.
      OWL_CONCURRENCY: '8' };
    const [w1, w2, api] = await Promise.all([startWorker(env), startWorker(env), startApi({ ...env, OWL_IN_PROCESS_WORKERS: 'false' })]);
    procs.push(w1!, w2!, api!);

    // A job that waits: its host is deferred for a day, so its 7 URLs stay queued while the other job runs.
    await store.frontier.deferHost('waiting.test', Date.now() + 86_400_000);
    await store.jobs.create({ seeds: Array.from({ length: 7 }, (_, i) => `http://waiting.test/${i}`), options, source: 'test' });
    const crawl = await store.jobs.create({ seeds: [`${site.url}/graph/0`], options, source: 'test' });
    await waitFor('the crawl to finish', async () => ((await store.jobs.get(crawl.id))?.status === 'done' ? true : undefined));

    const stats = await store.stats();
    assert.deepEqual(stats, { jobsInQueue: 1, queueDepth: 7 });
    // the store's figures are cached for 500 ms per process: poll until every process shows them
    const seen = await waitFor('every process to show the database figures', async () => {
      const texts = await Promise.all([w1!, w2!, api!].map((p) => scrape(p.url)));
      const depth = texts.map((t) => metricValue(t, 'queue_depth'));
      return depth.every((d) => d === 7) ? texts : undefined;
    }, 50);
    assert.equal(metricValue(seen[2]!, 'jobs_in_queue'), 1, 'the API serves jobs_in_queue from the database');
    for (const t of seen.slice(0, 2)) {
      const j = metricValue(t, 'jobs_in_queue');
      assert.ok(j === undefined || j === 1, 'a worker serving jobs_in_queue shows the same value');
    }
    const perWorker = seen.slice(0, 2).map((t) => metricValue(t, 'pages_fetched_total') ?? 0);
    const { rows } = await schema.query("SELECT count(*)::int AS n FROM pages WHERE error_code IS NULL");
    assert.equal(rows[0].n, PAGES);
    assert.equal(perWorker[0]! + perWorker[1]!, PAGES, `pages_fetched_total per worker ${perWorker.join(' + ')}`);
    assert.ok(perWorker.every((n) => n > 0), 'both workers fetched');
    const apiFetched = metricValue(seen[2]!, 'pages_fetched_total') ?? 0;
    assert.equal(apiFetched, 0, 'the API process fetches nothing (no in-process workers)');
  });
});
