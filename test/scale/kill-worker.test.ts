/**
 * Three `owl worker` processes crawl a 3,000-page fixture site through PostgreSQL; one is killed
 * with SIGKILL mid-crawl. Its leases expire (OWL_LEASE_MS=3000) and the others finish the job:
 * every page recorded exactly once, none lost.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useScaleFixture } from './fixture.ts';
import { startWorker, waitFor } from './processes.ts';
import { FrontierState } from '../../src/store/frontier-state.ts';

const PAGES = 3000;

describe('scale: three workers, one killed with SIGKILL', () => {
  const fx = useScaleFixture(PAGES);

  it('completes the job with every page fetched and recorded exactly once', { timeout: 150_000 }, async () => {
    const { schema, store, site, procs: workers } = fx;
    const env = {
      DATABASE_URL: schema.url(),
      OWL_ALLOW_PRIVATE_TARGETS: 'true',
      OWL_HOST_DELAY_MS: '0',
      OWL_PER_HOST_CONCURRENCY: '16',
      OWL_CONCURRENCY: '8',
      OWL_LEASE_MS: '3000',
      OWL_RESPECT_ROBOTS: 'false',
    };
    workers.push(...(await Promise.all([startWorker(env), startWorker(env), startWorker(env)])));
    const job = await store.jobs.create(
      { seeds: [`${site.url}/graph/0`], options: { maxPages: 10_000, maxDepth: 10_000, scope: 'host', mode: 'http', respectRobots: false, allowPrivate: true }, source: 'test' },
    );
    const pagesNow = async () => (await schema.query('SELECT count(*)::int AS n FROM pages')).rows[0].n as number;
    await waitFor('a sixth of the pages', async () => (await pagesNow()) >= PAGES / 6);
    const leasedByVictim = (await schema.query(`SELECT count(*)::int AS n FROM frontier WHERE state = ${FrontierState.leased}`)).rows[0].n as number;
    await workers[0]!.stop('SIGKILL');

    const end = await waitFor('the job to finish', async () => {
      const j = await store.jobs.get(job.id);
      return j && j.status !== 'running' && j.status !== 'queued' ? j : undefined;
    });
    assert.equal(end.status, 'done');
    assert.deepEqual(end.counts, { admitted: PAGES, queued: 0, inFlight: 0, fetched: PAGES, failed: 0, sitemaps: 0 });
    const { rows } = await schema.query('SELECT count(*)::int AS n, count(DISTINCT url)::int AS d, count(*) FILTER (WHERE status_code = 200)::int AS ok FROM pages');
    assert.deepEqual(rows[0], { n: PAGES, d: PAGES, ok: PAGES }, 'one page row per URL');
    const expected = new Set(Array.from({ length: PAGES }, (_, i) => `${site.url}/graph/${i}`));
    const urls = (await schema.query('SELECT url FROM pages')).rows.map((r: { url: string }) => r.url);
    assert.deepEqual(urls.filter((u: string) => !expected.has(u)), []);
    console.log(`pages recorded ${rows[0].n}; leases held when the worker was killed (all workers): ${leasedByVictim}`);

    const codes = await Promise.all(workers.slice(1).map((w) => w.stop('SIGTERM')));
    assert.deepEqual(codes, [0, 0], 'the surviving workers drain and exit 0 on SIGTERM');
  });
});
