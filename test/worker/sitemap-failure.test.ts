/**
 * A sitemap entry that fails for a reason outside the sitemap reader — here every proxy is dead, so
 * no attempt ever reaches the site — settles as a sitemap. It used to settle as a failed page: the
 * job counted one failure too many, kept waiting for its sitemap and never finished.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import type { Store } from '../../src/store/types.ts';
import { startFixtureSite, type FixtureSite } from '../fixtures/site-server.ts';
import { createTestSchema, type TestSchema } from '../store/postgres-harness.ts';
import { JOB_DEFAULTS, metricValue, startTestCrawler, waitForJob, type TestCrawler } from './helpers.ts';
import { freePort } from '../monitoring/harness.ts';

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`a sitemap no proxy can fetch (${backend})`, () => {
    let site: FixtureSite;
    let crawler: TestCrawler;
    let schema: TestSchema | null = null;

    before(async () => {
      site = await startFixtureSite({ pages: { '/': { body: '<title>Home</title>' } } });
      let store: Store = openSqliteStore({ path: ':memory:' });
      if (backend === 'postgres') {
        schema = await createTestSchema();
        store = schema.open();
      }
      const dead = await freePort();
      crawler = await startTestCrawler({ proxies: [`http://127.0.0.1:${dead}`], proxyCooldownMs: 10 }, store);
    });
    after(async () => {
      await crawler?.close();
      await schema?.drop();
      await site?.close();
    });

    it('ends the job as failed, counting only the page among its failures', async () => {
      const job = await crawler.store.jobs.create({
        seeds: [`${site.url}/`],
        sitemaps: [`${site.url}/sitemap.xml`],
        source: 'test',
        options: { ...JOB_DEFAULTS, maxDepth: 0 },
      });
      const done = await waitForJob(crawler.store, job.id);
      assert.equal(done.status, 'failed');
      assert.deepEqual({ ...done.counts }, { admitted: 1, queued: 0, inFlight: 0, fetched: 0, failed: 1, sitemaps: 0 });
      assert.equal(await metricValue(crawler.metrics, 'pages_failed_total'), 1, 'the sitemap is not a failed page');
      assert.equal(site.hits('/'), 0, 'no attempt reached the site');
      const pages = await crawler.store.pages.list(job.id, { limit: 10 });
      assert.deepEqual(pages.map((p) => [p.url, p.errorCode]), [[`${site.url}/`, 'proxy']]);
    });
  });
}
