import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { SiteLabeler } from '../../src/metrics/site-label.ts';
import { startFixtureSite, type FixtureSite } from '../fixtures/site-server.ts';
import { JOB_DEFAULTS, metricValue, startTestCrawler, waitForJob, type TestCrawler } from './helpers.ts';

const a = (path: string) => `<a href="${path}">${path}</a>`;

describe('crawling hostile fixtures', () => {
  let site: FixtureSite;
  let crawler: TestCrawler;

  before(async () => {
    site = await startFixtureSite({
      pages: {
        '/': { body: `<html><head><title>Edge cases</title></head><body>${['/redirect/chain/3', '/redirect/loop', '/huge', '/binary', '/hang', '/broken', '/status/404', '/flaky/x?fail=1'].map(a).join('')}</body></html>` },
      },
    });
    // Timeouts long enough that only /hang (which never answers) times out, however loaded the machine is.
    crawler = await startTestCrawler({ headersTimeoutMs: 2_000, bodyTimeoutMs: 2_000, maxBodyBytes: 64 * 1024, maxRedirects: 5 });
  });
  after(async () => {
    await crawler?.close();
    await site?.close();
  });

  it('records every URL with the right outcome and keeps going', async () => {
    const job = await crawler.store.jobs.create({ seeds: [`${site.url}/`], source: 'test', options: { ...JOB_DEFAULTS, maxDepth: 1, respectRobots: false } });
    const done = await waitForJob(crawler.store, job.id);
    assert.equal(done.status, 'done');
    const pages = await crawler.store.pages.list(job.id, { limit: 100 });
    const byPath = new Map(pages.map((p) => [new URL(p.url).pathname + new URL(p.url).search, p]));
    assert.equal(byPath.get('/redirect/chain/3')!.errorCode, null);
    assert.equal(new URL(byPath.get('/redirect/chain/3')!.finalUrl!).pathname, '/redirect/chain/0');
    assert.equal(byPath.get('/redirect/loop')!.errorCode, 'redirect_loop');
    assert.equal(byPath.get('/huge')!.errorCode, 'body_limit');
    assert.equal(byPath.get('/binary')!.errorCode, 'unsupported_content');
    assert.equal(byPath.get('/hang')!.errorCode, 'timeout');
    assert.equal(byPath.get('/status/404')!.errorCode, 'http_404');
    assert.equal(byPath.get('/flaky/x?fail=1')!.errorCode, null, 'a 503 is retried and then succeeds');
    assert.equal(byPath.get('/broken')!.errorCode, null);
    assert.ok(byPath.get('/broken')!.linksFound >= 5, 'links are still found in broken HTML');
    assert.equal(site.hits('/hang'), 2, 'a timeout is retried within the attempt budget (2)');
    assert.equal(await metricValue(crawler.metrics, 'retries_total', { reason: 'timeout' }), 1);
    assert.equal(await metricValue(crawler.metrics, 'retries_total', { reason: 'http_5xx' }), 1);
  });

  it('an endless calendar is bounded by maxDepth', async () => {
    const job = await crawler.store.jobs.create({ seeds: [`${site.url}/calendar/2026/01`], source: 'test', options: { ...JOB_DEFAULTS, maxDepth: 3, respectRobots: false } });
    const done = await waitForJob(crawler.store, job.id);
    assert.equal(done.status, 'done');
    // 2026/01, then one month further in each direction per level: 1 + 2 × 3.
    assert.equal(done.counts.fetched, 7);
  });

  it('an endless calendar is bounded by maxPages', async () => {
    const job = await crawler.store.jobs.create({ seeds: [`${site.url}/calendar/2030/06`], source: 'test', options: { ...JOB_DEFAULTS, maxDepth: 1000, maxPages: 25, respectRobots: false } });
    const done = await waitForJob(crawler.store, job.id);
    assert.equal(done.counts.fetched, 25);
    assert.equal(done.counts.admitted, 25);
  });

  it('a job whose every URL failed ends failed, counted once in jobs_failed_total{reason}', async () => {
    const job = await crawler.store.jobs.create({ seeds: [`${site.url}/status/410`], source: 'test', options: { ...JOB_DEFAULTS, respectRobots: false } });
    const done = await waitForJob(crawler.store, job.id);
    assert.equal(done.status, 'failed');
    assert.equal(done.reason, 'http_410');
    assert.equal(await metricValue(crawler.metrics, 'jobs_failed_total', { reason: 'http_410' }), 1);
  });

  it('serves metrics that promtool check metrics accepts', async (t) => {
    const text = await crawler.metrics.registry.metrics();
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (r.error) assert.fail(`promtool is missing (run make install-dev): ${r.error.message}`);
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.equal(`${r.stdout}${r.stderr}`.trim(), '', 'no lint findings');
    t.diagnostic(`${text.split('\n').filter((l) => l && !l.startsWith('#')).length} series checked`);
  });
});

