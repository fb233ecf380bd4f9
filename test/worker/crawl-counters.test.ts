import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFixtureSite, type FixtureSite } from '../fixtures/site-server.ts';
import { JOB_DEFAULTS, metricValue, startTestCrawler, waitForJob, type TestCrawler } from './helpers.ts';

const link = (path: string) => `<a href="${path}">${path}</a>`;
const html = (title: string, body: string) => `<!doctype html><html><head><title>${title}</title></head><body>${body}</body></html>`;

/**
 * A site with a known shape: 5 good pages (the home page and 4 articles), 2 pages that always
 * answer 403, 1 that always answers 429, 1 reCAPTCHA interstitial (200) and 1 robots-denied URL.
 * With maxAttempts 2 every blocked URL is tried twice, so each counter has an exact value.
 */
describe('crawl counters are exact', () => {
  let site: FixtureSite;
  let crawler: TestCrawler;

  before(async () => {
    site = await startFixtureSite({
      robotsTxt: 'User-agent: *\nDisallow: /private/\n',
      pages: {
        '/': { body: html('Home', ['/a/1', '/a/2', '/a/3', '/a/4', '/blocked/1', '/blocked/2', '/limited', '/challenge', '/private/x', '/a/1#dup'].map(link).join('')) },
        '/a/1': { body: html('A1', link('/a/2') + link('/')) },
        '/a/2': { body: html('A2', link('/a/3')) },
        '/a/3': { body: html('A3', '') },
        '/a/4': { body: html('A4', link('https://elsewhere.example/out')) },
        '/blocked/1': { status: 403, body: html('Forbidden', 'no') },
        '/blocked/2': { status: 403, body: html('Forbidden', 'no') },
        '/limited': { status: 429, headers: { 'retry-after': '0', 'content-type': 'text/html' }, body: html('Slow down', '') },
        '/challenge': {
          status: 200,
          body: html('Just a moment...', '<form action="/verify"><div class="g-recaptcha" data-sitekey="x"></div></form><script src="https://www.google.com/recaptcha/api.js" async defer></script>'),
        },
      },
    });
    crawler = await startTestCrawler();
  });
  after(async () => {
    await crawler?.close();
    await site?.close();
  });

  it('counts pages, 403s, 429s, captchas, retries and failures exactly', async () => {
    const job = await crawler.store.jobs.create({ seeds: [`${site.url}/`], source: 'test', options: JOB_DEFAULTS });
    const done = await waitForJob(crawler.store, job.id);
    const m = crawler.metrics;
    const s = new URL(site.url).hostname;

    assert.equal(done.status, 'done');
    assert.equal(done.counts.fetched, 5);
    assert.equal(done.counts.failed, 5, '2 × 403, 429, captcha, robots');
    assert.equal(done.counts.admitted, 10);
    assert.equal(await metricValue(m, 'pages_fetched_total', { site: s }), 5);
    assert.equal(await metricValue(m, 'http_403_total', { site: s }), 4);
    assert.equal(await metricValue(m, 'http_429_total', { site: s }), 2);
    assert.equal(await metricValue(m, 'captcha_encountered_total', { site: s }), 2);
    assert.equal(await metricValue(m, 'retries_total', { reason: 'http_403' }), 2);
    assert.equal(await metricValue(m, 'retries_total', { reason: 'http_429' }), 1);
    assert.equal(await metricValue(m, 'retries_total', { reason: 'captcha' }), 1);
    assert.equal(await metricValue(m, 'retries_total'), 4);
    assert.equal(await metricValue(m, 'pages_failed_total', { code: 'http_403' }), 2);
    assert.equal(await metricValue(m, 'pages_failed_total', { code: 'http_429' }), 1);
    assert.equal(await metricValue(m, 'pages_failed_total', { code: 'captcha' }), 1);
    assert.equal(await metricValue(m, 'pages_failed_total', { code: 'robots_denied' }), 1);
    assert.equal(await metricValue(m, 'scrape_latency_seconds', { site: s }) > 0, true);
    assert.equal(site.hits('/private/x'), 0, 'robots.txt is obeyed');
    assert.equal(site.hits('/a/1'), 1, 'each page fetched once');
    assert.equal(site.hits('/robots.txt'), 1, 'robots.txt fetched once per origin');

    const pages = await crawler.store.pages.list(job.id, { limit: 100 });
    assert.equal(pages.length, 10);
    const home = pages.find((p) => p.url === `${site.url}/`)!;
    assert.equal(home.title, 'Home');
    assert.equal(home.statusCode, 200);
    assert.equal(home.errorCode, null);
    assert.equal(pages.find((p) => p.url.endsWith('/blocked/1'))!.errorCode, 'http_403');
  });
});
