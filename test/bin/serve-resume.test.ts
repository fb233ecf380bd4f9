import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import { startFixtureSite, type FixtureSite } from '../fixtures/site-server.ts';
import { api, startServe } from './serve-process.ts';

const PAGES = 60;

/** A chain of slow pages: /p/0 → /p/1 … each also linking back home, so the crawl takes a few seconds. */
function chainSite(): Promise<FixtureSite> {
  const pages: Record<string, { body: string }> = {};
  for (let i = 0; i < PAGES; i++) {
    const links = [i + 1, i + 2, i + 3].filter((j) => j < PAGES).map((j) => `<a href="/p/${j}">${j}</a>`);
    pages[`/p/${i}`] = { body: `<html><head><title>P${i}</title></head><body>${links.join('')}<a href="/p/0">home</a></body></html>` };
  }
  return startFixtureSite({ pages });
}

describe('owl serve resumes a job after SIGTERM or SIGKILL', () => {
  let site: FixtureSite;
  let dataDir: string;

  before(async () => {
    site = await chainSite();
    dataDir = mkdtempSync(path.join(tmpdir(), 'owl-resume-'));
  });
  after(async () => {
    await site?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`${signal}: no queued URL lost, no finished page fetched again`, async () => {
      site.resetHits();
      const env = {
        OWL_DATA_DIR: path.join(dataDir, signal),
        OWL_ALLOW_PRIVATE_TARGETS: 'true',
        OWL_HOST_DELAY_MS: '100',
        OWL_PER_HOST_CONCURRENCY: '2',
        OWL_CONCURRENCY: '2',
        OWL_RESPECT_ROBOTS: 'false',
      };
      const first = await startServe(env);
      const created = await api(first.url, 'POST', '/jobs', { seeds: [`${site.url}/p/0`], maxPages: 1000, maxDepth: 100, respectRobots: false });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = created.body.id as string;
      for (let i = 0; i < 300; i++) {
        const job = await api(first.url, 'GET', `/jobs/${id}`);
        if (job.body.counts.fetched >= 10) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      first.child.kill(signal);
      const code = await first.exited;
      if (signal === 'SIGTERM') assert.equal(code, 0, `SIGTERM exits 0:\n${first.output.join('\n')}`);

      // What the store holds as finished at the moment of the stop.
      const snapshot = openSqliteStore({ path: path.join(env.OWL_DATA_DIR, 'owl.db') });
      const before = await snapshot.pages.list(id, { limit: 1000 });
      const jobBefore = await snapshot.jobs.get(id);
      await snapshot.close();
      assert.ok(before.length >= 10 && before.length < PAGES, `stopped mid-crawl (${before.length} pages finished)`);
      assert.notEqual(jobBefore?.status, 'done');
      const hitsBefore = new Map(before.map((p) => [new URL(p.url).pathname, site.hits(new URL(p.url).pathname)]));

      const second = await startServe(env);
      let job: { status: string; counts: { fetched: number } } = { status: 'unknown', counts: { fetched: 0 } };
      for (let i = 0; i < 600; i++) {
        job = (await api<typeof job>(second.url, 'GET', `/jobs/${id}`)).body;
        if (job.status === 'done') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(job.status, 'done', JSON.stringify(job));
      const pages = (await api(second.url, 'GET', `/jobs/${id}/pages?limit=500`)).body.pages as Array<{ url: string; statusCode: number }>;
      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0);

      assert.equal(job.counts.fetched, PAGES, 'every page of the chain fetched');
      assert.equal(pages.length, PAGES, 'each URL recorded exactly once');
      assert.equal(new Set(pages.map((p) => p.url)).size, PAGES);
      for (const [pathname, hits] of hitsBefore) {
        assert.equal(site.hits(pathname), hits, `${pathname} finished before the stop and was not fetched again`);
      }
    });
  }
});
