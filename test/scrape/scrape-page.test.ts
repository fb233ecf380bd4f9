/**
 * scrapePage on the catalogue fixture, fetched over HTTP by the real fetcher in 'documents'
 * mode: every rule type on detail and listing pages, charsets, metadata, main content, robots
 * meta, nofollow, non-HTML documents, the content cap and the content hash.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHttpFetcher } from '../../src/crawl/http-fetcher.ts';
import { extractPage } from '../../src/crawl/links.ts';
import type { Fetcher } from '../../src/crawl/types.ts';
import { linksToFollow, scrapePage, type PageContent } from '../../src/scrape/index.ts';
import { metadataJson } from '../../src/scrape/metadata.ts';
import { compileScrapeOptions, validateScrapeOptions, type CompiledScrape } from '../../src/scrape/options.ts';
import { storedContentJson } from '../../src/scrape/record.ts';
import {
  ARTICLE_BOILERPLATE,
  ARTICLE_JSON_LD,
  ARTICLE_MAIN_TEXT,
  DETAIL_RULES,
  LISTING_ITEMS,
  LISTING_RULES,
  PDF_LINES,
  PDF_TITLE,
  PRODUCTS,
  PRODUCTS_JSON,
  README_TEXT,
  startCatalogueSite,
  type CatalogueSite,
} from '../fixtures/scrape/catalogue.ts';

const LIMITS = { maxContentBytes: 1 << 20 };

/**
 * The record the crawl stores is written field by field (metadataJson, storedContentJson): for
 * every page this file scrapes, it must be exactly JSON.stringify of the stored fields.
 */
function assertStoredJson(page: PageContent): void {
  assert.equal(metadataJson(page.metadata), JSON.stringify(page.metadata));
  const { metadata, data, items, markdown, text, html, links, truncated, extraction } = page;
  assert.equal(storedContentJson(page), JSON.stringify({ metadata, data, items, markdown, text, html, links, truncated, extraction }));
}

function job(body: Record<string, unknown>): CompiledScrape {
  return compileScrapeOptions(validateScrapeOptions(body));
}

