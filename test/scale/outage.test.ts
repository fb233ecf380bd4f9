/**
 * PostgreSQL outage without touching the shared server: two workers and the API connect through
 * a TCP proxy that the test cuts for 10 s. During the cut /readyz answers 503 and store_up is 0;
 * afterwards every process reconnects by itself and the job completes with nothing lost.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useScaleFixture } from './fixture.ts';
import { metricValue, scrape, startApi, startWorker, waitFor } from './processes.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

const PAGES = 1500;
const OUTAGE_MS = 10_000;

describe('scale: PostgreSQL unreachable for 10 s', () => {
  const fx = useScaleFixture(PAGES);
  let proxy: TcpProxy;
  before(async () => {
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
  });
  after(async () => {
    await proxy?.close();
  });

  it('readyz 503 and store_up 0 during the cut; processes reconnect; the job completes with nothing lost', { timeout: 150_000 }, async () => {
    const { schema, site, procs } = fx;
    const env = {
      DATABASE_URL: schema.url('127.0.0.1', proxy.port),
      OWL_ALLOW_PRIVATE_TARGETS: 'true',
      OWL_HOST_DELAY_MS: '0',
      OWL_PER_HOST_CONCURRENCY: '16',
      OWL_CONCURRENCY: '8',
      OWL_LEASE_MS: '3000',
      OWL_RESPECT_ROBOTS: 'false',
    };
    const [w1, w2, api] = await Promise.all([startWorker(env), startWorker(env), startApi({ ...env, OWL_IN_PROCESS_WORKERS: 'false' })]);
    procs.push(w1!, w2!, api!);
    const workers = [w1!, w2!];
    assert.equal((await fetch(`${api!.url}/readyz`)).status, 200);

    // Through the API (and so through the proxy), like a client would.
    const created = await fetch(`${api!.url}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ seeds: [`${site.url}/graph/0`], maxPages: 10_000, maxDepth: 100, respectRobots: false, source: 'test' }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const job = (await created.json()) as { id: string };
    const pagesNow = async () => (await schema.query('SELECT count(*)::int AS n FROM pages')).rows[0].n as number;
    await waitFor('some pages before the cut', async () => (await pagesNow()) >= 200);

    const cutAt = Date.now();
    proxy.cut();
    await waitFor('/readyz 503', async () => ((await fetch(`${api!.url}/readyz`)).status === 503 ? true : undefined), 40, 250);
    await waitFor('store_up 0 on the API and both workers', async () => {
      const ups = await Promise.all([api!, ...workers].map(async (p) => metricValue(await scrape(p.url), 'store_up')));
      return ups.every((u) => u === 0) ? true : undefined;
    }, 60, 250);
    const frozen = await pagesNow();
    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - cutAt))));
    assert.equal(metricValue(await scrape(api!.url), 'store_up'), 0, 'still down at the end of the cut');
    proxy.restore();

    await waitFor('/readyz 200 again', async () => ((await fetch(`${api!.url}/readyz`)).status === 200 ? true : undefined), 120, 250);
    const end = await waitFor('the job to finish', async () => {
      const r = await fetch(`${api!.url}/jobs/${job.id}`);
      const j = (await r.json()) as { status: string; counts: Record<string, number> };
      return j.status === 'done' || j.status === 'failed' ? j : undefined;
    });
    assert.equal(end.status, 'done');
    assert.deepEqual(end.counts, { admitted: PAGES, queued: 0, inFlight: 0, fetched: PAGES, failed: 0, sitemaps: 0 });
    const { rows } = await schema.query('SELECT count(*)::int AS n, count(DISTINCT url)::int AS d FROM pages');
    assert.deepEqual(rows[0], { n: PAGES, d: PAGES }, 'every page recorded exactly once');
    await waitFor('store_up 1 everywhere', async () => {
      const ups = await Promise.all([api!, ...workers].map(async (p) => metricValue(await scrape(p.url), 'store_up')));
      return ups.every((u) => u === 1) ? true : undefined;
    }, 60, 250);
    console.log(`pages when cut: ${frozen}; outage ${OUTAGE_MS} ms; recorded at the end: ${rows[0].n}`);
    const codes = await Promise.all(procs.map((p) => p.stop('SIGTERM')));
    assert.deepEqual(codes, [0, 0, 0]);
  });
});
