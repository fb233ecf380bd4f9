/**
 * Sitemaps: discovery from robots.txt, an index with a gzip sitemap fetched over HTTP, the
 * protocol's limits, billion laughs, and a 60 MB sitemap refused while streaming.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';
import zlib from 'node:zlib';
import { createHttpFetcher } from '../../src/crawl/http-fetcher.ts';
import { createRobotsCache } from '../../src/crawl/robots.ts';
import type { Fetcher } from '../../src/crawl/types.ts';
import { SITEMAP_LIMITS, SitemapError, parseSitemap, sitemapCandidates, type SitemapResult } from '../../src/scrape/sitemap.ts';
import { SITEMAP_ONLY_PATHS, SITEMAP_PAGES, SITEMAP_PRODUCTS, hugeSitemapChunks, startCatalogueSite, type CatalogueSite } from '../fixtures/scrape/catalogue.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Live (collected) heap plus array buffers, in bytes. */
function liveBytes(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

async function refused(p: Promise<SitemapResult>, code: SitemapError['code']): Promise<SitemapError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof SitemapError, `expected a SitemapError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`the sitemap was accepted, expected ${code}`);
}

describe('sitemaps on the catalogue fixture', () => {
  let site: CatalogueSite;
  let fetcher: Fetcher;
  const fetchBytes = async (url: string): Promise<Buffer> => {
    const res = await fetcher.fetch({ url, allowPrivate: true, accept: 'bytes', maxBodyBytes: SITEMAP_LIMITS.maxBytes });
    assert.equal(res.status, 200, url);
    return res.raw!;
  };

  before(async () => {
    site = await startCatalogueSite();
    fetcher = createHttpFetcher({ userAgent: 'owl-test/1.0', connectTimeoutMs: 2000, headersTimeoutMs: 5000, bodyTimeoutMs: 20000, maxBodyBytes: 1 << 20, maxRedirects: 5 });
  });
  after(async () => {
    await fetcher.close();
    await site.close();
  });

  it('discovers the index from robots.txt, follows it, reads the gzip sitemap, keeps lastmod', async () => {
    const robots = createRobotsCache({ fetcher, userAgent: 'owl-test/1.0' });
    const fromRobots = await robots.sitemaps(`${site.url}/anything`, { allowPrivate: true });
    assert.deepEqual(fromRobots, [`${site.url}/sitemap_index.xml`]);
    const candidates = sitemapCandidates(site.url, fromRobots);
    assert.deepEqual(candidates, [`${site.url}/sitemap_index.xml`, `${site.url}/sitemap.xml`]);

    const index = await parseSitemap(await fetchBytes(candidates[0]!), { url: candidates[0] });
    assert.equal(index.kind, 'sitemapindex');
    assert.deepEqual(index.sitemaps, [`${site.url}/sitemaps/products.xml.gz`, `${site.url}/sitemaps/pages.xml`]);
    assert.deepEqual(index.sitemapLastmod, ['2024-06-01', null]);
    assert.deepEqual(index.urls, []);

    const products = await parseSitemap(await fetchBytes(index.sitemaps[0]!));
    assert.deepEqual(products.urls, SITEMAP_PRODUCTS.map((p) => ({ url: site.url + p.path, lastmod: p.lastmod })));
    const pages = await parseSitemap(await fetchBytes(index.sitemaps[1]!));
    assert.deepEqual(pages.urls, SITEMAP_PAGES.map((p) => ({ url: site.url + p.path, lastmod: p.lastmod })));
    // Pages no link reaches are listed.
    for (const path of SITEMAP_ONLY_PATHS) assert.ok(pages.urls.some((u) => u.url === site.url + path));
    assert.equal(site.hits('/robots.txt'), 1);
  });

  it('refuses a billion-laughs sitemap at once, without expanding anything', async () => {
    const before = process.memoryUsage().heapUsed;
    const err = await refused(parseSitemap(await fetchBytes(`${site.url}/sitemap-bomb.xml`)), 'entity_declaration');
    assert.match(err.message, /declares XML entities/);
    assert.ok(process.memoryUsage().heapUsed - before < 50 << 20);
  });

  it('refuses a 60 MB sitemap streamed over HTTP at the 50 MB limit, without holding it', async () => {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(`${site.url}/sitemap-huge.xml`, resolve).on('error', reject));
    let received = 0;
    let peak = 0;
    let nextSample = 5 << 20;
    const baseline = liveBytes();
    async function* counted(): AsyncGenerator<Buffer> {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        received += chunk.length;
        if (received >= nextSample) {
          // Every 5 MB: what is still held after a collection (the parser's state and the URLs kept).
          peak = Math.max(peak, liveBytes() - baseline);
          nextSample += 5 << 20;
        }
        yield chunk;
      }
    }
    const err = await refused(parseSitemap(counted(), { url: 'huge' }), 'too_large');
    res.destroy();
    assert.match(err.message, /exceeds 50000000 bytes uncompressed .* refused/);
    assert.ok(received > SITEMAP_LIMITS.maxBytes && received < SITEMAP_LIMITS.maxBytes + (4 << 20), `read ${received} bytes`);
    // Memory stayed far below the 50 MB read: the URLs are kept, the text is never held whole.
    assert.ok(peak > 0 && peak < 25 << 20, `live memory grew by up to ${peak} bytes`);
  });

  it('counts the limit after inflation for gzip input', async () => {
    const gz = zlib.gzipSync(Buffer.concat(Array.from(hugeSitemapChunks('https://a.example', 3_000_000))));
    assert.ok(gz.length < 1_000_000);
    await refused(parseSitemap(gz, { maxBytes: 2_000_000 }), 'too_large');
    const ok = await parseSitemap(gz, { maxBytes: 4_000_000 });
    assert.ok(ok.urls.length > 2000);
  });
});

describe('parseSitemap', () => {
  const urlset = (n: number): string =>
    `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${Array.from({ length: n }, (_, i) => `<url><loc>https://a.example/p/${i}</loc></url>`).join('')}</urlset>`;

  it('keeps the first 50,000 URLs and says it was limited', async () => {
    const r = await parseSitemap(urlset(50_010));
    assert.equal(r.urls.length, 50_000);
    assert.equal(r.limited, true);
    assert.equal(r.urls[49_999]!.url, 'https://a.example/p/49999');
    assert.equal((await parseSitemap(urlset(50_000))).limited, false);
  });

  it('keeps absolute http(s) locations only, trimmed, fragment dropped, CDATA read', async () => {
    const r = await parseSitemap(
      `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>\n  https://a.example/x#frag  </loc><lastmod> 2024-01-02 </lastmod></url>` +
        `<url><loc>/relative</loc></url><url><loc>ftp://a.example/f</loc></url><url><loc><![CDATA[https://a.example/c?a=1&b=2]]></loc></url>` +
        `<url><loc>https://a.example/e?a=1&amp;b=2</loc></url><url><loc>https://a.example/${'x'.repeat(3000)}</loc></url></urlset>`,
    );
    assert.deepEqual(r.urls, [
      { url: 'https://a.example/x', lastmod: '2024-01-02' },
      { url: 'https://a.example/c?a=1&b=2', lastmod: null },
      { url: 'https://a.example/e?a=1&b=2', lastmod: null },
    ]);
    assert.equal(r.skipped, 3);
  });

  it('reads namespace-prefixed sitemaps and text sitemaps', async () => {
    const prefixed = await parseSitemap('<s:urlset xmlns:s="http://www.sitemaps.org/schemas/sitemap/0.9"><s:url><s:loc>https://a.example/1</s:loc></s:url></s:urlset>');
    assert.deepEqual(prefixed.urls, [{ url: 'https://a.example/1', lastmod: null }]);
    const text = await parseSitemap('\uFEFFhttps://a.example/1\r\nhttps://a.example/2\n\nnot a url\n');
    assert.equal(text.kind, 'text');
    assert.deepEqual(text.urls.map((u) => u.url), ['https://a.example/1', 'https://a.example/2']);
    assert.equal(text.skipped, 1);
  });

  it('streams: a document split in arbitrary chunks reads the same', async () => {
    const doc = Buffer.from(urlset(300));
    const chunks: Buffer[] = [];
    for (let i = 0; i < doc.length; i += 7) chunks.push(doc.subarray(i, i + 7));
    assert.deepEqual(await parseSitemap(chunks), await parseSitemap(doc));
  });

  it('refuses what is not a sitemap with a clear error', async () => {
    await refused(parseSitemap('<html><body>hi</body></html>'), 'not_a_sitemap');
    await refused(parseSitemap('<urlset><url><loc>https://a.example/</loc></url>'), 'invalid_xml');
    await refused(parseSitemap('<urlset><url><loc>&undefined;</loc></url></urlset>'), 'invalid_xml');
    await refused(parseSitemap(''), 'not_a_sitemap');
    await refused(parseSitemap(Buffer.from([0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])), 'gzip');
  });

  it('sitemapCandidates: robots.txt entries first, then /sitemap.xml, de-duplicated', () => {
    assert.deepEqual(sitemapCandidates('https://a.example', ['https://a.example/sitemap.xml', 'https://cdn.example/s.xml', 'nonsense']), [
      'https://a.example/sitemap.xml',
      'https://cdn.example/s.xml',
    ]);
  });
});
