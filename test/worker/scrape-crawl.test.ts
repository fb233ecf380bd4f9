/**
 * Scraping end to end, on both stores: a job submitted through the API crawls the product
 * catalogue (links, sitemaps, documents), and what users get back — page records with their
 * metadata, extracted data, Markdown; exports in every format — is what the pages hold.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.ts';
import { DEFAULTS } from '../../src/config/schema.ts';
import { createApiMetrics } from '../../src/metrics/registry.ts';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import type { Job, Store } from '../../src/store/types.ts';
import { ARTICLE_BOILERPLATE, ARTICLE_MAIN_TEXT, DETAIL_RULES, PDF_LINES, PRODUCTS, SITEMAP_ONLY_PATHS, SITEMAP_PAGES, SITEMAP_PRODUCTS, startCatalogueSite, type CatalogueSite } from '../fixtures/scrape/catalogue.ts';
import { createTestSchema, type TestSchema } from '../store/postgres-harness.ts';
import { metricValue, startTestCrawler, type TestCrawler } from './helpers.ts';

const json = { 'content-type': 'application/json' };

interface Harness {
  crawler: TestCrawler;
  app: FastifyInstance;
}

async function harness(store: Store): Promise<Harness> {
  const crawler = await startTestCrawler({ hostDelayMs: 0 }, store);
  const registry = new Registry();
  const app = await buildApp({ store, registry, metrics: createApiMetrics(registry), config: { ...DEFAULTS, allowPrivateTargets: true }, auth: { mode: 'off' }, onJobCreated: () => crawler.runtime.crawler.wake() });
  return { crawler, app };
}

async function finish(app: FastifyInstance, id: string): Promise<Job> {
  for (let i = 0; i < 600; i++) {
    const job = (await app.inject({ method: 'GET', url: `/jobs/${id}` })).json() as Job;
    if (['done', 'failed', 'cancelled'].includes(job.status)) return job;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`job ${id} did not finish`);
}

interface Listed {
  id: number;
  url: string;
  errorCode: string | null;
  contentHash: string | null;
  lastmod: number | null;
  contentType: string | null;
}

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`scraping a catalogue end to end (${backend})`, () => {
    let site: CatalogueSite;
    let h: Harness;
    let schema: TestSchema | null = null;
    let job: Job;
    let pages: Listed[];
    const path = (p: Listed) => new URL(p.url).pathname;

    before(async () => {
      site = await startCatalogueSite();
      let store: Store;
      if (backend === 'postgres') {
        schema = await createTestSchema();
        store = schema.open();
      } else {
        store = openSqliteStore({ path: ':memory:' });
      }
      h = await harness(store);
      const created = await h.app.inject({
        method: 'POST',
        url: '/jobs',
        headers: json,
        payload: { seeds: [`${site.url}/`], maxPages: 200, maxDepth: 3, formats: ['metadata', 'markdown', 'links'], extract: DETAIL_RULES },
      });
      assert.equal(created.statusCode, 201, created.body);
      job = await finish(h.app, created.json().id);
      pages = (await h.app.inject({ method: 'GET', url: `/jobs/${job.id}/pages?limit=500` })).json().pages;
    });
    after(async () => {
      await h.app.close();
      await h.crawler.close();
      await schema?.drop();
      await site.close();
    });

    it('finishes done with pages only the sitemaps list, read through robots.txt, an index and a gzip sitemap', () => {
      assert.equal(job.status, 'done', JSON.stringify(job));
      assert.equal(job.counts.sitemaps, 0);
      const paths = pages.map(path);
      for (const p of SITEMAP_ONLY_PATHS) assert.ok(paths.includes(p), `${p} was crawled (only a sitemap lists it)`);
      assert.ok(!paths.some((p) => p.endsWith('.xml') || p.endsWith('.xml.gz')), 'sitemaps are not pages');
      assert.equal(site.hits('/sitemaps/products.xml.gz'), 1);
      assert.equal(site.hits('/sitemap_index.xml'), 1);
      // A URL a sitemap admits first keeps the sitemap's <lastmod>; one a link admitted first has none.
      const lastmods = new Map([...SITEMAP_PAGES, ...SITEMAP_PRODUCTS].map((p) => [p.path, p.lastmod === null ? null : Date.parse(p.lastmod)]));
      for (const p of pages) if (p.lastmod !== null) assert.equal(p.lastmod, lastmods.get(path(p)), `lastmod of ${path(p)}`);
      assert.equal(new Set(pages.map((p) => p.url)).size, pages.length, 'each URL once');
    });

    it('gives every page a content hash in the light list, and the whole record by id', async () => {
      assert.ok(pages.every((p) => p.errorCode !== null || typeof p.contentHash === 'string'));
      for (const product of PRODUCTS) {
        const listed = pages.find((p) => path(p) === `/products/${product.id}`);
        assert.ok(listed, `/products/${product.id} crawled`);
        const res = await h.app.inject({ method: 'GET', url: `/jobs/${job.id}/pages/${listed.id}` });
        assert.equal(res.statusCode, 200);
        const record = res.json();
        const e = product.expected;
        assert.deepEqual(record.data, {
          name: e.name,
          price: e.price,
          sku: e.sku,
          image: e.image === null ? null : `${site.url}${e.image}`,
          released: e.released,
          inStock: e.inStock,
          tags: e.tags,
        }, `data of product ${product.id}`);
        assert.equal(record.extraction.status, e.price === null ? 'missing_required' : 'complete');
        assert.equal(typeof record.markdown, 'string');
        assert.ok(Array.isArray(record.links));
        assert.equal(record.html, undefined, 'html was not asked for');
        assert.equal(record.metadata.lang === undefined, false);
      }
    });

    it('keeps the main content as Markdown without the boilerplate, and the metadata', async () => {
      const listed = pages.find((p) => path(p) === '/articles/owls')!;
      const record = (await h.app.inject({ method: 'GET', url: `/jobs/${job.id}/pages/${listed.id}` })).json();
      for (const sentence of ARTICLE_MAIN_TEXT) assert.ok(record.markdown.includes(sentence.slice(0, 40)), `main text kept: ${sentence.slice(0, 40)}`);
      for (const junk of ARTICLE_BOILERPLATE) assert.ok(!record.markdown.includes(junk), `boilerplate dropped: ${junk}`);
      assert.equal(record.metadata.jsonLdInvalid, 1);
      assert.equal(record.metadata.jsonLd.length, 1);
      assert.equal(typeof record.metadata.openGraph, 'object');
    });

    it('stores documents that are not HTML as results: text, JSON, XML and PDF (its text as Markdown)', async () => {
      const byPath = new Map(pages.map((p) => [path(p), p]));
      const pdf = byPath.get('/docs/manual.pdf');
      assert.ok(pdf, 'the PDF is a result');
      assert.equal(pdf.errorCode, null);
      assert.equal(pdf.contentType, 'application/pdf');
      const pdfRecord = (await h.app.inject({ method: 'GET', url: `/jobs/${job.id}/pages/${pdf.id}` })).json();
      assert.ok(pdfRecord.markdown.includes(PDF_LINES[0]!), 'the PDF text is read');
      const readme = byPath.get('/docs/readme.txt');
      assert.equal(readme?.errorCode, null);
      assert.equal(readme?.contentType, 'text/plain');
      assert.equal(await metricValue(h.crawler.metrics, 'documents_fetched_total', { kind: 'pdf' }), 1);
      assert.ok((await metricValue(h.crawler.metrics, 'content_stored_bytes_total')) > 0);
      assert.ok((await metricValue(h.crawler.metrics, 'pages_extracted_total', { outcome: 'missing_required' })) >= 2);
    });

    it('does not store the content of a noindex page (the job respects robots)', async () => {
      const noindex = pages.find((p) => path(p) === '/robots/noindex');
      if (noindex === undefined) return; // not linked from this crawl's pages
      const record = (await h.app.inject({ method: 'GET', url: `/jobs/${job.id}/pages/${noindex.id}` })).json();
      assert.equal(record.contentMissing, true);
      assert.equal(record.markdown, undefined);
    });

    it('exports every page as JSON Lines, JSON and CSV (one row per page: url, title, then each field)', async () => {
      const jsonl = await h.app.inject({ method: 'GET', url: `/jobs/${job.id}/export?format=jsonl` });
      assert.equal(jsonl.statusCode, 200);
      assert.match(String(jsonl.headers['content-disposition']), /attachment; filename=".+\.jsonl"/);
      const lines = jsonl.body.trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(lines.length, pages.length);
      const arr = (await h.app.inject({ method: 'GET', url: `/jobs/${job.id}/export?format=json` })).json();
      assert.deepEqual(arr, lines);
      const csv = await h.app.inject({ method: 'GET', url: `/jobs/${job.id}/export?format=csv` });
      assert.match(String(csv.headers['content-type']), /^text\/csv/);
      const rows = csv.body.trimEnd().split('\r\n');
      assert.equal(rows[0], ['url', 'title', ...Object.keys(DETAIL_RULES.fields)].join(','));
      assert.equal(rows.length, pages.length + 1);
      const bad = await h.app.inject({ method: 'GET', url: `/jobs/${job.id}/export?format=xlsx` });
      assert.equal(bad.statusCode, 400);
    });

    it('deletes the finished job with its pages; a page of an unknown job or id is 404', async () => {
      const missing = await h.app.inject({ method: 'GET', url: `/jobs/${job.id}/pages/999999999` });
      assert.equal(missing.statusCode, 404);
      assert.equal(missing.json().error.code, 'PAGE_NOT_FOUND');
      const del = await h.app.inject({ method: 'DELETE', url: `/jobs/${job.id}` });
      assert.equal(del.statusCode, 204);
      assert.equal((await h.app.inject({ method: 'GET', url: `/jobs/${job.id}` })).statusCode, 404);
      assert.equal((await h.app.inject({ method: 'GET', url: `/jobs/${job.id}/pages/${pages[0]!.id}` })).statusCode, 404);
    });
  });
}
