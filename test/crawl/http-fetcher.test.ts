import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { createHttpFetcher, type HttpFetcherOptions } from '../../src/crawl/http-fetcher.ts';
import { isForbiddenAddress } from '../../src/crawl/target-guard.ts';
import type { FetchRequest, Fetcher } from '../../src/crawl/types.ts';
import { isOwlError, type ErrorCode } from '../../src/errors.ts';
import { closedPort } from '../fixtures/http-fixture.ts';
import { LATIN1_PARAGRAPH, graphLinks, startFixtureSite, type FixtureSite } from '../fixtures/site-server.ts';
import { startProxyServer, type ProxyServer } from '../fixtures/proxy-server.ts';

const BASE: HttpFetcherOptions = {
  userAgent: 'owl-test/1.0 (+https://example.test/bot)',
  connectTimeoutMs: 1_000,
  headersTimeoutMs: 2_000,
  bodyTimeoutMs: 2_000,
  maxBodyBytes: 1 << 20,
  maxRedirects: 5,
};

/** Loopback is forbidden by default; this predicate lets 127.0.0.1 (the fixture) through, nothing else. */
const allowFixtureOnly = (ip: string): boolean => ip !== '127.0.0.1' && isForbiddenAddress(ip);

async function rejectsWith(p: Promise<unknown>, code: ErrorCode): Promise<Record<string, unknown>> {
  let details: Record<string, unknown> = {};
  await assert.rejects(p, (e) => {
    assert.ok(isOwlError(e), `expected OwlError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    details = e.details;
    return true;
  });
  return details;
}

describe('http fetcher', () => {
  let site: FixtureSite;
  let fetcher: Fetcher;
  let guarded: Fetcher;
  const extra: Fetcher[] = [];
  const make = (o: Partial<HttpFetcherOptions>): Fetcher => {
    const f = createHttpFetcher({ ...BASE, ...o });
    extra.push(f);
    return f;
  };
  const get = (path: string, more: Partial<FetchRequest> = {}, f: Fetcher = fetcher) => f.fetch({ url: site.url + path, allowPrivate: true, ...more });

  before(async () => {
    site = await startFixtureSite({
      pageBytes: 12_288,
      robotsTxt: 'User-agent: *\nDisallow: /private\n',
      pages: {
        '/big-declared': { headers: { 'content-length': String(2 << 20) }, body: 'x'.repeat(2 << 20) },
        '/raw-deflate': { headers: { 'content-encoding': 'deflate' }, body: zlib.deflateRawSync(Buffer.from('<p>raw deflate</p>')) },
        '/bogus-charset': { headers: { 'content-type': 'text/html; charset=x-no-such-charset' }, body: '<p>caf\u00e9</p>' },
        '/bom': { headers: { 'content-type': 'text/html; charset=iso-8859-1' }, body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<p>\u00e9t\u00e9</p>')]) },
        '/xhtml': { headers: { 'content-type': 'application/xhtml+xml' }, body: '<html xmlns="http://www.w3.org/1999/xhtml"><body>x</body></html>' },
        '/no-type': { headers: { 'content-type': '' }, body: '<p>no type</p>' },
        '/to-ftp': { status: 302, headers: { location: 'ftp://example.com/file' } },
        '/to-fragment': { status: 301, headers: { location: '/graph/2#section' } },
        '/cookies': { headers: { 'set-cookie': 'a=1' }, body: '<p>cookies</p>' },
      },
    });
    fetcher = createHttpFetcher(BASE);
    guarded = createHttpFetcher({ ...BASE, isForbiddenAddress: allowFixtureOnly });
  });
  after(async () => {
    await Promise.all([fetcher.close(), guarded.close(), ...extra.map((f) => f.close())]);
    await site.close();
  });

  describe('responses', () => {
    it('fetches an HTML page with decoded body, headers and sizes', async () => {
      const r = await get('/graph/0');
      assert.equal(r.status, 200);
      assert.equal(r.url, `${site.url}/graph/0`);
      assert.equal(r.finalUrl, `${site.url}/graph/0`);
      assert.equal(r.contentType, 'text/html');
      assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(r.redirects, 0);
      assert.equal(r.bytes, 12_288);
      assert.equal(r.body!.length, 12_288);
      for (const j of graphLinks(0, 50, 5)) assert.ok(r.body!.includes(`href="/graph/${j}"`));
      assert.ok(r.fetchMs >= 0);
    });

    it('sends the user agent, accept-encoding and extra headers', async () => {
      const r = await get('/echo', { headers: { 'Accept-Language': 'de-CH' } });
      const sent = JSON.parse(/<pre id="headers">(.*)<\/pre>/.exec(r.body!)![1]!);
      assert.equal(sent['user-agent'], BASE.userAgent);
      assert.equal(sent['accept-encoding'], 'gzip, deflate, br');
      assert.equal(sent['accept-language'], 'de-CH');
      assert.match(sent.accept, /text\/html/);
    });

    it('resolves every HTTP status as an answer', async () => {
      for (const code of [403, 404, 429, 500, 503]) assert.equal((await get(`/status/${code}`)).status, code);
      const r = await get('/status/429?retryAfter=30');
      assert.equal(r.headers['retry-after'], '30');
      assert.match(r.body!, /answered 429/);
      assert.equal((await get('/captcha/cloudflare')).headers['cf-mitigated'], 'challenge');
    });

    it('reads XHTML, skips binary types without reading them, and reads anything with accept: text', async () => {
      assert.match((await get('/xhtml')).body!, /xmlns/);
      const bin = await get('/binary');
      assert.equal(bin.contentType, 'application/octet-stream');
      assert.equal(bin.body, null);
      const png = await get('/image.png');
      assert.equal(png.contentType, 'image/png');
      assert.equal(png.body, null);
      const noType = await get('/no-type');
      assert.equal(noType.contentType, null);
      assert.equal(noType.body, null);
      const robots = await get('/robots.txt', { accept: 'text' });
      assert.equal(robots.contentType, 'text/plain');
      assert.equal(robots.body, 'User-agent: *\nDisallow: /private\n');
      assert.equal((await get('/robots.txt')).body, null);
      const plain = make({ acceptedContentTypes: ['text/plain'] });
      assert.equal((await get('/robots.txt', {}, plain)).body, 'User-agent: *\nDisallow: /private\n');
      assert.equal((await get('/graph/0', {}, plain)).body, null);
    });

    it('joins repeated headers', async () => {
      const r = await get('/cookies');
      assert.equal(typeof r.headers['set-cookie'], 'string');
    });
  });

  describe('decoding', () => {
    it('decompresses gzip, deflate (zlib and raw) and brotli; bytes are wire bytes', async () => {
      const plain = (await get('/graph/0')).body!;
      for (const enc of ['gzip', 'deflate', 'br']) {
        const r = await get(`/encoded/${enc}`);
        assert.equal(r.body, plain, enc);
        assert.ok(r.bytes < plain.length / 4, `${enc}: ${r.bytes} wire bytes for ${plain.length}`);
      }
      assert.equal((await get('/raw-deflate')).body, '<p>raw deflate</p>');
    });

    it('decodes charsets from the header, <meta charset> and http-equiv', async () => {
      for (const via of ['header', 'meta', 'http-equiv']) {
        const r = await get(`/latin1?via=${via}`);
        assert.ok(r.body!.includes(LATIN1_PARAGRAPH), `${via}: ${r.body}`);
      }
    });

    it('falls back to UTF-8 for unknown labels and honours a byte-order mark', async () => {
      assert.equal((await get('/bogus-charset')).body, '<p>caf\u00e9</p>');
      assert.equal((await get('/bom')).body, '<p>\u00e9t\u00e9</p>');
    });
  });

  describe('limits and timeouts', () => {
    it('fails a streamed body past maxBodyBytes with BODY_LIMIT and keeps working', async () => {
      const d = await rejectsWith(get('/huge'), 'BODY_LIMIT');
      assert.equal(d.url, `${site.url}/huge`);
      await rejectsWith(get('/big-declared'), 'BODY_LIMIT');
      assert.equal((await get('/huge?bytes=500000')).bytes, 500_000);
    });

    it('caps decompressed bytes: a gzip bomb fails with BODY_LIMIT', async () => {
      await rejectsWith(get('/gzip-bomb?mb=64'), 'BODY_LIMIT');
    });

    it('times out on headers, on a stalled body, on a slow whole body and on the total deadline', async () => {
      // Limits of 1 s: far below what the slow endpoints take, far above what a loaded machine adds to a quick answer.
      const quick = make({ headersTimeoutMs: 1_000, bodyTimeoutMs: 1_000 });
      await rejectsWith(get('/hang', {}, quick), 'TIMEOUT');
      await rejectsWith(get('/hang-body', {}, quick), 'TIMEOUT');
      // 10 ms between chunks never trips the per-chunk limit; 4 s of body passes the 1 s whole-body limit.
      await rejectsWith(get('/trickle?ms=10&chunks=400', {}, quick), 'TIMEOUT');
      const deadline = make({ totalTimeoutMs: 1_000 });
      await rejectsWith(get('/slow?ms=10000', {}, deadline), 'TIMEOUT');
      assert.equal((await get('/slow?ms=10', {}, quick)).status, 200);
    });

    it('aborts through the caller signal with CANCELLED', async () => {
      const ac = new AbortController();
      const p = get('/hang', { signal: ac.signal });
      setTimeout(() => ac.abort(), 20);
      await rejectsWith(p, 'CANCELLED');
      const pre = new AbortController();
      pre.abort();
      await rejectsWith(get('/graph/1', { signal: pre.signal }), 'CANCELLED');
    });
  });

  describe('redirects', () => {
    it('follows chains of every redirect status', async () => {
      for (const code of [301, 302, 303, 307, 308]) {
        const r = await get(`/redirect/chain/3?code=${code}`);
        assert.equal(r.status, 200);
        assert.equal(r.redirects, 3);
        assert.equal(r.url, `${site.url}/redirect/chain/3?code=${code}`);
        assert.equal(r.finalUrl, `${site.url}/redirect/chain/0?code=${code}`);
      }
      const frag = await get('/to-fragment');
      assert.equal(frag.finalUrl, `${site.url}/graph/2`);
    });

    it('stops loops, long chains and non-http targets', async () => {
      await rejectsWith(get('/redirect/loop'), 'REDIRECT_LOOP');
      assert.equal((await get('/redirect/chain/5')).redirects, 5);
      const d = await rejectsWith(get('/redirect/chain/6'), 'TOO_MANY_REDIRECTS');
      assert.equal(d.url, `${site.url}/redirect/chain/6`);
      await rejectsWith(get('/redirect/chain/1', {}, make({ maxRedirects: 0 })), 'TOO_MANY_REDIRECTS');
      await rejectsWith(get('/to-ftp'), 'INVALID_URL');
    });
  });

  describe('SSRF guard', () => {
    it('refuses literal private targets in any notation unless allowPrivate', async () => {
      const port = new URL(site.url).port;
      for (const host of ['127.0.0.1', '2130706433', '0177.0.0.1', '0x7f.1', '[::1]', '169.254.169.254']) {
        const d = await rejectsWith(fetcher.fetch({ url: `http://${host}:${port}/graph/0`, allowPrivate: false }), 'TARGET_FORBIDDEN');
        assert.equal(d.url, `http://${host}:${port}/graph/0`);
      }
      assert.equal((await fetcher.fetch({ url: `http://2130706433:${port}/graph/0`, allowPrivate: true })).status, 200);
    });

    it('refuses a host name that resolves to loopback at connect time', async () => {
      const url = `http://localhost:${new URL(site.url).port}/graph/0`;
      const d = await rejectsWith(fetcher.fetch({ url, allowPrivate: false }), 'TARGET_FORBIDDEN');
      assert.equal(d.url, url);
      assert.equal((await fetcher.fetch({ url, allowPrivate: true })).status, 200);
    });

    it('refuses redirects to metadata and loopback addresses', async () => {
      site.resetHits();
      const meta = `/redirect/to?url=${encodeURIComponent('http://169.254.169.254/latest/meta-data/')}`;
      const d = await rejectsWith(guarded.fetch({ url: site.url + meta, allowPrivate: false }), 'TARGET_FORBIDDEN');
      assert.equal(d.url, 'http://169.254.169.254/latest/meta-data/');
      const loop6 = `/redirect/to?url=${encodeURIComponent(`http://[::1]:${new URL(site.url).port}/graph/0`)}`;
      await rejectsWith(guarded.fetch({ url: site.url + loop6, allowPrivate: false }), 'TARGET_FORBIDDEN');
      const name = `/redirect/to?url=${encodeURIComponent('http://metadata.google.internal/computeMetadata/v1/')}`;
      await rejectsWith(guarded.fetch({ url: site.url + name, allowPrivate: false }), 'TARGET_FORBIDDEN');
      assert.equal(site.hits('/graph/0'), 0);
      const toLocalhost = `/redirect/to?url=${encodeURIComponent(`http://localhost:${new URL(site.url).port}/graph/0`)}`;
      const ok = await fetcher.fetch({ url: site.url + toLocalhost, allowPrivate: true });
      assert.equal(ok.status, 200);
      assert.equal(ok.redirects, 1);
      assert.equal(site.hits('/graph/0'), 1);
    });

    it('rejects malformed and non-http URLs with INVALID_URL', async () => {
      await rejectsWith(fetcher.fetch({ url: 'ftp://example.com/', allowPrivate: true }), 'INVALID_URL');
      await rejectsWith(fetcher.fetch({ url: 'not a url', allowPrivate: true }), 'INVALID_URL');
    });
  });

  describe('network errors', () => {
    it('maps refused and reset connections to NETWORK', async () => {
      const port = await closedPort();
      await rejectsWith(fetcher.fetch({ url: `http://127.0.0.1:${port}/`, allowPrivate: true }), 'NETWORK');
      await rejectsWith(get('/reset'), 'NETWORK');
    });

    it('maps a DNS failure to NETWORK', async () => {
      await rejectsWith(fetcher.fetch({ url: 'http://does-not-exist.invalid/', allowPrivate: false }), 'NETWORK');
    });
  });

  describe('proxies', () => {
    let proxy: ProxyServer;
    let authProxy: ProxyServer;
    before(async () => {
      proxy = await startProxyServer();
      authProxy = await startProxyServer({ auth: { username: 'owl', password: 's3cret' } });
    });
    after(async () => {
      await proxy.close();
      await authProxy.close();
    });
    const handle = (url: string) => ({ id: url.replace(/\/\/[^@]*@/, '//'), url });

    it('fetches through a proxy, which sees the request', async () => {
      const before = proxy.requests();
      const r = await get('/graph/3', { proxy: handle(proxy.url) });
      assert.equal(r.status, 200);
      assert.ok(r.body!.includes('Graph page 3'));
      assert.ok(proxy.requests() > before);
      const authed = await get('/graph/4', { proxy: handle(authProxy.url) });
      assert.equal(authed.status, 200);
    });

    it('resolves the target itself and refuses forbidden hosts before reaching the proxy', async () => {
      const before = proxy.requests();
      const url = `http://localhost:${new URL(site.url).port}/graph/0`;
      await rejectsWith(fetcher.fetch({ url, allowPrivate: false, proxy: handle(proxy.url) }), 'TARGET_FORBIDDEN');
      assert.equal(proxy.requests(), before);
    });

    it('reports proxy failures as PROXY and blocks as answers', async () => {
      const badAuth = authProxy.url.replace('s3cret', 'wrong');
      await rejectsWith(get('/graph/0', { proxy: handle(badAuth) }), 'PROXY');
      proxy.setMode('refuse');
      await rejectsWith(get('/graph/0', { proxy: handle(proxy.url) }), 'PROXY');
      proxy.setMode('block403');
      assert.equal((await get('/graph/0', { proxy: handle(proxy.url) })).status, 403);
      proxy.setMode('ok');
      const dead = `http://127.0.0.1:${await closedPort()}`;
      await rejectsWith(get('/graph/0', { proxy: handle(dead) }), 'PROXY');
    });

    it('ends a fetch through a proxy that closes CONNECTs unanswered, and stops the CONNECT loop', { timeout: 10_000 }, async () => {
      // undici 7's ProxyAgent re-sends the CONNECT forever and ignores the abort (nodejs/undici#3897).
      const hangup = await startProxyServer({ mode: 'hangup' });
      try {
        const f = make({ totalTimeoutMs: 300 });
        const url = `https://127.0.0.1:${new URL(site.url).port}/graph/0`;
        await assert.rejects(f.fetch({ url, allowPrivate: true, proxy: handle(hangup.url) }), (e) => {
          assert.ok(isOwlError(e) && (e.code === 'TIMEOUT' || e.code === 'PROXY'), `expected TIMEOUT or PROXY, got ${String(e)}`);
          return true;
        });
        assert.ok(hangup.requests() > 0);
        await new Promise((r) => setTimeout(r, 50));
        const settled = hangup.requests();
        await new Promise((r) => setTimeout(r, 250));
        assert.equal(hangup.requests(), settled, 'the proxy still receives CONNECTs after the fetch ended');
        hangup.setMode('ok');
        // The stuck agent was dropped: a plain http fetch through the same proxy works again.
        assert.equal((await get('/graph/1', { proxy: handle(hangup.url) }, f)).status, 200);
      } finally {
        await hangup.close();
      }
    });
  });

  describe('lifecycle and speed', () => {
    it('refuses fetches after close()', async () => {
      const f = createHttpFetcher(BASE);
      assert.equal((await get('/graph/0', {}, f)).status, 200);
      await f.close();
      await rejectsWith(get('/graph/0', {}, f), 'NETWORK');
    });

    it('prints pages/s for 5,000 fetches of a 12 KB page at concurrency 32', async () => {
      const f = make({ connectionsPerOrigin: 32 });
      const total = 5_000;
      let next = 0;
      let bytes = 0;
      const worker = async (): Promise<void> => {
        while (next < total) {
          const i = next++;
          const r = await f.fetch({ url: `${site.url}/graph/${i % 50}`, allowPrivate: true });
          bytes += r.body!.length;
        }
      };
      const t0 = performance.now();
      await Promise.all(Array.from({ length: 32 }, worker));
      const s = (performance.now() - t0) / 1000;
      assert.equal(bytes, total * 12_288);
      console.log(`# http fetcher: ${total} pages of 12 KB at concurrency 32 in ${s.toFixed(2)} s = ${Math.round(total / s)} pages/s`);
    });
  });
});