describe('site label', () => {
  it('is the registrable domain, capped, the rest counted as other', () => {
    const sites = new SiteLabeler(2);
    assert.equal(sites.label('shop.example.co.uk'), 'example.co.uk');
    assert.equal(sites.label('www.example.co.uk'), 'example.co.uk');
    assert.equal(sites.label('127.0.0.1'), '127.0.0.1');
    assert.equal(sites.label('news.other.org'), 'other');
    assert.equal(sites.label('a.example.co.uk'), 'example.co.uk', 'known sites keep their label after the cap');
    assert.equal(sites.distinctSites, 2);
  });
});

describe('a robots.txt that cannot be read', () => {
  let site: FixtureSite;
  let crawler: TestCrawler | undefined;
  before(async () => {
    site = await startFixtureSite({ robotsStatus: 503, graphSize: 3 });
  });
  after(async () => {
    await crawler?.close();
    await site?.close();
  });

  it('keeps the site uncrawled while it cannot be read, asks again, and crawls it once it can', async () => {
    // robots.txt is asked again every 200 ms here (30 s in service), for at most 1,000 checks.
    crawler = await startTestCrawler({}, undefined, { robots: { errorTtlMs: 200, waits: 1_000 } });
    const job = await crawler.store.jobs.create({ seeds: [`${site.url}/graph/0`], source: 'test', options: JOB_DEFAULTS });
    for (let i = 0; i < 200 && site.hits('/robots.txt') < 3; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(site.hits('/robots.txt') >= 3, 'robots.txt is asked again while it fails');
    assert.equal(site.hits('/graph/0'), 0, 'nothing is fetched while robots.txt cannot be read');
    assert.equal((await crawler.store.jobs.get(job.id))?.status, 'running', 'the URL waits; it does not fail');
    site.setRobots(200);
    const done = await waitForJob(crawler.store, job.id);
    assert.equal(done.status, 'done');
    assert.equal(done.counts.fetched, 3);
    assert.ok((await metricValue(crawler.metrics, 'retries_total', { reason: 'robots' })) >= 2);
    await crawler.close();
    crawler = undefined;
  });

  it('records a host the target guard refuses as target_forbidden, not as robots_denied', async () => {
    site.setRobots(200);
    crawler = await startTestCrawler({ allowPrivateTargets: false });
    const job = await crawler.store.jobs.create({ seeds: [`${site.url}/graph/2`], source: 'test', options: { ...JOB_DEFAULTS, allowPrivate: false } });
    const done = await waitForJob(crawler.store, job.id);
    const [page] = await crawler.store.pages.list(job.id, { limit: 10 });
    assert.equal(page!.errorCode, 'target_forbidden');
    assert.equal(done.reason, 'target_forbidden');
    await crawler.close();
    crawler = undefined;
  });

  it('fails the URLs as robots_unavailable once the file stayed unreadable through every check', async () => {
    site.setRobots(503);
    crawler = await startTestCrawler({}, undefined, { robots: { errorTtlMs: 50, waits: 3 } });
    const job = await crawler.store.jobs.create({ seeds: [`${site.url}/graph/1`], source: 'test', options: JOB_DEFAULTS });
    const done = await waitForJob(crawler.store, job.id);
    const [page] = await crawler.store.pages.list(job.id, { limit: 10 });
    assert.equal(page!.errorCode, 'robots_unavailable');
    assert.equal(done.status, 'failed');
    assert.equal(await metricValue(crawler.metrics, 'retries_total', { reason: 'robots' }), 2, 'two waits, then the third check gives up');
  });
});
