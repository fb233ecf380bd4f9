import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pageResult, type PageResult } from '../../src/scrape/record.ts';
import { DETAIL_RULES, startCatalogueSite, type CatalogueSite } from '../fixtures/scrape/catalogue.ts';
import { startFixtureSite, type FixtureSite } from '../fixtures/site-server.ts';
import { JOB_DEFAULTS, metricValue, startTestCrawler, waitForJob, type TestCrawler } from './helpers.ts';

/** A page whose links exist only after its script runs (an empty SPA root in the HTML). */
const scriptedHome = (links: string[]) => `<!doctype html><html><head><title>Scripted</title></head><body><div id="root"></div>
<script>for (const href of ${JSON.stringify(links)}) { const a = document.createElement('a'); a.href = href; a.textContent = href; document.getElementById('root').appendChild(a); }</script></body></html>`;
const article = (title: string) => `<!doctype html><html><head><title>${title}</title></head><body><p>${'Plain server-rendered text. '.repeat(20)}</p></body></html>`;

describe('browser and auto modes through the crawler (real Chromium)', () => {
  let site: FixtureSite;
  let crawler: TestCrawler;
  let shots: string;

  before(async () => {
    shots = mkdtempSync(path.join(tmpdir(), 'owl-shots-'));
    site = await startFixtureSite({
      pages: {
        '/spa': { body: scriptedHome(['/spa/a', '/spa/b', '/captcha/cloudflare']) },
        '/spa/a': { body: article('A') },
        '/spa/b': { body: article('B') },
        '/auto': { body: scriptedHome(['/auto/a']) },
        '/auto/a': { body: article('Auto A') },
      },
    });
    crawler = await startTestCrawler({ browserMax: 1, browserPagesPerBrowser: 2, maxAttempts: 1, screenshotDir: shots });
  });
  after(async () => {
    await crawler?.close();
    await site?.close();
    if (shots) rmSync(shots, { recursive: true, force: true });
  });

  it('browser mode: links from the rendered DOM, mode recorded, captcha counted and screenshotted', async () => {
    const job = await crawler.store.jobs.create({ seeds: [`${site.url}/spa`], source: 'test', options: { ...JOB_DEFAULTS, mode: 'browser', respectRobots: false, screenshots: true } });
    const done = await waitForJob(crawler.store, job.id);
    assert.equal(done.status, 'done');
    const pages = await crawler.store.pages.list(job.id, { limit: 100 });
    const byPath = new Map(pages.map((p) => [new URL(p.url).pathname, p]));
    assert.deepEqual([...byPath.keys()].sort(), ['/captcha/cloudflare', '/spa', '/spa/a', '/spa/b']);
    assert.ok(pages.every((p) => p.mode === 'browser'));
    assert.equal(byPath.get('/spa')!.linksFound, 3);
    assert.equal(byPath.get('/spa/a')!.title, 'A');
    const blocked = byPath.get('/captcha/cloudflare')!;
    assert.equal(blocked.errorCode, 'captcha');
    assert.equal(await metricValue(crawler.metrics, 'captcha_encountered_total'), 1);
    assert.equal(await metricValue(crawler.metrics, 'http_403_total'), 1);
    assert.ok(existsSync(path.join(shots, job.id)), 'a screenshot folder for the job');
    assert.equal(await metricValue(crawler.metrics, 'browser_pages_total', { outcome: 'ok' }) >= 3, true);
    assert.equal(await metricValue(crawler.metrics, 'browser_pool_active') <= 1, true);
  });

  it('auto mode renders only the page that needs it', async () => {
    const job = await crawler.store.jobs.create({ seeds: [`${site.url}/auto`], source: 'test', options: { ...JOB_DEFAULTS, mode: 'auto', respectRobots: false } });
    const done = await waitForJob(crawler.store, job.id);
    assert.equal(done.counts.fetched, 2);
    const pages = await crawler.store.pages.list(job.id, { limit: 10 });
    const mode = Object.fromEntries(pages.map((p) => [new URL(p.url).pathname, p.mode]));
    assert.deepEqual(mode, { '/auto': 'browser', '/auto/a': 'http' });
  });
});

describe('a browser-rendered page yields the same record as a fetched one (real Chromium)', () => {
  let site: CatalogueSite;
  let crawler: TestCrawler;
  before(async () => {
    site = await startCatalogueSite();
    crawler = await startTestCrawler({ browserMax: 1, browserPagesPerBrowser: 2, maxAttempts: 1 });
  });
  after(async () => {
    await crawler?.close();
    await site?.close();
  });

  it('metadata, extracted data and Markdown of the products agree between http and browser modes', async () => {
    const scrape = { formats: ['metadata' as const, 'markdown' as const], onlyMainContent: true, extract: DETAIL_RULES as unknown, sitemaps: 'skip' as const };
    const seeds = [1, 2, 3].map((n) => `${site.url}/products/${n}`);
    const records = new Map<string, Map<string, PageResult>>();
    for (const mode of ['http', 'browser'] as const) {
      const job = await crawler.store.jobs.create({ seeds, source: 'test', options: { ...JOB_DEFAULTS, mode, maxDepth: 0, respectRobots: false, scrape } });
      const done = await waitForJob(crawler.store, job.id);
      assert.equal(done.counts.fetched, 3, `${mode}: ${JSON.stringify(done.counts)}`);
      const byUrl = new Map<string, PageResult>();
      for await (const page of crawler.store.pages.iterate(job.id)) byUrl.set(page.url, pageResult(page));
      records.set(mode, byUrl);
    }
    for (const url of seeds) {
      const http = records.get('http')!.get(url)!;
      const browser = records.get('browser')!.get(url)!;
      assert.equal(browser.mode, 'browser');
      assert.deepEqual(browser.data, http.data, `data of ${url}`);
      assert.deepEqual(browser.metadata?.title, http.metadata?.title);
      assert.equal(browser.metadata?.lang, http.metadata?.lang);
      assert.equal(browser.extraction?.status, http.extraction?.status);
      assert.ok(browser.markdown && browser.markdown.length > 0, `markdown of ${url}`);
    }
  });
});