describe('scrapePage on the catalogue fixture', () => {
  let site: CatalogueSite;
  let fetcher: Fetcher;

  const scrape = async (path: string, compiled: CompiledScrape, limits = LIMITS): Promise<PageContent> => {
    const res = await fetcher.fetch({ url: site.url + path, allowPrivate: true, accept: 'documents' });
    assert.equal(res.status, 200, path);
    const scanned = res.body !== null && res.contentType === 'text/html' ? extractPage(res.body, res.finalUrl, { metadata: true }) : undefined;
    const page = await scrapePage({ finalUrl: res.finalUrl, contentType: res.contentType, body: res.body, raw: res.raw, scanned, headers: res.headers }, compiled, limits);
    assertStoredJson(page);
    return page;
  };

  before(async () => {
    site = await startCatalogueSite();
    fetcher = createHttpFetcher({ userAgent: 'owl-test/1.0', connectTimeoutMs: 2000, headersTimeoutMs: 5000, bodyTimeoutMs: 5000, maxBodyBytes: 5 << 20, maxRedirects: 5 });
  });
  after(async () => {
    await fetcher.close();
    await site.close();
  });

  describe('detail pages: every type, charsets, <base href>, missing and malformed values', () => {
    const compiled = job({ extract: DETAIL_RULES });
    for (const p of PRODUCTS) {
      it(`product ${p.id} (${p.charset})`, async () => {
        const page = await scrape(`/products/${p.id}`, compiled);
        const e = p.expected;
        assert.deepEqual(page.data, { ...e, image: e.image === null ? null : site.url + e.image });
        const missing = e.price === null;
        assert.equal(page.extraction?.status, missing ? 'missing_required' : 'complete');
        assert.deepEqual(page.extraction?.missingRequired, missing ? ['price'] : []);
        assert.equal(page.metadata.title !== null, true);
      });
    }

    it('counts why values are null', async () => {
      const plush = await scrape('/products/3', compiled);
      assert.deepEqual(plush.extraction?.nulls, { invalid_number: 1, invalid_date: 1 });
      const mystery = await scrape('/products/4', compiled);
      assert.deepEqual(mystery.extraction?.nulls, { no_match: 5 });
    });
  });

  describe('listing pages: items', () => {
    const compiled = job({ extract: LISTING_RULES });
    for (const n of [1, 2] as const) {
      it(`page ${n}${n === 2 ? ' (with <base href>)' : ''}`, async () => {
        const page = await scrape(`/products?page=${n}`, compiled);
        assert.deepEqual(page.data, { heading: 'Products' });
        assert.deepEqual(page.items, LISTING_ITEMS[n].map((it) => ({ ...it, url: site.url + it.url })));
        assert.equal(page.extraction?.status, 'complete');
      });
    }
  });

  describe('the article: metadata and main content', () => {
    it('reads every metadata field', async () => {
      const page = await scrape('/articles/owls', job({}));
      const m = page.metadata;
      assert.equal(m.title, 'All about owls – Owl Shop');
      assert.equal(m.description, 'Everything about owls.');
      assert.equal(m.lang, 'en');
      assert.equal(m.canonical, `${site.url}/articles/owls?utm_source=feed`);
      assert.equal(m.siteName, 'Owl Shop');
      assert.equal(m.author, 'Ada Owl');
      assert.equal(m.publishedTime, '2024-05-01T08:00:00Z');
      assert.deepEqual(m.openGraph, {
        title: 'All about owls',
        type: 'article',
        image: [`${site.url}/img/owl-1.jpg`, `${site.url}/img/owl-2.jpg`],
        site_name: 'Owl Shop',
        'article:published_time': '2024-05-01T08:00:00Z',
      });
      assert.deepEqual(m.twitter, { card: 'summary_large_image', site: '@owlshop' });
      assert.deepEqual(m.jsonLd, [ARTICLE_JSON_LD]);
      assert.equal(m.jsonLdInvalid, 1);
      assert.deepEqual(m.robots, { content: null, noindex: false, nofollow: false });
      // Only what the formats ask for.
      for (const absent of ['links', 'text', 'markdown', 'html', 'data', 'items'] as const) assert.equal(page[absent], undefined, absent);
      assert.equal(page.extraction, null);
      assert.match(page.contentHash, /^[0-9a-f]{64}$/);
    });

    it('gives the main content as text and Markdown, boilerplate removed, links absolute', async () => {
      const page = await scrape('/articles/owls', job({ formats: ['text', 'markdown', 'links', 'html'] }));
      for (const sentence of ARTICLE_MAIN_TEXT) {
        assert.ok(page.text!.includes(sentence), `text misses: ${sentence}`);
        assert.ok(page.markdown!.includes(sentence), `markdown misses: ${sentence}`);
      }
      for (const junk of ARTICLE_BOILERPLATE) {
        assert.ok(!page.text!.includes(junk), `text keeps boilerplate: ${junk}`);
        assert.ok(!page.markdown!.includes(junk), `markdown keeps boilerplate: ${junk}`);
      }
      assert.ok(!page.text!.includes('changed'), 'script text leaked');
      assert.match(page.markdown!, /\| Species \| Wingspan \|\n\| --- \| --- \|\n\| Barn owl \| 95 cm \|/);
      assert.ok(page.markdown!.includes(`[owl products](${site.url}/products?page=1&utm_campaign=x)`), page.markdown);
      assert.ok(page.markdown!.includes(`![an owl](${site.url}/img/owl-1.jpg)`));
      assert.ok(page.links!.includes(`${site.url}/products/1`));
      assert.ok(page.html!.startsWith('<!doctype html>'));
    });

    it('with onlyMainContent false gives the whole body', async () => {
      const page = await scrape('/articles/owls', job({ formats: ['text'], onlyMainContent: false }));
      assert.ok(page.text!.includes('Related products sidebar'));
      assert.ok(page.text!.includes(ARTICLE_MAIN_TEXT[0]!));
      assert.ok(!page.text!.includes('document.title'), 'scripts are never text');
    });

    it('keeps the content hash when only the footer clock changes, and changes it with the text', async () => {
      const compiled = job({ formats: ['markdown'] });
      const a = await scrape('/articles/owls', compiled);
      await new Promise((r) => setTimeout(r, 5));
      const b = await scrape('/articles/owls', compiled);
      assert.equal(a.contentHash, b.contentHash);
      const other = await scrape('/products/1', compiled);
      assert.notEqual(a.contentHash, other.contentHash);
    });
  });

  describe('robots meta and rel=nofollow', () => {
    it('reports noindex and nofollow', async () => {
      const noindex = await scrape('/robots/noindex', job({}));
      assert.deepEqual(noindex.metadata.robots, { content: 'noindex', noindex: true, nofollow: false });
      const nofollow = await scrape('/robots/nofollow', job({}));
      assert.deepEqual(nofollow.metadata.robots, { content: 'NoFollow, noarchive', noindex: false, nofollow: true });
    });

    it('follows no link of a nofollow page, and no rel=nofollow link, when the job respects robots', async () => {
      const get = async (path: string) => {
        const res = await fetcher.fetch({ url: site.url + path, allowPrivate: true });
        const scanned = extractPage(res.body!, res.finalUrl, { metadata: true });
        const page = await scrapePage({ finalUrl: res.finalUrl, contentType: res.contentType, body: res.body, scanned }, job({}), LIMITS);
        return { scanned, page };
      };
      const n = await get('/robots/nofollow');
      assert.deepEqual(linksToFollow(n.scanned, n.page.metadata, true), []);
      assert.equal(linksToFollow(n.scanned, n.page.metadata, false).length, 2);
      const r = await get('/robots/rel-nofollow');
      assert.deepEqual(r.scanned.nofollow, [`${site.url}/products/1`]);
      assert.deepEqual(linksToFollow(r.scanned, r.page.metadata, true), [`${site.url}/products/2`, `${site.url}/products/3`]);
    });

    it('reads X-Robots-Tag directives meant for every crawler', async () => {
      const html = '<html><head><title>t</title></head></html>';
      const page = await scrapePage({ finalUrl: 'https://a.example/', contentType: 'text/html', body: html, headers: { 'x-robots-tag': 'otherbot: nofollow, noindex' } }, job({}), LIMITS);
      assert.deepEqual(page.metadata.robots, { content: null, noindex: true, nofollow: false });
    });
  });

  describe('documents that are not HTML', () => {
    const compiled = job({ formats: ['text', 'markdown'], extract: DETAIL_RULES });

    it('text/plain: text and markdown', async () => {
      const page = await scrape('/docs/readme.txt', compiled);
      assert.equal(page.kind, 'text');
      assert.equal(page.contentType, 'text/plain');
      assert.equal(page.text, README_TEXT.trimEnd());
      assert.equal(page.markdown, README_TEXT.trimEnd());
      assert.equal(page.extraction, null);
    });

    it('JSON: parsed into data', async () => {
      const page = await scrape('/api/products.json', compiled);
      assert.equal(page.kind, 'json');
      assert.deepEqual(page.data, PRODUCTS_JSON);
      assert.ok(page.markdown!.startsWith('```json\n'));
    });

    it('XML: as text', async () => {
      const page = await scrape('/feed.xml', compiled);
      assert.equal(page.kind, 'xml');
      assert.ok(page.text!.includes('<title>New mugs</title>'));
    });

    it('PDF: its text through unpdf, its title in the metadata', async () => {
      const page = await scrape('/docs/manual.pdf', compiled);
      assert.equal(page.kind, 'pdf');
      for (const line of PDF_LINES) assert.ok(page.text!.includes(line), page.text);
      assert.equal(page.metadata.title, PDF_TITLE);
      assert.equal(page.warnings, undefined);
    });

    it('PDF without text formats: not parsed, hashed by its bytes', async () => {
      const page = await scrape('/docs/manual.pdf', job({}));
      assert.equal(page.text, undefined);
      assert.equal(page.metadata.title, null);
      assert.match(page.contentHash, /^[0-9a-f]{64}$/);
    });

    it('a broken PDF or JSON is a warning, not a failure', async () => {
      const pdf = await scrapePage({ finalUrl: 'https://a.example/x.pdf', contentType: 'application/pdf', body: null, raw: Buffer.from('%PDF-1.4 garbage') }, compiled, LIMITS);
      assert.deepEqual(pdf.warnings, ['pdf_unreadable']);
      const json = await scrapePage({ finalUrl: 'https://a.example/x.json', contentType: 'application/json', body: '{"a":' }, compiled, LIMITS);
      assert.deepEqual(json.warnings, ['json_invalid']);
      assert.equal(json.data, null);
    });
  });

  describe('the content cap', () => {
    it('cuts each field to the cap and names it in truncated', async () => {
      const compiled = job({ formats: ['text', 'markdown', 'html', 'links'], extract: LISTING_RULES });
      const page = await scrape('/articles/owls', compiled, { maxContentBytes: 120 });
      for (const f of ['text', 'markdown', 'html'] as const) assert.ok(Buffer.byteLength(page[f]!) <= 120, f);
      assert.ok(JSON.stringify(page.links).length <= 120);
      assert.ok(JSON.stringify(page.metadata.jsonLd).length <= 120);
      assert.deepEqual(page.truncated.sort(), ['html', 'links', 'markdown', 'metadata.jsonLd', 'text'].sort());
      const full = await scrape('/articles/owls', compiled);
      assert.deepEqual(full.truncated, []);
      assert.equal(page.contentHash, full.contentHash, 'the hash reads the content before the cap');
    });

    it('cuts multi-byte text at a character boundary', async () => {
      const page = await scrape('/products/6', job({ formats: ['html'] }), { maxContentBytes: 101 });
      assert.ok(!page.html!.includes('\ufffd'));
      assert.ok(Buffer.byteLength(page.html!) <= 101);
    });
  });

  it('reports a throwing extraction as failed, not as an exception', async () => {
    const compiled = job({ extract: { fields: { a: 'h1' } } });
    const broken: CompiledScrape = { ...compiled, extract: { ...compiled.extract!, fields: [{ ...compiled.extract!.fields[0]!, query: () => { throw new Error('engine broke'); } } as never] } };
    const page = await scrapePage({ finalUrl: 'https://a.example/', contentType: 'text/html', body: '<h1>x</h1>' }, broken, LIMITS);
    assert.equal(page.extraction?.status, 'failed');
    assert.match(page.extraction?.error ?? '', /engine broke/);
  });
});
