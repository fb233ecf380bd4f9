/** The fetcher's accept modes for scraping: 'documents' (HTML, text, JSON, XML, PDF) and 'bytes' (sitemaps). */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { createHttpFetcher } from '../../src/crawl/http-fetcher.ts';
import type { FetchRequest, Fetcher } from '../../src/crawl/types.ts';
import { isOwlError } from '../../src/errors.ts';
import { makePdf } from '../fixtures/scrape/pdf.ts';
import { startFixtureSite, type FixtureSite } from '../fixtures/site-server.ts';

const PDF = makePdf(['Hello'], 'T');
const GZ = zlib.gzipSync(Buffer.from('<urlset></urlset>'));

describe('fetcher accept modes', () => {
  let site: FixtureSite;
  let fetcher: Fetcher;
  const get = (path: string, more: Partial<FetchRequest> = {}) => fetcher.fetch({ url: site.url + path, allowPrivate: true, ...more });

  before(async () => {
    site = await startFixtureSite({
      pages: {
        '/doc.txt': { headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'plain café' },
        '/data.json': { headers: { 'content-type': 'application/json' }, body: '{"a":"é"}' },
        '/ld.json': { headers: { 'content-type': 'application/ld+json' }, body: '{"@type":"Thing"}' },
        '/latin.xml': { headers: { 'content-type': 'application/xml' }, body: Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><r>café</r>', 'latin1') },
        '/doc.pdf': { headers: { 'content-type': 'application/pdf' }, body: PDF },
        '/s.xml.gz': { headers: { 'content-type': 'application/x-gzip' }, body: GZ },
        '/deflated.txt': { headers: { 'content-type': 'text/plain', 'content-encoding': 'deflate' }, body: zlib.deflateSync(Buffer.from('inflated text')) },
      },
    });
    fetcher = createHttpFetcher({ userAgent: 'owl-test/1.0', connectTimeoutMs: 2000, headersTimeoutMs: 5000, bodyTimeoutMs: 5000, maxBodyBytes: 1 << 20, maxRedirects: 5 });
  });
  after(async () => {
    await fetcher.close();
    await site.close();
  });

  it("'html' (the default) still drains everything that is not HTML", async () => {
    for (const path of ['/doc.txt', '/data.json', '/doc.pdf']) {
      const res = await get(path);
      assert.equal(res.body, null, path);
      assert.equal(res.raw, undefined, path);
    }
    assert.ok((await get('/graph/0')).body?.includes('Graph page 0'));
  });

  it("'documents' decodes text, JSON and XML (XML declaration's encoding honoured)", async () => {
    assert.equal((await get('/doc.txt', { accept: 'documents' })).body, 'plain café');
    assert.equal((await get('/data.json', { accept: 'documents' })).body, '{"a":"é"}');
    assert.equal((await get('/ld.json', { accept: 'documents' })).body, '{"@type":"Thing"}');
    assert.equal((await get('/latin.xml', { accept: 'documents' })).body, '<?xml version="1.0" encoding="ISO-8859-1"?><r>café</r>');
    assert.equal((await get('/deflated.txt', { accept: 'documents' })).body, 'inflated text');
    const html = await get('/latin1?via=meta', { accept: 'documents' });
    assert.ok(html.body?.includes('café naïve'), 'HTML keeps its <meta charset> sniffing');
  });

  it("'documents' gives PDF as bytes and still drains other binaries", async () => {
    const pdf = await get('/doc.pdf', { accept: 'documents' });
    assert.equal(pdf.body, null);
    assert.deepEqual(pdf.raw, PDF);
    const png = await get('/image.png', { accept: 'documents' });
    assert.equal(png.body, null);
    assert.equal(png.raw, undefined);
  });

  it("'bytes' reads any body undecoded (a gzip sitemap)", async () => {
    const res = await get('/s.xml.gz', { accept: 'bytes' });
    assert.deepEqual(res.raw, GZ);
    assert.equal(res.body, null);
  });

  it('a per-request maxBodyBytes overrides the fetcher cap, both ways', async () => {
    await assert.rejects(get('/sized/4096', { maxBodyBytes: 1000 }), (err: unknown) => isOwlError(err, 'BODY_LIMIT'));
    const small = createHttpFetcher({ userAgent: 'owl-test/1.0', connectTimeoutMs: 2000, headersTimeoutMs: 5000, bodyTimeoutMs: 5000, maxBodyBytes: 1000, maxRedirects: 5 });
    try {
      const res = await small.fetch({ url: `${site.url}/sized/4096`, allowPrivate: true, maxBodyBytes: 8192 });
      assert.equal(res.body?.length, 4096);
    } finally {
      await small.close();
    }
  });
});
